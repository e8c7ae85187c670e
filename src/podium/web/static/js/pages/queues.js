// Queues: definitions, a queue's items (status/reference/priority filters) with their history, adding
// items, retry/delete, and a chart of the queue's items by status that moves as items are added.

import { get, post } from '../api.js';
import { append, clear, dialog, field, h, select, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';
import { barChart } from './chart.js';

const STATUSES = ['New', 'InProgress', 'Failed', 'Successful', 'Abandoned', 'Retried', 'Deleted'];
const SVC = 'UiPathODataSvc';

export function queuesPage(main) {
  return renderList(main, {
    title: 'Queues', set: 'QueueDefinitions', orderby: 'Name asc',
    rowHref: (q) => `#/queues/${q.Id}`,
    columns: [
      { field: 'Name', label: 'Name' }, { field: 'Description', label: 'Description' },
      { field: 'MaxNumberOfRetries', label: 'Retries' }, { field: 'AcceptAutomaticallyRetry', label: 'Auto retry' },
      { field: 'EnforceUniqueReference', label: 'Unique reference' }, { field: 'CreationTime', label: 'Created', render: (q) => when(q.CreationTime), sortField: 'CreationTime' },
    ],
    filters: [filters.text('Name', 'Name')],
    actions: [{ label: 'Add queue', permission: 'Queues.Create', primary: true, run: addQueue }],
  });
}

async function addQueue() {
  const name = h('input', { name: 'name', required: true, maxlength: '50' });
  const description = h('input', { name: 'description' });
  const retries = h('input', { type: 'number', min: '0', max: '50', value: '0', name: 'retries' });
  return dialog('Add queue', h('div', { class: 'stack' }, field('Name', name), field('Description', description), field('Max retries', retries)), 'Add',
    async () => {
      await post('/odata/QueueDefinitions', { Name: name.value.trim(), Description: description.value, MaxNumberOfRetries: Number(retries.value), AcceptAutomaticallyRetry: Number(retries.value) > 0 });
      toast(`Queue ${name.value} added.`);
    });
}

export async function queuePage(main, { id }) {
  const queue = await get(`/odata/QueueDefinitions(${Number(id)})`);
  const chartBox = h('div', { class: 'card', id: 'queue-chart' });
  const listBox = h('div');
  append(clear(main), h('p', {}, h('a', { href: '#/queues', text: '← Queues' })), chartBox, listBox);
  async function drawChart() {
    const counts = await Promise.all(STATUSES.slice(0, 5).map(async (status) => {
      const answer = await get('/odata/QueueItems', { $filter: `QueueDefinitionId eq ${queue.Id} and Status eq '${status}'`, $top: '0', $count: 'true' });
      return { label: status, value: answer['@odata.count'] ?? 0, kind: status.toLowerCase() };
    }));
    clear(chartBox).append(h('h2', { text: `${queue.Name}: items by status` }), barChart(`${queue.Name} items by status`, counts));
  }
  await drawChart();
  const list = renderList(listBox, {
    title: `Items of ${queue.Name}`, set: 'QueueItems', orderby: 'Id desc', live: 5000,
    baseFilter: () => `QueueDefinitionId eq ${queue.Id}`,
    rowHref: (item) => `#/queue-items/${item.Id}`,
    columns: [
      { field: 'Reference', label: 'Reference' }, { field: 'Status', label: 'Status', render: (i) => stateBadge(i.Status), sortField: 'Status' },
      { field: 'Priority', label: 'Priority' }, { field: 'RetryNumber', label: 'Retry' },
      { field: 'CreationTime', label: 'Added', render: (i) => when(i.CreationTime), sortField: 'CreationTime' },
      { field: 'ProcessingExceptionType', label: 'Exception' }, { field: 'ReviewStatus', label: 'Review' },
    ],
    filters: [filters.choice('Status', 'Status', STATUSES), filters.text('Reference', 'Reference'), filters.choice('Priority', 'Priority', ['Low', 'Normal', 'High'])],
    actions: [
      { label: 'Add item', permission: 'Transactions.Create', primary: true, run: async () => { const done = await addItem(queue); if (done) await drawChart(); return done; } },
      { label: 'Retry', permission: 'Transactions.Edit', needsSelection: true, run: (rows) => review(rows, 'Retried', drawChart) },
      { label: 'In review', permission: 'Transactions.Edit', needsSelection: true, run: (rows) => review(rows, 'InReview', drawChart) },
      { label: 'Verified', permission: 'Transactions.Edit', needsSelection: true, run: (rows) => review(rows, 'Verified', drawChart) },
      { label: 'Delete', permission: 'Transactions.Delete', needsSelection: true, run: (rows) => bulk(rows, 'DeleteBulk', {}, 'deleted', 'only New items can be deleted', drawChart) },
    ],
  });
  const timer = setInterval(() => drawChart().catch(() => {}), 5000);
  return { dispose() { list.dispose(); clearInterval(timer); } };
}

/** SetItemReviewStatus: Retried retries failed items by hand, InReview/Verified mark the review. */
function review(rows, status, redraw) {
  return bulk(rows, 'SetItemReviewStatus', { status }, `set to ${status}`, 'only failed items can be reviewed or retried', redraw);
}

/** A bulk call changes each item on its own and answers the ones it could not (FailedItems). All refused
 * is an error; some refused, the list is drawn again (it changed) and says how many were not. */
async function bulk(rows, operation, extra, done, rule, redraw) {
  const answer = await post(`/odata/QueueItems/${SVC}.${operation}`, { queueItems: rows.map((r) => ({ Id: r.Id, RowVersion: r.RowVersion })), ...extra });
  const failed = (answer && answer.FailedItems) || [];
  await redraw();
  if (!failed.length) { toast(`${rows.length} item(s) ${done}.`); return; }
  const message = `${failed.length} of ${rows.length} item(s) could not be ${done} (${rule}).`;
  if (failed.length >= rows.length) throw new Error(message);
  toast(message, 'error');
}

async function addItem(queue) {
  const reference = h('input', { name: 'reference' });
  const priority = select(['Normal', 'High', 'Low'], 'Normal', { name: 'priority' });
  const content = h('textarea', { rows: 4, name: 'content', placeholder: '{"InvoiceId": 42}' });
  return dialog(`Add item to ${queue.Name}`, h('div', { class: 'stack' }, field('Reference', reference), field('Priority', priority),
    field('Specific content (JSON object)', content)), 'Add', async () => {
    let specific = {};
    if (content.value.trim()) {
      try { specific = JSON.parse(content.value); } catch { throw new Error('Specific content must be a JSON object.'); }
    }
    await post(`/odata/Queues/${SVC}.AddQueueItem`, { itemData: { Name: queue.Name, Reference: reference.value || null, Priority: priority.value, SpecificContent: specific } });
    toast('Item added.');
  });
}

export async function queueItemPage(main, { id }) {
  const item = await get(`/odata/QueueItems(${Number(id)})`);
  const details = h('dl', { class: 'details' });
  for (const [label, value] of [['Reference', item.Reference], ['Status', stateBadge(item.Status)], ['Priority', item.Priority],
    ['Retry', item.RetryNumber], ['Added', when(item.CreationTime)], ['Started', when(item.StartProcessing)], ['Ended', when(item.EndProcessing)],
    ['Exception', item.ProcessingExceptionReason], ['Content', h('pre', { text: JSON.stringify(item.SpecificContent, null, 2) })],
    ['Output', h('pre', { text: JSON.stringify(item.Output, null, 2) })]]) details.append(h('dt', { text: label }), h('dd', {}, value ?? ''));
  const history = h('ol', { class: 'history' });
  try {
    const events = await get(`/odata/QueueItemEvents/${SVC}.GetQueueItemEventsHistory(queueItemId=${item.Id})`);
    append(history, ...(events.value || []).map((e) => h('li', {}, `${when(e.Timestamp)} — ${e.Action} ${e.Status || ''} ${e.UserName ? `by ${e.UserName}` : ''}`)));
  } catch (err) { history.append(h('li', { class: 'muted', text: err.message })); }
  append(clear(main), h('p', {}, h('a', { href: `#/queues/${item.QueueDefinitionId}`, text: '← Queue' })), h('h1', { text: `Item ${item.Id}` }), details,
    h('h2', { text: 'History' }), history);
  return null;
}
