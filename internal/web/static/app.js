// Starts the NHS.UK frontend components. Pages work without it: it only adds
// behaviour such as focusing the error summary and the header menu.
//
// The NHS.UK page template sets these classes with an inline script, which our
// Content-Security-Policy forbids. Only browsers that run module scripts get
// here, which is the test "nhsuk-frontend-supported" stands for.
import { initAll } from './vendor/nhsuk-frontend.min.js'
import { initSessionTimeout } from './session-timeout.js'
import { initPasskeys } from './passkey.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
initSessionTimeout()
initPasskeys()

// Conditional reveals on radios ("psims-reveal"): choosing an answer shows
// the questions that belong to it and hides the others. NHS.UK's own radios
// script does the same but also sets aria-expanded on each radio, which ARIA
// does not allow on the radio role (axe-core's aria-allowed-attr); this one
// links each radio to what it reveals with aria-controls only. Without
// JavaScript every revealed question shows, labelled with the answer it
// belongs to.
for (const group of document.querySelectorAll('[data-module="psims-reveal"]')) {
  const radios = Array.from(group.querySelectorAll('input[type="radio"]'))
  const sync = () => {
    for (const radio of radios) {
      const id = radio.getAttribute('data-aria-controls')
      const panel = id && document.getElementById(id)
      if (!panel) continue
      radio.setAttribute('aria-controls', id)
      panel.classList.toggle('nhsuk-radios__conditional--hidden', !radio.checked)
    }
  }
  for (const radio of radios) radio.addEventListener('change', sync)
  sync()
}

// Enter in an organisation search box searches, as a person expects, rather
// than sending the form's main button. Without JavaScript the main button
// is sent and the server searches for text that is not a known ODS code.
for (const box of document.querySelectorAll('input[name="org_query"]')) {
  const search = box.parentElement.querySelector('button[name="action"][value="search"]')
  if (!search) continue
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault()
      search.click()
    }
  })
  // Some input methods send the key press on its own: it must not also send
  // the form.
  box.addEventListener('keypress', (event) => {
    if (event.key === 'Enter') event.preventDefault()
  })
}
