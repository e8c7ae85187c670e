// Triggers (ProcessSchedules): the folder's time and queue triggers, and an editor whose cron builder
// writes Orchestrator's Quartz expressions and shows what the server will do with them (its summary and
// next occurrences, calendar days off skipped) before anything is saved.

import { ACTION, api, get, post } from '../api.js';
import { confirmAction, dialog, field, h, select, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';
import { zoneSelect } from './calendars.js';

const DAYS = [['MON', 'Mon'], ['TUE', 'Tue'], ['WED', 'Wed'], ['THU', 'Thu'], ['FRI', 'Fri'], ['SAT', 'Sat'], ['SUN', 'Sun']];
const MODES = [['minutes', 'Every N minutes'], ['hourly', 'Hourly'], ['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly'], ['cron', 'Advanced (cron)']];

/** The builder's controls and the Quartz expression they make (seconds first, ? for the unused day). */
function cronBuilder(initial) {
  const mode = select(MODES, initial ? 'cron' : 'daily', { name: 'mode', 'aria-label': 'Repeat' });
  const every = h('input', { type: 'number', min: '1', max: '59', value: '15', name: 'every', 'aria-label': 'Every (minutes)' });
  const minute = h('input', { type: 'number', min: '0', max: '59', value: '0', name: 'minute', 'aria-label': 'At minute' });
  const at = h('input', { type: 'time', value: '09:00', name: 'at', 'aria-label': 'At' });
  const dayOfMonth = h('input', { type: 'number', min: '1', max: '31', value: '1', name: 'dom', 'aria-label': 'Day of month' });
  const days = h('fieldset', { class: 'row days' }, h('legend', { text: 'On' }),
    ...DAYS.map(([value, label]) => h('label', {}, h('input', { type: 'checkbox', value, checked: !['SAT', 'SUN'].includes(value) }), ` ${label}`)));
  const cron = h('input', { name: 'cron', value: initial || '0 0 9 ? * *', 'aria-label': 'Cron expression', spellcheck: 'false', class: 'mono' });
  // made when shown: a control lives in one place, and 'At' serves three modes
  const parts = {
    minutes: () => [field('Every (minutes)', every)], hourly: () => [field('At minute', minute)], daily: () => [field('At', at)],
    weekly: () => [days, field('At', at)], monthly: () => [field('Day of month', dayOfMonth), field('At', at)],
    cron: () => [field('Cron expression (Quartz)', cron)],
  };
  const holder = h('div', { class: 'row builder' });
  const expression = () => {
    const [hh, mm] = (at.value || '00:00').split(':').map(Number);
    switch (mode.value) {
      case 'minutes': return `0 0/${Math.max(1, Number(every.value) || 1)} * * * ?`;
      case 'hourly': return `0 ${Number(minute.value) || 0} * * * ?`;
      case 'daily': return `0 ${mm} ${hh} ? * *`;
      case 'weekly': {
        const chosen = [...days.querySelectorAll('input:checked')].map((c) => c.value);
        return `0 ${mm} ${hh} ? * ${chosen.length ? chosen.join(',') : 'MON'}`;
      }
      case 'monthly': return `0 ${mm} ${hh} ${Number(dayOfMonth.value) || 1} * ?`;
      default: return cron.value.trim();
    }
  };
  const show = () => holder.replaceChildren(...parts[mode.value]());
  mode.addEventListener('change', show);
  show();
  const root = h('div', { class: 'stack' }, field('Repeat', mode), holder);
  return { root, expression, mode };
}

async function editTrigger(existing) {
  const releases = (await get('/odata/Releases', { $top: '500', $orderby: 'Name asc' })).value || [];
  if (!releases.length) { toast('Add a process first (Processes).', 'warn'); return false; }
  // calendars are tenant-wide (Settings.View): one who may edit the folder's triggers may not read them, and
  // the trigger keeps the calendar it has (an empty list saved as None would silently remove it)
  let calendarList = [];
  let unreadable = null;
  try {
    calendarList = (await get('/odata/Calendars', { $top: '200', $orderby: 'Name asc' }, { folder: false })).value || [];
  } catch (err) { unreadable = err; }
  const calendarOptions = [['', 'None'], ...calendarList.map((c) => [c.Id, c.Name])];
  if (existing && existing.CalendarId && !calendarList.some((c) => c.Id === existing.CalendarId)) {
    calendarOptions.push([existing.CalendarId, existing.CalendarName || `Calendar ${existing.CalendarId}`]);
  }
  const name = h('input', { name: 'name', required: true, maxlength: '256', value: existing ? existing.Name : '' });
  const release = select(releases.map((r) => [r.Id, r.Name]), existing ? existing.ReleaseId : releases[0].Id, { name: 'release' });
  const builder = cronBuilder(existing ? existing.StartProcessCron : null);
  const zone = await zoneSelect(existing ? existing.TimeZoneId : 'UTC', { emptyLabel: 'UTC' });
  const calendar = select(calendarOptions, existing && existing.CalendarId ? existing.CalendarId : '', { name: 'calendar' });
  const calendarNote = unreadable ? h('p', { class: 'error', dataset: { role: 'calendar-note' },
    text: `Calendars could not be read (${unreadable.message || unreadable}): ${existing && existing.CalendarId ? 'the trigger keeps its calendar' : 'none can be chosen'}.` }) : null;
  const jobs = h('input', { type: 'number', min: '1', max: '100', value: String(existing && existing.StartStrategy > 0 ? existing.StartStrategy : 1), name: 'jobs' });
  const args = h('textarea', { name: 'arguments', rows: '3', class: 'mono', placeholder: '{"name": "value"}', text: existing && existing.InputArguments ? existing.InputArguments : '' });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite', dataset: { role: 'summary' } });
  const next = h('ol', { class: 'occurrences', 'aria-label': 'Next occurrences' });
  let pending = 0;
  const preview = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      try {
        const answer = await post(`/odata/ProcessSchedules/${ACTION}.PreviewSchedule`, {
          cron: builder.expression(), timeZoneId: zone.value || 'UTC', calendarId: calendar.value ? Number(calendar.value) : null, count: 5,
        });
        summary.className = 'muted';
        summary.textContent = `${answer.Summary} (${answer.TimeZoneIana})`;
        next.replaceChildren(...answer.Occurrences.map((o) => h('li', { text: when(o) })));
      } catch (err) {
        summary.className = 'error';
        summary.textContent = err.message;
        next.replaceChildren();
      }
    }, 250);
  };
  const body = h('div', { class: 'stack' }, field('Name', name), field('Process', release), builder.root,
    h('div', { class: 'row' }, field('Time zone', zone), field('Calendar (days off)', calendar)), calendarNote,
    h('section', { class: 'card', 'aria-label': 'What this trigger will do' }, summary, next),
    field('Jobs per fire', jobs), field('Input arguments (JSON)', args));
  body.addEventListener('input', preview);
  body.addEventListener('change', preview);
  preview();
  return dialog(existing ? `Edit ${existing.Name}` : 'Add trigger', body, 'Save', async () => {
    const cron = builder.expression();
    const payload = {
      Name: name.value.trim(), ReleaseId: Number(release.value), Enabled: existing ? existing.Enabled : true,
      StartProcessCron: cron, StartProcessCronDetails: JSON.stringify({ type: 5, advancedCronExpression: cron, builder: builder.mode.value }),
      TimeZoneId: zone.value || 'UTC', CalendarId: calendar.value ? Number(calendar.value) : null,
      StartStrategy: Number(jobs.value) || 1, InputArguments: args.value.trim() || null,
    };
    if (existing) await api('PUT', `/odata/ProcessSchedules(${existing.Id})`, { body: { ...existing, ...payload } });
    else await post('/odata/ProcessSchedules', payload);
    toast(`Trigger ${payload.Name} saved.`);
  });
}

