// Jobs: the list with the seed's filters, start (with an input form from the package's arguments),
// stop/kill/restart, and a job's details with its input, output and robot logs, live while it runs.

import { ACTION, api, can, get, literal, post } from '../api.js';
import { append, badge, clear, dialog, field, h, reported, select, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';

const STATES = ['Pending', 'Running', 'Stopping', 'Terminating', 'Faulted', 'Successful', 'Stopped', 'Suspended', 'Resumed'];
const FINAL = new Set(['Faulted', 'Successful', 'Stopped']);

export async function jobsPage(main) {
  return renderList(main, {
    title: 'Jobs', set: 'Jobs', orderby: 'CreationTime desc', expand: 'Robot', live: 5000,
    rowHref: (job) => `#/jobs/${job.Id}`,
    columns: [
      { field: 'ReleaseName', label: 'Process' },
      { field: 'State', label: 'State', render: (job) => stateBadge(job.State), sortField: 'State' },
      { field: 'Robot', label: 'Robot', render: (job) => (job.Robot ? job.Robot.Name : '') },
      { field: 'HostMachineName', label: 'Machine' },
      { field: 'Source', label: 'Source' },
      { field: 'CreationTime', label: 'Created', render: (job) => when(job.CreationTime), sortField: 'CreationTime' },
      { field: 'EndTime', label: 'Ended', render: (job) => when(job.EndTime), sortField: 'EndTime' },
      { field: 'Info', label: 'Info', render: (job) => h('span', { class: 'clip', title: job.Info || '', text: job.Info || '' }) },
    ],
    filters: [
      filters.choice('State', 'State', STATES),
      filters.text('ReleaseName', 'Process'),
      filters.number('RobotId', 'Robot id', 'Robot/Id'),
      filters.since('CreationTime', 'Created'),
      filters.text('Info', 'Text in Info'),
    ],
    actions: [
      { label: 'Start job', permission: 'Jobs.Create', primary: true, run: () => startJobDialog() },
      { label: 'Stop', permission: 'Jobs.Edit', needsSelection: true, run: (rows) => stopJobs(rows, 'SoftStop') },
      { label: 'Kill', permission: 'Jobs.Edit', needsSelection: true, run: (rows) => stopJobs(rows, 'Kill') },
      { label: 'Restart', permission: 'Jobs.Create', needsSelection: true, run: (rows) => restartJobs(rows) },
    ],
  });
}

async function stopJobs(rows, strategy) {
  await post(`/odata/Jobs/${ACTION}.StopJobs`, { jobIds: rows.map((r) => r.Id), strategy });
  toast(`${strategy === 'Kill' ? 'Kill' : 'Stop'} requested for ${rows.length} job(s).`);
}

async function restartJobs(rows) {
  for (const row of rows) await post(`/odata/Jobs/${ACTION}.RestartJob`, { jobId: row.Id });
  toast(`${rows.length} job(s) restarted.`);
}

/** The arguments a package version declares, [{name, type, required, description, hasDefault}], from
 * Orchestrator's list of {name, type, required, hasDefault} or a JSON schema's properties (Python packages). */
export function argumentSpecs(metadata) {
  let parsed = metadata;
  if (typeof metadata === 'string') { try { parsed = JSON.parse(metadata); } catch { parsed = null; } }
  const specs = [];
  if (Array.isArray(parsed)) {
    for (const arg of parsed) specs.push({ name: arg.name, type: String(arg.type || 'string'), required: !!arg.required, hasDefault: !!arg.hasDefault });
  } else if (parsed && parsed.properties) {
    const required = new Set(parsed.required || []);
    for (const [name, schema] of Object.entries(parsed.properties)) {
      specs.push({ name, type: String(schema.type || 'string'), required: required.has(name), description: schema.description, hasDefault: 'default' in schema });
    }
  }
  return specs;
}

/** Input controls from the package's argument metadata: Orchestrator's list of {name, type, required}
 * or a JSON schema's properties (Podium's Python packages). */
export function argumentFields(metadata) {
  return argumentSpecs(metadata).map((spec) => {
    const numeric = /int|number|double|decimal/i.test(spec.type);
    const bool = /bool/i.test(spec.type);
    const control = bool ? h('input', { type: 'checkbox' }) : h('input', { type: numeric ? 'number' : 'text', required: spec.required, step: 'any' });
    control.dataset.argument = spec.name;
    control.dataset.kind = bool ? 'boolean' : numeric ? 'number' : /object|array|dict|list/i.test(spec.type) ? 'json' : 'string';
    return field(`${spec.name}${spec.required ? ' *' : ''}`, control, spec.description || spec.type);
  });
}

function argumentValues(form) {
  const values = {};
  for (const control of form.querySelectorAll('[data-argument]')) {
    const kind = control.dataset.kind;
    if (kind === 'boolean') values[control.dataset.argument] = control.checked;
    else if (control.value === '') continue;
    else if (kind === 'number') values[control.dataset.argument] = Number(control.value);
    else if (kind === 'json') values[control.dataset.argument] = JSON.parse(control.value);
    else values[control.dataset.argument] = control.value;
  }
  return values;
}

export async function startJobDialog(preselected) {
  const releases = (await get('/odata/Releases', { $orderby: 'Name asc', $top: '500' })).value || [];
  if (!releases.length) { toast('No process in this folder yet: add one under Processes.', 'warn'); return false; }
  const robots = can('Robots.View') ? ((await get('/odata/Robots', { $orderby: 'Name asc', $top: '500' })).value || []) : [];
  const process = select(releases.map((r) => [r.Key, `${r.Name} ${r.ProcessVersion || ''}`]), preselected, { name: 'process' });
  const strategy = select([['ModernJobsCount', 'Any robot (count)'], ['Specific', 'Specific robots']], 'ModernJobsCount', { name: 'strategy' });
  const count = h('input', { type: 'number', min: '1', max: '100', value: '1', name: 'count' });
  const robotBox = h('fieldset', { class: 'robots', hidden: true }, h('legend', { text: 'Robots' }),
    robots.map((r) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: String(r.Id), name: 'robot' }), r.Name)));
  const args = h('fieldset', { class: 'stack' }, h('legend', { text: 'Input arguments' }));
  const rawArgs = h('textarea', { rows: 3, name: 'rawArguments', placeholder: '{"name": "value"}' });
  strategy.addEventListener('change', () => {
    robotBox.hidden = strategy.value !== 'Specific';
    count.closest('.field').hidden = strategy.value === 'Specific';
  });
  async function loadArguments() {
    const release = releases.find((r) => r.Key === process.value);
    clear(args).append(h('legend', { text: 'Input arguments' }));
    let metadata = release && release.Arguments ? release.Arguments.Input : null;
    if (!metadata && release) {
      try { metadata = (await get(`/odata/Processes/${ACTION}.GetArguments(key=${literal(`${release.ProcessKey}:${release.ProcessVersion}`)})`)).Input; } catch { metadata = null; }
    }
    const fields = argumentFields(metadata);
    append(args, fields.length ? fields : field('As JSON', rawArgs, 'The package declares no arguments; any JSON object.'));
  }
  process.addEventListener('change', loadArguments);
  await loadArguments();
  return dialog('Start job', h('div', { class: 'stack' }, field('Process', process), field('Strategy', strategy),
    field('Jobs', count), robotBox, args), 'Start', async (form) => {
    const input = form.querySelector('[data-argument]') ? argumentValues(form) : (rawArgs.value.trim() ? JSON.parse(rawArgs.value) : {});
    const startInfo = { ReleaseKey: process.value, Strategy: strategy.value, InputArguments: JSON.stringify(input), Source: 'Manual' };
    if (strategy.value === 'Specific') {
      startInfo.RobotIds = [...form.querySelectorAll('input[name=robot]:checked')].map((c) => Number(c.value));
      if (!startInfo.RobotIds.length) throw new Error('Choose at least one robot.');
    } else startInfo.JobsCount = Number(count.value || 1);
    const answer = await post(`/odata/Jobs/${ACTION}.StartJobs`, { startInfo });
    const started = answer.value || [];
    toast(`${started.length} job(s) started.`);
    if (started.length === 1) location.hash = `#/jobs/${started[0].Id}`;
  });
}

