// Drag and drop onto a record: each file is sent on its own (two at a time),
// streamed by the server as the plain form's files are, with a progress bar
// while it is sent and then what became of it: filed, already on this record
// (with a link to it), or not filed and why.

const parallel = 2

export function enhanceUpload (form) {
  const input = form.querySelector('input[type=file]')
  const zone = form.querySelector('[data-casefile-dropzone]')
  const results = form.querySelector('[data-casefile-results]')
  const button = form.querySelector('[data-casefile-upload-button]')
  const csrf = form.querySelector('input[name=csrf_token]').value
  const max = { bytes: Number(form.dataset.casefileMaxBytes) || 0, text: form.dataset.casefileMaxText }
  if (!input || !zone || !results || !window.FormData || !window.XMLHttpRequest) return

  const list = document.createElement('dl')
  list.className = 'govuk-summary-list moj-multi-file-upload__list'
  const heading = document.createElement('h3')
  heading.className = 'govuk-heading-s'
  heading.textContent = 'Files added'
  heading.hidden = true
  results.append(heading, list)
  if (button) button.hidden = true

  const queue = []
  let running = 0
  const pump = () => {
    while (running < parallel && queue.length) {
      running++
      const job = queue.shift()
      sendOne(form.action, csrf, max, job).finally(() => { running--; pump() })
    }
  }
  const add = (files) => {
    for (const file of files) {
      heading.hidden = false
      queue.push({ file, row: addRow(list, file.name) })
    }
    pump()
  }

  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (e) => {
      e.preventDefault()
      zone.classList.add('casefile-dropzone--over')
    })
  }
  zone.addEventListener('dragleave', () => zone.classList.remove('casefile-dropzone--over'))
  zone.addEventListener('drop', (e) => {
    e.preventDefault()
    zone.classList.remove('casefile-dropzone--over')
    if (e.dataTransfer && e.dataTransfer.files.length) add(e.dataTransfer.files)
  })
  input.addEventListener('change', () => {
    add(Array.from(input.files))
    input.value = ''
  })
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    add(Array.from(input.files))
    input.value = ''
  })
}

function addRow (list, name) {
  const row = document.createElement('div')
  row.className = 'govuk-summary-list__row'
  const key = document.createElement('dt')
  key.className = 'govuk-summary-list__key casefile-filename'
  key.textContent = name
  const value = document.createElement('dd')
  value.className = 'govuk-summary-list__value'
  const progress = document.createElement('progress')
  progress.className = 'casefile-progress'
  progress.max = 100
  progress.value = 0
  progress.setAttribute('aria-label', 'Sending ' + name)
  const status = document.createElement('span')
  status.className = 'govuk-body-s'
  status.textContent = 'Waiting'
  value.append(progress, status)
  const actions = document.createElement('dd')
  actions.className = 'govuk-summary-list__actions'
  row.append(key, value, actions)
  list.append(row)
  return { row, value, progress, status, actions }
}

function sendOne (url, csrf, max, job) {
  return new Promise((resolve) => {
    const { file, row } = job
    if (max.bytes && file.size > max.bytes) {
      // Refused before a byte is sent, in the server's words, rather than
      // cut off part way through a long upload.
      show(row, { name: file.name, outcome: 'refused', message: 'Not filed: the file is larger than the ' + max.text + ' allowed for one file; nothing was kept.' })
      resolve()
      return
    }
    // The file is the request's body, as the API takes one: its length is
    // known, so the server streams it to the store without holding a part.
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url + '?filename=' + encodeURIComponent(file.name))
    xhr.setRequestHeader('X-CSRF-Token', csrf)
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream')
    xhr.setRequestHeader('Accept', 'application/json')
    row.status.textContent = 'Sending'
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) row.progress.value = Math.round((e.loaded / e.total) * 100)
    })
    xhr.addEventListener('load', () => {
      let body = null
      try { body = JSON.parse(xhr.responseText) } catch (_) {}
      if (body && body.files && body.files[0]) {
        show(row, body.files[0])
      } else {
        const msg = body && body.error ? body.error.message : 'The server did not answer; try again.'
        show(row, { name: file.name, outcome: 'refused', message: 'Not filed: ' + msg })
      }
      resolve()
    })
    xhr.addEventListener('error', () => {
      show(row, { name: file.name, outcome: 'refused', message: 'Not filed: the connection was lost; try again.' })
      resolve()
    })
    xhr.send(file)
  })
}

function show (row, o) {
  row.progress.remove()
  const tag = document.createElement('strong')
  tag.className = 'govuk-tag ' + ({ filed: 'govuk-tag--green', duplicate: 'govuk-tag--blue' }[o.outcome] || 'govuk-tag--red')
  tag.textContent = { filed: 'Filed', duplicate: 'Already on this record' }[o.outcome] || 'Not filed'
  row.status.textContent = ''
  row.status.remove()
  row.value.append(tag)
  if (o.outcome === 'refused') {
    const p = document.createElement('p')
    p.className = 'govuk-body-s'
    p.textContent = o.message
    row.value.append(p)
  }
  row.row.dataset.outcome = o.outcome
  if (o.href) {
    const a = document.createElement('a')
    a.className = 'govuk-link'
    a.href = o.href
    a.textContent = 'Open'
    const hidden = document.createElement('span')
    hidden.className = 'govuk-visually-hidden'
    hidden.textContent = ' ' + o.name
    a.append(hidden)
    row.actions.append(a)
  }
}