/** A queue trigger: jobs of a process started as items wait in a queue (one trigger per queue). */
async function editQueueTrigger(existing) {
  const releases = (await get('/odata/Releases', { $top: '500', $orderby: 'Name asc' })).value || [];
  const queues = (await get('/odata/QueueDefinitions', { $top: '500', $orderby: 'Name asc' })).value || [];
  if (!releases.length || !queues.length) { toast('A queue trigger needs a process and a queue in this folder.', 'warn'); return false; }
  const number = (name, value, min) => h('input', { type: 'number', name, min: String(min), max: '10000', required: true, value: String(value) });
  const name = h('input', { name: 'name', required: true, maxlength: '256', value: existing ? existing.Name : '' });
  const release = select(releases.map((r) => [r.Id, r.Name]), existing ? existing.ReleaseId : releases[0].Id, { name: 'release' });
  const queue = select(queues.map((q) => [q.Id, q.Name]), existing ? existing.QueueDefinitionId : queues[0].Id, { name: 'queue' });
  const threshold = number('threshold', existing ? existing.ItemsActivationThreshold ?? 1 : 1, 1);
  const perJob = number('perJob', existing ? existing.ItemsPerJobActivationTarget ?? 1 : 1, 1);
  const maxJobs = number('maxJobs', existing ? existing.MaxJobsForActivation ?? 1 : 1, 1);
  const onComplete = h('input', { type: 'checkbox', name: 'onComplete', checked: existing ? existing.ActivateOnJobComplete : false });
  const args = h('textarea', { name: 'arguments', rows: '3', class: 'mono', placeholder: '{"name": "value"}', text: existing && existing.InputArguments ? existing.InputArguments : '' });
  const body = h('div', { class: 'stack' }, field('Name', name), field('Process', release), field('Queue', queue),
    field('Minimum items to start a job', threshold, 'New items waiting before the first job starts.'),
    field('Items per job', perJob, 'One more job for each this many further items.'),
    field('Most jobs at once', maxJobs, 'Pending and running jobs of this trigger, at most.'),
    h('label', { class: 'check' }, onComplete, 'Check again each time a job ends'),
    field('Input arguments (JSON)', args));
  return dialog(existing ? `Edit ${existing.Name}` : 'Add queue trigger', body, 'Save', async () => {
    const payload = {
      Name: name.value.trim(), ReleaseId: Number(release.value), QueueDefinitionId: Number(queue.value), TimeZoneId: 'UTC',
      Enabled: existing ? existing.Enabled : true, ItemsActivationThreshold: Number(threshold.value),
      ItemsPerJobActivationTarget: Number(perJob.value), MaxJobsForActivation: Number(maxJobs.value),
      ActivateOnJobComplete: onComplete.checked, InputArguments: args.value.trim() || null,
    };
    if (existing) await api('PUT', `/odata/ProcessSchedules(${existing.Id})`, { body: { ...existing, ...payload } });
    else await post('/odata/ProcessSchedules', payload);
    toast(`Queue trigger ${payload.Name} saved.`);
  });
}

