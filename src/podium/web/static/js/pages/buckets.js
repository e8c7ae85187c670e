// A storage bucket's files: browse directories, upload (to the signed write URL the API hands out, as
// the SDK does), download (signed read URL) and delete.

import { ACTION, api, can, get } from '../api.js';
import { append, clear, confirmAction, dialog, field, h, reported, toast } from '../dom.js';

function call(bucket, name, params) {
  const args = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return get(`/odata/Buckets(${bucket.Id})/${ACTION}.${name}?${args}`);
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

export async function bucketPage(main, { id }) {
  const bucket = await get(`/odata/Buckets(${Number(id)})`);
  let directory = '/';
  const where = h('p', { class: 'muted', role: 'status' });
  const table = h('table', { class: 'list' });
  const toolbar = h('div', { class: 'row toolbar' });
  if (can('Buckets.Edit')) toolbar.append(h('button', { type: 'button', text: 'Upload file', onclick: upload }));
  append(clear(main), h('p', {}, h('a', { href: '#/buckets', text: '← Storage buckets' })),
    h('div', { class: 'row heading' }, h('h1', { text: bucket.Name }), toolbar), where, h('div', { class: 'scroll' }, table));

  async function show() {
    const [dirs, files] = await Promise.all([
      call(bucket, 'GetDirectories', { directory }), call(bucket, 'GetFiles', { directory, recursive: 'false' }),
    ]);
    where.textContent = `Directory ${directory} · ${(files.value || []).length} file(s)`;
    const body = h('tbody');
    if (directory !== '/') {
      const parent = directory.replace(/\/[^/]+\/?$/, '') || '/';
      body.append(h('tr', {}, h('td', {}, h('button', { type: 'button', class: 'link', text: '..', onclick: () => { directory = parent; show(); } })), h('td'), h('td'), h('td')));
    }
    for (const dir of dirs.value || []) {
      body.append(h('tr', {}, h('td', {}, h('button', { type: 'button', class: 'link', text: `${dir.FullPath.split('/').filter(Boolean).pop()}/`, onclick: () => { directory = `/${dir.FullPath.replace(/^\//, '')}`; show(); } })), h('td', { text: 'Directory' }), h('td'), h('td')));
    }
    for (const file of files.value || []) {
      const name = file.FullPath.split('/').pop();
      const actions = h('td', {}, h('button', { type: 'button', class: 'secondary', text: 'Download', 'aria-label': `Download ${name}`, onclick: reported(() => download(file)) }));
      if (can('Buckets.Edit')) actions.append(' ', h('button', { type: 'button', class: 'secondary', text: 'Delete', 'aria-label': `Delete ${name}`, onclick: reported(() => remove(file)) }));
      body.append(h('tr', {}, h('td', { text: name }), h('td', { text: file.ContentType || '' }), h('td', { text: size(file.Size || 0) }), actions));
    }
    clear(table).append(h('caption', { class: 'visually-hidden', text: `Files of ${bucket.Name}` }),
      h('thead', {}, h('tr', {}, ['Name', 'Type', 'Size', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))), body);
  }

  async function download(file) {
    const access = await call(bucket, 'GetReadUri', { path: file.FullPath });
    const link = h('a', { href: access.Uri, download: file.FullPath.split('/').pop() });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async function remove(file) {
    if (!(await confirmAction('Delete file', `Delete ${file.FullPath}?`, 'Delete'))) return;
    await api('DELETE', `/odata/Buckets(${bucket.Id})/${ACTION}.DeleteFile?path=${encodeURIComponent(file.FullPath)}`);
    toast(`${file.FullPath} deleted.`);
    await show();
  }

  function upload() {
    const input = h('input', { type: 'file', name: 'file', required: true });
    return dialog('Upload file', field(`File (into ${directory})`, input), 'Upload', async () => {
      const chosen = input.files[0];
      const path = `${directory.replace(/\/$/, '')}/${chosen.name}`.replace(/^\//, '');
      const access = await call(bucket, 'GetWriteUri', { path, contentType: chosen.type || 'application/octet-stream' });
      const headers = {};
      (access.Headers?.Keys || []).forEach((key, i) => { headers[key] = access.Headers.Values[i]; });
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = chosen.type || 'application/octet-stream';
      const response = await fetch(access.Uri, { method: 'PUT', headers, body: chosen });
      if (!response.ok) throw new Error(`Upload failed (${response.status}).`);
      toast(`${chosen.name} uploaded.`);
      await show();
    });
  }

  await show();
  return null;
}
