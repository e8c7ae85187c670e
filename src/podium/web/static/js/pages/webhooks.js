// Webhooks (tenant-wide): the subscriptions, an editor (URL, events from GetEventTypes, a write-only
// secret, enabled, insecure TLS), Ping, and one webhook's delivery log (GetDeliveries) with Redeliver of
// one event. The secret is never shown: the API never answers it, the editor only replaces or clears it.

import { ACTION, api, can, get, post } from '../api.js';
import { append, badge, clear, confirmAction, dialog, field, h, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';

let eventTypes = null;

/** GetEventTypes, fetched once: [{Name, Group}]. */
async function types() {
  if (!eventTypes) eventTypes = (await get(`/odata/Webhooks/${ACTION}.GetEventTypes`)).value || [];
  return eventTypes;
}

function eventNames(webhook) {
  if (webhook.SubscribeToAllEvents) return 'All events';
  const names = (webhook.Events || []).map((e) => e.EventType);
  return names.length ? names.join(', ') : 'None';
}

const check = (label, props) => h('label', { class: 'check' }, h('input', { type: 'checkbox', ...props }), label);

async function editWebhook(existing) {
  const known = await types();
  const chosen = new Set((existing ? existing.Events || [] : []).map((e) => e.EventType));
  const name = h('input', { name: 'name', maxlength: '256', value: existing ? existing.Name || '' : '' });
  const url = h('input', { name: 'url', type: 'url', required: true, maxlength: '2048', placeholder: 'https://example.com/hooks/podium', value: existing ? existing.Url : '' });
  const description = h('input', { name: 'description', maxlength: '500', value: existing ? existing.Description || '' : '' });
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'new-password', maxlength: '256' });
  const clearSecret = check('Remove the secret (deliveries unsigned)', { name: 'clearSecret' });
  const enabled = check('Enabled', { name: 'enabled', checked: existing ? existing.Enabled : true });
  const insecure = check('Allow insecure TLS (self-signed certificates)', { name: 'allowInsecureSsl', checked: existing ? existing.AllowInsecureSsl : false });
  const all = check('All events, including those added later', { name: 'all', checked: existing ? existing.SubscribeToAllEvents : true });
  const groups = [...new Set(known.map((t) => t.Group))];
  const grid = h('div', { class: 'permission-grid', 'aria-label': 'Events' }, groups.map((group) => h('fieldset', { class: 'checks' },
    h('legend', { text: group }),
    known.filter((t) => t.Group === group).map((t) => check(t.Name, { name: 'event', value: t.Name, checked: chosen.has(t.Name) })))));
  const allBox = all.querySelector('input');
  const syncEvents = () => { grid.hidden = allBox.checked; };
  allBox.addEventListener('change', syncEvents);
  syncEvents();
  const hint = existing ? 'Write-only: leave empty to keep the current secret.' : 'Optional: deliveries are signed with it (X-UiPath-Signature).';
  const body = h('div', { class: 'stack' }, field('Name', name), field('URL', url), field('Description', description),
    field('Secret', secret, hint), existing ? clearSecret : null, enabled, insecure,
    h('fieldset', { class: 'stack' }, h('legend', { text: 'Events' }), all, grid));
  const title = existing ? `Edit webhook ${existing.Name || existing.Url}` : 'Add webhook';
  return dialog(title, body, 'Save', async (form) => {
    const events = [...form.querySelectorAll('input[name=event]:checked')].map((c) => ({ EventType: c.value }));
    if (!allBox.checked && !events.length) throw new Error('Choose at least one event, or all events.');
    const payload = {
      Name: name.value.trim() || null, Url: url.value.trim(), Description: description.value.trim() || null,
      Enabled: enabled.querySelector('input').checked, AllowInsecureSsl: insecure.querySelector('input').checked,
      SubscribeToAllEvents: allBox.checked, Events: allBox.checked ? [] : events,
    };
    if (secret.value) payload.Secret = secret.value;
    else if (existing && clearSecret.querySelector('input').checked) payload.Secret = null;
    if (existing) await api('PATCH', `/odata/Webhooks(${existing.Id})`, { body: payload });
    else await post('/odata/Webhooks', payload);
    toast(`Webhook ${payload.Name || payload.Url} saved.`);
  });
}

async function ping(webhook) {
  const answer = await post(`/odata/Webhooks(${webhook.Id})/${ACTION}.Ping`, {});
  toast(`Ping sent to ${webhook.Url} (event ${answer.EventId}); see its delivery log.`);
}

async function remove(rows) {
  const names = rows.map((r) => r.Name || r.Url).join(', ');
  if (!(await confirmAction('Delete webhook', `Delete ${names}? Its pending deliveries and its log go with it.`, 'Delete'))) return false;
  for (const row of rows) await api('DELETE', `/odata/Webhooks(${row.Id})`);
  toast('Deleted.');
  return true;
}

export const webhooksPage = (main) => renderList(main, {
  title: 'Webhooks', set: 'Webhooks', orderby: 'Name asc', rowLabel: (w) => w.Name || w.Url,
  rowHref: (w) => `#/webhooks/${w.Id}`,
  intro: h('p', { class: 'muted', text: 'HTTP endpoints told about the tenant\u2019s events, in order, retried until they answer.' }),
  columns: [
    { field: 'Name', label: 'Name', render: (w) => w.Name || w.Url },
    { field: 'Url', label: 'URL', render: (w) => h('code', { text: w.Url }) },
    { field: 'Enabled', label: 'State', render: (w) => stateBadge(w.Enabled ? 'Enabled' : 'Disabled'), sortField: 'Enabled' },
    { field: 'Events', label: 'Events', render: (w) => h('span', { class: 'clip', title: eventNames(w), text: eventNames(w) }) },
    { field: 'AllowInsecureSsl', label: 'Insecure TLS', render: (w) => (w.AllowInsecureSsl ? 'Allowed' : 'No'), sortField: 'AllowInsecureSsl' },
  ],
  filters: [filters.text('Url', 'URL')],
  actions: [
    { label: 'Add webhook', permission: 'Webhooks.Create', primary: true, run: () => editWebhook(null) },
    { label: 'Edit', permission: 'Webhooks.Edit', needsSelection: true, run: (rows) => editWebhook(rows[0]) },
    { label: 'Ping', permission: 'Webhooks.View', needsSelection: true, run: async (rows) => { for (const row of rows) await ping(row); } },
    { label: 'Delete', permission: 'Webhooks.Delete', needsSelection: true, run: remove },
  ],
});

