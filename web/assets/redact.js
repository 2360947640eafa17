// Select text to redact: on a disclosure's review page, selecting text in an
// item fills that item's redaction form with the positions of the selected
// characters (counted in Unicode code points, as the service counts them)
// and opens it. Without this script the form is filled by hand, or by
// typing the words to redact.

// codePoints counts the code points of s (a surrogate pair is one).
const codePoints = s => Array.from(s).length

// offsetIn returns the code-point offset of (node, offset) inside root.
function offsetIn (root, node, offset) {
  const r = document.createRange()
  r.selectNodeContents(root)
  r.setEnd(node, offset)
  return codePoints(r.toString())
}

export function enhanceRedaction (text) {
  const id = text.dataset.casefileRedactText
  const form = document.querySelector(`form[data-casefile-redact-form="${id}"]`)
  if (!form) return
  const start = form.querySelector('[data-casefile-start]')
  const end = form.querySelector('[data-casefile-end]')
  const said = form.querySelector('[data-casefile-selection]')
  const pick = () => {
    const sel = window.getSelection()
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return
    const range = sel.getRangeAt(0)
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return
    const a = offsetIn(text, range.startContainer, range.startOffset)
    const b = offsetIn(text, range.endContainer, range.endOffset)
    if (b <= a) return
    start.value = String(a)
    end.value = String(b)
    form.querySelector('input[name="phrase"]').value = ''
    said.textContent = `Selected: “${range.toString()}” (characters ${a} to ${b}). Choose a reason and press Redact.`
    const details = form.closest('details')
    if (details) details.open = true
  }
  text.addEventListener('mouseup', pick)
  text.addEventListener('keyup', pick)
}
