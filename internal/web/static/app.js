// Starts the NHS.UK frontend components. Pages work without it: it only adds
// behaviour such as focusing the error summary and the header menu.
//
// The NHS.UK page template sets these classes with an inline script, which our
// Content-Security-Policy forbids. Only browsers that run module scripts get
// here, which is the test "nhsuk-frontend-supported" stands for.
import { initAll } from './vendor/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()

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
