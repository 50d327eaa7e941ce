// Offers "Stay signed in" shortly before an idle session ends, so that
// nobody loses what they are typing. The page says when the session ends
// without this script too (the "session-timeout" partial); the script only
// adds the prompt. Staying signed in posts to /session/extend with the
// page's form token and takes the token it answers with.

export function initSessionTimeout (doc = document) {
  const notice = doc.getElementById('session-timeout')
  const dialog = doc.getElementById('session-timeout-dialog')
  if (!notice || !dialog || typeof dialog.showModal !== 'function') return

  const warning = dialog.querySelector('[data-state="warning"]')
  const ended = dialog.querySelector('[data-state="ended"]')
  const error = doc.getElementById('session-timeout-error')
  const stay = doc.getElementById('session-timeout-stay')
  const close = doc.getElementById('session-timeout-close')
  let endTimer, returnFocus, hasEnded = false

  const schedule = (remaining, warn) => {
    clearTimeout(endTimer)
    const deadline = Date.now() + remaining * 1000
    const check = () => {
      const left = deadline - Date.now()
      if (left <= 0) return end()
      if (left <= warn * 1000) open()
      endTimer = setTimeout(check, Math.min(left, Math.max(left - warn * 1000, 250)))
    }
    check()
  }

  const open = () => {
    if (dialog.open) return
    returnFocus = doc.activeElement
    dialog.setAttribute('aria-labelledby', 'session-timeout-title')
    dialog.setAttribute('aria-describedby', 'session-timeout-text')
    warning.hidden = false
    ended.hidden = true
    error.hidden = true
    dialog.showModal()
    stay.focus()
  }

  const shut = () => {
    if (dialog.open) dialog.close()
    if (returnFocus && typeof returnFocus.focus === 'function') returnFocus.focus()
  }

  const end = () => {
    hasEnded = true
    clearTimeout(endTimer)
    if (!dialog.open) {
      returnFocus = doc.activeElement
      dialog.showModal()
    }
    dialog.setAttribute('aria-labelledby', 'session-timeout-ended-title')
    dialog.removeAttribute('aria-describedby')
    warning.hidden = true
    error.hidden = true
    ended.hidden = false
    doc.getElementById('session-timeout-ended-title').focus()
  }

  const token = () => {
    const input = doc.querySelector('input[name="csrf_token"]')
    return input ? input.value : ''
  }

  const extend = async () => {
    if (hasEnded) return shut()
    stay.disabled = true
    try {
      const response = await fetch('/session/extend', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf_token: token() })
      })
      if (response.status === 401) return end()
      if (!response.ok) throw new Error('status ' + response.status)
      const body = await response.json()
      for (const input of doc.querySelectorAll('input[name="csrf_token"]')) input.value = body.csrf_token
      for (const span of doc.querySelectorAll('.psims-session-timeout__ends')) span.textContent = body.ends
      shut()
      schedule(body.remaining, body.warn)
    } catch {
      error.hidden = false
    } finally {
      stay.disabled = false
    }
  }

  stay.addEventListener('click', extend)
  close.addEventListener('click', shut)
  // Escape means "not now, I am still here": the same as staying.
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    extend()
  })
  schedule(Number(notice.dataset.remaining), Number(notice.dataset.warn))
}
