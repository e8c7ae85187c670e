// Personal access tokens of the signed-in user: create (the secret is shown once), list, revoke.

import { api, get, post } from '../api.js';
import { append, clear, confirmAction, dialog, field, h, reported, toast, when } from '../dom.js';

export async function tokensPage(main) {
  const table = h('table', { class: 'list' });
  append(clear(main), h('div', { class: 'row heading' }, h('h1', { text: 'Personal access tokens' }),
    h('button', { type: 'button', text: 'New token', onclick: create })),
  h('p', { class: 'muted', text: 'A token acts as you in scripts and the uipath CLI (Authorization: Bearer). It is shown once.' }),
  h('div', { class: 'scroll' }, table));

  async function show() {
    const rows = (await get('/api/PersonalAccessTokens', undefined, { folder: false })).value || [];
    const body = h('tbody', {}, rows.map((row) => h('tr', {}, h('td', { text: row.Name }), h('td', { text: when(row.CreationTime) }),
      h('td', { text: when(row.ExpiresAt) }), h('td', { text: row.IsRevoked ? 'Revoked' : 'Active' }),
      h('td', {}, row.IsRevoked ? '' : h('button', { type: 'button', class: 'secondary', text: 'Revoke', 'aria-label': `Revoke ${row.Name}`, onclick: reported(() => revoke(row)) })))));
    clear(table).append(h('caption', { class: 'visually-hidden', text: 'Your tokens' }),
      h('thead', {}, h('tr', {}, ['Name', 'Created', 'Expires', 'State', ''].map((t) => h('th', { scope: 'col', text: t })))), body);
  }

  async function revoke(row) {
    if (!(await confirmAction('Revoke token', `Revoke ${row.Name}? Scripts using it stop at once.`, 'Revoke'))) return;
    await api('DELETE', `/api/PersonalAccessTokens/${row.Id}`, { folder: false });
    toast(`${row.Name} revoked.`);
    await show();
  }

  async function create() {
    const name = h('input', { name: 'name', required: true, maxlength: '128' });
    const days = h('input', { type: 'number', name: 'days', min: '1', value: '30' });
    const issued = await dialog('New token', h('div', { class: 'stack' }, field('Name', name), field('Expires in days', days)), 'Create',
      () => post('/api/PersonalAccessTokens', { Name: name.value.trim(), ExpiresInDays: Number(days.value) }, { folder: false }));
    if (!issued) return;
    const secret = h('input', { readonly: true, value: issued.Token, class: 'secret', 'aria-label': 'The new token' });
    await dialog('Copy your token now', h('div', { class: 'stack' }, h('p', { text: 'It will not be shown again.' }), secret), 'Done', async () => true);
    await show();
  }

  await show();
  return null;
}
