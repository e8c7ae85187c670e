// Building the page: elements from data with textContent, never innerHTML (the CSP forbids inline script
// too), so a robot name or a log message can never become markup.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let toastTimer = 0;
export function toast(message, kind = 'info') {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = 'toast'; }, 5000);
}

/** A click handler running ``run``, its error in a toast (an unhandled rejection would show nothing). */
export function reported(run) {
  return () => run().catch((err) => toast(err.message || String(err), 'error'));
}

export function when(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control,
    hint ? h('small', { class: 'muted', text: hint }) : null);
}

export function select(options, value, props = {}) {
  const el = h('select', props);
  for (const option of options) {
    const [v, label] = Array.isArray(option) ? option : [option, option];
    el.append(h('option', { value: v, text: label, selected: String(v) === String(value) }));
  }
  return el;
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind || String(text).toLowerCase()}`, text });
}

/** A modal dialog with a form; resolves with the form's submit result or null when cancelled (no onSubmit:
 * a read-only dialog with its one button). */
export function dialog(title, body, submitLabel, onSubmit) {
  return new Promise((resolve) => {
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { method: 'dialog', class: 'stack' }, h('h2', { text: title }), body, error,
      h('div', { class: 'row end' },
        onSubmit ? h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => { box.close(); resolve(null); } }) : null,
        h('button', { type: 'submit', text: submitLabel })));
    const box = h('dialog', { 'aria-label': title }, form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        const result = onSubmit ? await onSubmit(form) : true;
        box.close();
        resolve(result === undefined ? true : result);
      } catch (err) {
        error.textContent = err.message || String(err);
      }
    });
    box.addEventListener('close', () => box.remove());
    document.body.append(box);
    box.showModal();
    const first = form.querySelector('input, select, textarea');
    if (first) first.focus();
  });
}

export function confirmAction(title, message, label = 'Confirm') {
  return dialog(title, h('p', { text: message }), label, async () => true);
}