/** One webhook: what it sends where, Ping/Edit/Delete, and its delivery log (newest first, live). */
export async function webhookPage(main, { id }) {
  let timer = 0;
  let disposed = false;
  const heading = h('h1', { text: `Webhook ${id}` });
  const actions = h('div', { class: 'row toolbar' });
  const details = h('dl', { class: 'details' });
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const log = h('table', { class: 'list' });
  append(clear(main), h('p', {}, h('a', { href: '#/webhooks', text: '← Webhooks' })), h('div', { class: 'row heading' }, heading, actions),
    details, h('div', { class: 'row heading' }, h('h2', { id: 'delivery-log', text: 'Delivery log' }),
      h('button', { type: 'button', class: 'secondary', text: 'Refresh', onclick: () => drawLog() })),
    status, h('div', { class: 'scroll' }, log));
  let webhook = null;

  async function drawDetails() {
    webhook = await get(`/odata/Webhooks(${Number(id)})`);
    heading.textContent = `Webhook ${webhook.Name || webhook.Url}`;
    const rows = [['URL', h('code', { text: webhook.Url })], ['State', stateBadge(webhook.Enabled ? 'Enabled' : 'Disabled')],
      ['Events', eventNames(webhook)], ['Insecure TLS', webhook.AllowInsecureSsl ? 'Allowed' : 'No'],
      ['Description', webhook.Description || ''], ['Secret', 'Write-only: set or replace it with Edit.']];
    clear(details);
    for (const [label, value] of rows) details.append(h('dt', { text: label }), h('dd', { dataset: { field: label } }, value));
    clear(actions);
    const act = (label, run) => h('button', { type: 'button', class: 'secondary', text: label, onclick: async () => {
      try { await run(); } catch (err) { toast(err.message || String(err), 'error'); }
    } });
    if (can('Webhooks.View')) actions.append(act('Ping', async () => { await ping(webhook); await drawLog(); }));
    if (can('Webhooks.Edit')) actions.append(act('Edit', async () => { if (await editWebhook(webhook)) await drawDetails(); }));
    if (can('Webhooks.Delete')) actions.append(act('Delete', async () => { if (await remove([webhook])) location.hash = '#/webhooks'; }));
  }

  async function redeliver(attempt) {
    const count = (await post(`/odata/Webhooks(${webhook.Id})/${ACTION}.Redeliver`, { EventId: attempt.EventId })).value;
    toast(`${attempt.EventType} ${attempt.EventId} queued again (${count} delivery).`);
    await drawLog();
  }

  async function drawLog() {
    clearTimeout(timer);
    if (disposed) return;
    try {
      const attempts = (await get(`/odata/Webhooks(${Number(id)})/${ACTION}.GetDeliveries`)).value || [];
      const editable = can('Webhooks.Edit');
      const head = h('tr', {}, ['When', 'Event', 'Event id', 'Result', 'HTTP status', 'Duration', 'Error', editable ? 'Action' : null]
        .filter(Boolean).map((t) => h('th', { scope: 'col', text: t })));
      const body = h('tbody', {}, attempts.map((a) => h('tr', {},
        h('td', { dataset: { label: 'When' }, text: when(a.Time) }),
        h('td', { dataset: { label: 'Event' }, text: a.EventType }),
        h('td', { dataset: { label: 'Event id' } }, h('code', { text: a.EventId || '' })),
        h('td', { dataset: { label: 'Result' } }, badge(a.Success ? 'Delivered' : 'Failed', a.Success ? 'successful' : 'failed')),
        h('td', { dataset: { label: 'HTTP status' }, text: a.StatusCode ?? '' }),
        h('td', { dataset: { label: 'Duration' }, text: a.DurationMs === null || a.DurationMs === undefined ? '' : `${a.DurationMs} ms` }),
        h('td', { dataset: { label: 'Error' } }, h('span', { class: 'clip', title: a.Error || '', text: a.Error || '' })),
        editable ? h('td', {}, a.DeliveryId ? h('button', {
          type: 'button', class: 'secondary', text: 'Redeliver', 'aria-label': `Redeliver ${a.EventType} ${a.EventId}`,
          onclick: () => redeliver(a).catch((err) => toast(err.message, 'error')),
        }) : h('span', { class: 'muted', text: 'Ping: not kept' })) : null)));
      clear(log).append(h('caption', { class: 'visually-hidden', text: 'Delivery log' }), h('thead', {}, head), body);
      status.className = 'muted';
      status.textContent = attempts.length ? `${attempts.length} attempt(s), newest first` : 'No delivery attempted yet.';
      status.dataset.total = String(attempts.length);
    } catch (err) {
      status.className = 'error';
      status.textContent = err.message;
    }
    if (!disposed) timer = setTimeout(drawLog, 3000);
  }

  await drawDetails();
  await drawLog();
  return { dispose() { disposed = true; clearTimeout(timer); } };
}
