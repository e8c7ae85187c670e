// Home: jobs by state over the last 24 hours, robots online/busy/offline, queue backlogs and SLA risk,
// recent faults, unread alerts.

import { can, get } from '../api.js';
import { append, clear, h, when } from '../dom.js';
import { barChart } from './chart.js';
import { alertText } from './monitoring.js';

const STATES = ['Pending', 'Running', 'Successful', 'Faulted', 'Stopped', 'Suspended'];

async function count(path, filter) {
  const answer = await get(path, { $filter: filter, $top: '0', $count: 'true' });
  return answer['@odata.count'] ?? 0;
}

export async function homePage(main) {
  const since = new Date(Date.now() - 24 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const tiles = h('div', { class: 'tiles' });
  append(clear(main), h('h1', { text: 'Home' }), tiles);
  if (can('Alerts.View')) {
    const unread = await get('/odata/Alerts', { $filter: "State eq 'Unread'", $orderby: 'CreationTime desc', $top: '5', $count: 'true' });
    const total = unread['@odata.count'] ?? 0;
    tiles.append(h('section', { class: 'card', 'aria-labelledby': 'alerts-unread' },
      h('h2', { id: 'alerts-unread' }, h('a', { href: '#/alerts', text: `Unread alerts: ${total}` })),
      (unread.value || []).length ? h('ul', {}, unread.value.map((a) => h('li', {},
        h('span', { class: `badge ${String(a.Severity).toLowerCase()}`, text: a.Severity }), ` ${a.NotificationName} — ${alertText(a)} `, h('small', { class: 'muted', text: when(a.CreationTime) }))))
        : h('p', { class: 'muted', text: 'Nothing new.' })));
  }
  if (can('Jobs.View')) {
    const counts = await Promise.all(STATES.map((s) => count('/odata/Jobs', `State eq '${s}' and CreationTime ge ${since}`)));
    tiles.append(h('section', { class: 'card', 'aria-labelledby': 'jobs24' }, h('h2', { id: 'jobs24', text: 'Jobs, last 24 hours' }),
      barChart('Jobs by state, last 24 hours', STATES.map((s, i) => ({ label: s, value: counts[i], kind: s.toLowerCase() })))));
    // newest first by Id, which the (tenant, state, id) index answers at once (EndTime desc would sort
    // every faulted job of the folder), and no count (Podium counts unless told not to: 200,000 rows)
    const faults = await get('/odata/Jobs', { $filter: "State eq 'Faulted'", $orderby: 'Id desc', $top: '5', $count: 'false' });
    tiles.append(h('section', { class: 'card' }, h('h2', { text: 'Recent faults' }),
      (faults.value || []).length ? h('ul', {}, faults.value.map((job) => h('li', {},
        h('a', { href: `#/jobs/${job.Id}`, text: job.ReleaseName }), ` ${when(job.EndTime)} — ${job.Info || ''}`))) : h('p', { class: 'muted', text: 'No faulted jobs.' })));
  }
  if (can('Robots.View')) {
    const sessions = (await get('/odata/Sessions', { $top: '1000' })).value || [];
    const busy = sessions.filter((s) => s.State === 'Busy').length;
    const available = sessions.filter((s) => s.State === 'Available').length;
    const offline = sessions.length - busy - available;
    tiles.append(h('section', { class: 'card' }, h('h2', { text: 'Robots' }),
      barChart('Robot sessions', [{ label: 'Available', value: available, kind: 'successful' }, { label: 'Busy', value: busy, kind: 'running' }, { label: 'Offline', value: offline, kind: 'stopped' }])));
  }
  if (can('Queues.View')) {
    const queues = (await get('/odata/QueueProcessingRecords/UiPathODataSvc.RetrieveQueuesProcessingStatus', { $top: '10', $orderby: 'ItemsToProcess desc' }).catch(() => ({ value: [] }))).value || [];
    tiles.append(h('section', { class: 'card' }, h('h2', { text: 'Queue backlogs' }),
      queues.length ? h('div', { class: 'scroll' }, h('table', { class: 'list compact' }, h('thead', {}, h('tr', {}, ['Queue', 'To process', 'In progress'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, queues.map((q) => h('tr', {}, h('td', {}, h('a', { href: `#/queues/${q.QueueDefinitionId}`, text: q.QueueDefinitionName })),
          h('td', { text: q.ItemsToProcess }), h('td', { text: q.ItemsInProgress })))))) : h('p', { class: 'muted', text: 'No queues.' })));
    tiles.append(await slaRisk(new Date().toISOString().replace(/\.\d+Z$/, 'Z')));
  }
  return null;
}

/** Queues with an SLA: their open items (New or In progress) past the risk date, and past the due date. */
async function slaRisk(now) {
  const queues = (await get('/odata/QueueDefinitions', { $filter: 'SlaInMinutes gt 0 or RiskSlaInMinutes gt 0', $orderby: 'Name asc', $top: '10' })).value || [];
  const open = "(Status eq 'New' or Status eq 'InProgress')";
  const rows = await Promise.all(queues.map(async (q) => {
    const [atRisk, overdue] = await Promise.all([
      count('/odata/QueueItems', `QueueDefinitionId eq ${q.Id} and ${open} and RiskSlaDate le ${now}`),
      count('/odata/QueueItems', `QueueDefinitionId eq ${q.Id} and ${open} and DueDate le ${now}`),
    ]);
    return { q, atRisk, overdue };
  }));
  return h('section', { class: 'card', 'aria-labelledby': 'sla-risk' }, h('h2', { id: 'sla-risk', text: 'Queue SLA risk' }),
    rows.length ? h('div', { class: 'scroll' }, h('table', { class: 'list compact' },
      h('thead', {}, h('tr', {}, ['Queue', 'SLA', 'At risk', 'Overdue'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows.map(({ q, atRisk, overdue }) => h('tr', { class: overdue ? 'bad' : atRisk ? 'warn' : null },
        h('td', {}, h('a', { href: `#/queues/${q.Id}`, text: q.Name })), h('td', { text: q.SlaInMinutes ? `${q.SlaInMinutes} min` : '' }),
        h('td', {}, atRisk ? h('span', { class: 'badge warn', text: String(atRisk) }) : '0'),
        h('td', {}, overdue ? h('span', { class: 'badge faulted', text: String(overdue) }) : '0'))))))
      : h('p', { class: 'muted', text: 'No queue has an SLA.' }));
}
