// Starts the NHS.UK frontend components. Pages work without it: it only adds
// behaviour such as focusing the error summary and the header menu.
//
// The NHS.UK page template sets these classes with an inline script, which our
// Content-Security-Policy forbids. Only browsers that run module scripts get
// here, which is the test "nhsuk-frontend-supported" stands for.
import { initAll } from './vendor/nhsuk-frontend.min.js'
import { initSessionTimeout } from './session-timeout.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
initSessionTimeout()
