// casefile's script. The pages work without it: it marks the page as able to
// run GOV.UK Frontend's components, starts them, and turns the record's upload
// form into a drop zone with a progress bar and an outcome for each file.
// Loaded as a file of ours (the Content-Security-Policy allows no inline script).
import { initAll } from './govuk-frontend.min.js'
import { enhanceUpload } from './upload.js'
import { enhanceRedaction } from './redact.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported', 'casefile-js')
initAll()
document.querySelectorAll('form[data-casefile-upload]').forEach(enhanceUpload)
document.querySelectorAll('[data-casefile-redact-text]').forEach(enhanceRedaction)
