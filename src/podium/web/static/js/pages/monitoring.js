// Monitoring: the audit log (who changed what, with the entities touched, CSV export) and the caller's
// alerts (unread first, mark as read), both plain OData lists of the API.

import { ACTION, api, get, post } from '../api.js';
import { dialog, h, reported, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';

const COMPONENTS = ['Assets', 'Buckets', 'Folders', 'Jobs', 'Machines', 'Packages', 'Processes', 'Queues', 'Robots', 'Roles',
  'Schedules', 'Settings', 'Tasks', 'Tenant', 'Users', 'Webhooks'];
const ACTIONS = ['Create', 'Update', 'Delete', 'StartJob', 'StopJob', 'Assign', 'Upload', 'Toggle', 'Set'];
const SEVERITIES = ['Info', 'Success', 'Warn', 'Error', 'Fatal'];

/** Saves text as a file the browser downloads (the export answers CSV on the user's token). */
function saveText(text, name, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function auditDetails(entry) {
  const entities = (await get(`/odata/AuditLogs/${ACTION}.GetAuditLogDetails(auditLogId=${entry.Id})`)).value || [];
  let parameters = entry.Parameters || '';
  try { parameters = JSON.stringify(JSON.parse(parameters), null, 2); } catch { /* shown as written */ }
  const body = h('div', { class: 'stack' },
    h('p', { text: entry.OperationText || `${entry.Component} ${entry.Action}` }),
    h('dl', { class: 'details' },
      ...[['When', when(entry.ExecutionTime)], ['By', `${entry.UserName || ''} (${entry.UserType || ''})`], ['Component', entry.Component],
        ['Action', entry.Action], ['Entity', `${entry.DisplayName || ''} ${entry.EntityId ?? ''}`.trim()], ['Method', entry.MethodName]]
        .flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: value ?? '' })])),
    parameters ? h('pre', { class: 'code', 'aria-label': 'Parameters', text: parameters }) : null,
    entities.length ? h('table', { class: 'list compact' },
      h('thead', {}, h('tr', {}, ['Entity', 'Id', 'Action'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, entities.map((e) => h('tr', {}, h('td', { text: e.EntityName }), h('td', { text: e.EntityId }), h('td', { text: e.Action })))))
      : null);
  return dialog('Audit entry', body, 'Close', null);
}

export const auditPage = (main) => {
  let list = null;
  const exportCsv = async () => {
    const query = {};
    if (list.filter) query.$filter = list.filter;  // the export takes the filters shown
    const model = await api('POST', `/odata/AuditLogs/${ACTION}.Export`, { query });
    const csv = await api('GET', `/api/Exports/${model.Id}/Download`);
    saveText(typeof csv === 'string' ? csv : JSON.stringify(csv), model.Name || 'audit.csv');
    toast(`Exported ${model.Name}.`);
    return false;
  };
  list = renderList(main, {
    title: 'Audit log', set: 'AuditLogs', orderby: 'ExecutionTime desc',
    columns: [
      { field: 'ExecutionTime', label: 'When', render: (e) => when(e.ExecutionTime), sortField: 'ExecutionTime' },
      { field: 'UserName', label: 'User' },
      { field: 'Component', label: 'Component' },
      { field: 'Action', label: 'Action' },
      { field: 'OperationText', label: 'What', render: (e) => h('button', { type: 'button', class: 'link', text: e.OperationText || `${e.Component} ${e.Action}`, onclick: reported(() => auditDetails(e)) }) },
    ],
    filters: [
      filters.choice('Component', 'Component', COMPONENTS),
      filters.choice('Action', 'Action', ACTIONS),
      filters.text('UserName', 'User'),
      filters.since('ExecutionTime', 'When'),
    ],
    actions: [{ label: 'Export CSV', permission: 'Audit.View', run: exportCsv }],
  });
  return list;
};

export const alertsPage = (main) => renderList(main, {
  title: 'Alerts', set: 'Alerts', orderby: 'CreationTime desc', live: 10_000, rowLabel: (a) => alertText(a),
  columns: [
    { field: 'CreationTime', label: 'When', render: (a) => when(a.CreationTime), sortField: 'CreationTime' },
    { field: 'Severity', label: 'Severity', render: (a) => stateBadge(a.Severity) },
    { field: 'Component', label: 'Component' },
    { field: 'NotificationName', label: 'Alert' },
    { field: 'Data', label: 'Details', render: (a) => alertText(a) },
    { field: 'State', label: 'State', render: (a) => stateBadge(a.State) },
  ],
  filters: [
    filters.choice('State', 'State', ['Unread', 'Read']),
    filters.choice('Severity', 'Severity', SEVERITIES),
    filters.since('CreationTime', 'When'),
  ],
  actions: [{
    label: 'Mark as read', needsSelection: true, run: async (rows) => {
      await post(`/odata/Alerts/${ACTION}.MarkAsRead`, { ids: rows.map((a) => a.UserNotificationId) });
      toast(`${rows.length} alert(s) marked read.`);
    },
  }],
});

/** An alert's data is JSON written by the server: its message, or its pairs. */
export function alertText(alert) {
  let data = alert.Data;
  try { data = JSON.parse(alert.Data); } catch { return alert.Data || ''; }
  if (!data || typeof data !== 'object') return String(data ?? '');
  if (data.Message) return String(data.Message);
  return Object.entries(data).filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
}
