// Passkeys (WebAuthn) need the browser's navigator.credentials, so only
// this script can make or use one. Without it, or in a browser without
// passkeys, the buttons that start one stay hidden ([data-passkey-start]
// has the hidden attribute) and the pages say what else to do.
//
// A ceremony page carries the server's options as JSON in
// <script type="application/json" id="passkey-options"> and a form
// [data-passkey="create" or "get"] with a hidden "credential" input. The
// script asks the browser, puts its answer (as JSON) in the input and
// sends the form, a normal POST with the page's form token.

export function initPasskeys (doc = document) {
  const supported = typeof window.PublicKeyCredential === 'function' &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function'
  if (!supported) return
  for (const el of doc.querySelectorAll('[data-passkey-start]')) el.hidden = false
  for (const el of doc.querySelectorAll('[data-passkey-unsupported]')) el.hidden = true

  const form = doc.querySelector('form[data-passkey]')
  const options = doc.getElementById('passkey-options')
  if (!form || !options) return
  const problem = doc.getElementById('passkey-problem')
  const retry = doc.getElementById('passkey-retry')
  const run = async () => {
    if (problem) problem.hidden = true
    try {
      // The page's template writes the JSON as a string literal.
      let publicKey = JSON.parse(options.textContent)
      if (typeof publicKey === 'string') publicKey = JSON.parse(publicKey)
      const credential = form.dataset.passkey === 'create'
        ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(publicKey) })
        : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey) })
      form.elements.credential.value = JSON.stringify(credential.toJSON())
      form.submit()
    } catch (err) {
      // Cancelled, timed out, or no passkey here: say so and offer again.
      if (problem) {
        problem.hidden = false
        problem.focus()
      }
    }
  }
  if (retry) retry.addEventListener('click', run)
  run()
}