async function setEnabled(rows, enabled) {
  await post(`/odata/ProcessSchedules/${ACTION}.SetEnabled`, { enabled, scheduleIds: rows.map((r) => r.Id) });
  toast(`${rows.length} trigger(s) ${enabled ? 'enabled' : 'disabled'}.`);
}

export const triggersPage = (main) => renderList(main, {
  title: 'Triggers', set: 'ProcessSchedules', orderby: 'Name asc', live: 15_000,
  columns: [
    { field: 'Name', label: 'Name' },
    { field: 'ReleaseName', label: 'Process' },
    { field: 'StartProcessCronSummary', label: 'Schedule', render: (t) => (t.QueueDefinitionId ? `Queue ${t.QueueDefinitionName || t.QueueDefinitionId}: from ${t.ItemsActivationThreshold ?? 1} item(s), a job per ${t.ItemsPerJobActivationTarget ?? 1}, at most ${t.MaxJobsForActivation ?? 1}` : t.StartProcessCronSummary || t.StartProcessCron) },
    { field: 'StartProcessNextOccurrence', label: 'Next run', render: (t) => (t.Enabled ? when(t.StartProcessNextOccurrence) : ''), sortField: 'StartProcessNextOccurrence' },
    { field: 'TimeZoneId', label: 'Time zone' },
    { field: 'CalendarName', label: 'Calendar' },
    { field: 'Enabled', label: 'State', render: (t) => (t.Enabled ? stateBadge('Enabled') : h('span', {}, stateBadge('Disabled'), t.DisabledReason ? ` ${t.DisabledReason}` : '')) },
  ],
  filters: [filters.text('Name', 'Name'), {
    name: 'Enabled', label: 'State', control: () => select([['', 'All'], ['true', 'Enabled'], ['false', 'Disabled']], ''),
    clause: (value) => `Enabled eq ${value === 'true'}`,
  }],
  actions: [
    { label: 'Add trigger', permission: 'Schedules.Create', primary: true, run: () => editTrigger(null) },
    { label: 'Add queue trigger', permission: 'Schedules.Create', run: () => editQueueTrigger(null) },
    { label: 'Edit', permission: 'Schedules.Edit', needsSelection: true, run: (rows) => (rows[0].QueueDefinitionId ? editQueueTrigger(rows[0]) : editTrigger(rows[0])) },
    { label: 'Enable', permission: 'Schedules.Edit', needsSelection: true, run: (rows) => setEnabled(rows, true) },
    { label: 'Disable', permission: 'Schedules.Edit', needsSelection: true, run: (rows) => setEnabled(rows, false) },
    { label: 'Run now', permission: ['Schedules.Edit', 'Jobs.Create'], needsSelection: true, run: async (rows) => {
      for (const row of rows) await post(`/odata/ProcessSchedules(${row.Id})/${ACTION}.Fire`, {});
      toast(`Started the jobs of ${rows.map((r) => r.Name).join(', ')}.`);
    } },
    { label: 'Delete', permission: 'Schedules.Delete', needsSelection: true, run: async (rows) => {
      if (!(await confirmAction('Delete triggers', `Delete ${rows.map((r) => r.Name).join(', ')}?`, 'Delete'))) return false;
      for (const row of rows) await api('DELETE', `/odata/ProcessSchedules(${row.Id})`);
      toast('Deleted.');
    } },
  ],
});