export async function jobPage(main, { id }) {
  let timer = 0;
  let disposed = false;
  let settle = 5; // logs may arrive just after the job ends: a few more looks once it is final
  const details = h('dl', { class: 'details' });
  const logs = h('ol', { class: 'logs', 'aria-label': 'Robot logs', 'aria-live': 'polite' });
  const actions = h('div', { class: 'row toolbar' });
  const heading = h('h1', { text: `Job ${id}` });
  append(clear(main), h('p', {}, h('a', { href: '#/jobs', text: '← Jobs' })), h('div', { class: 'row heading' }, heading, actions),
    details, h('h2', { text: 'Logs' }), logs);
  async function refresh() {
    if (disposed) return;
    const job = await get(`/odata/Jobs(${Number(id)})`, { $expand: 'Robot,Release' });
    heading.textContent = `${job.ReleaseName || 'Job'} · ${id}`;
    clear(details);
    const rows = [['State', stateBadge(job.State)], ['Robot', job.Robot ? job.Robot.Name : ''], ['Machine', job.HostMachineName],
      ['Source', `${job.Source || ''} (${job.SourceType || ''})`], ['Priority', job.JobPriority], ['Created', when(job.CreationTime)],
      ['Started', when(job.StartTime)], ['Ended', when(job.EndTime)], ['Info', job.Info],
      ['Input', h('pre', { text: pretty(job.InputArguments) })], ['Output', h('pre', { text: pretty(job.OutputArguments) })]];
    for (const [label, value] of rows) details.append(h('dt', { text: label }), h('dd', { dataset: { field: label } }, value ?? ''));
    clear(actions);
    const act = (text, run) => h('button', { type: 'button', class: 'secondary', text, onclick: reported(run) });
    if (can('Jobs.Edit') && !FINAL.has(job.State)) {
      actions.append(act('Stop', () => stopJobs([job], 'SoftStop').then(refresh)), act('Kill', () => stopJobs([job], 'Kill').then(refresh)));
    }
    if (can('Jobs.Edit') && job.State === 'Suspended') {
      actions.append(act('Resume', () => post(`/odata/Jobs/${ACTION}.ResumeJob`, { jobKey: job.Key }).then(refresh)));
    }
    if (can('Jobs.Create') && FINAL.has(job.State)) {
      actions.append(act('Restart', () => restartJobs([job])));
    }
    if (can('Logs.View')) {
      const answer = await get('/odata/RobotLogs', { $filter: `JobKey eq ${literal(job.Key)}`, $orderby: 'TimeStamp asc,Id asc', $top: '500' });
      append(clear(logs), ...(answer.value || []).map((log) => h('li', { class: `log ${String(log.Level).toLowerCase()}` },
        h('time', { text: when(log.TimeStamp) }), ' ', badge(log.Level, String(log.Level).toLowerCase()), ' ', log.Message)));
    }
    if (!FINAL.has(job.State) || settle-- > 0) timer = setTimeout(() => refresh().catch((err) => toast(err.message, 'error')), FINAL.has(job.State) ? 2000 : 1500);
  }
  await refresh();
  return { dispose() { disposed = true; clearTimeout(timer); } };
}

function pretty(value) {
  if (!value) return '';
  try { return JSON.stringify(JSON.parse(value), null, 2); } catch { return String(value); }
}
