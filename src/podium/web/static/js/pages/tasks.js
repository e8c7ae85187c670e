// Action Center: the inbox (assigned to me, unassigned, completed) and a task's view, which renders a
// form task's form.io layout (a useful subset: inputs, selects, checkboxes, panels and columns, buttons
// as the actions) or a generic task's data, and completes, assigns or reassigns it.

import { ACTION, can, get, post, session } from '../api.js';
import { append, badge, clear, dialog, field, h, select, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';

const VIEWS = [['mine', 'Assigned to me'], ['unassigned', 'Unassigned'], ['completed', 'Completed'], ['all', 'All']];

export function tasksPage(main, params, query) {
  const view = (query && query.get('view')) || 'mine';
  const tabs = h('div', { class: 'row tabs', role: 'tablist', 'aria-label': 'Task views' },
    VIEWS.map(([key, label]) => h('a', { role: 'tab', href: `#/tasks?view=${key}`, 'aria-selected': String(key === view), class: key === view ? 'tab active' : 'tab', text: label })));
  const box = h('div');
  append(clear(main), tabs, box);
  const base = {
    mine: () => `AssignedToUserId eq ${Number(session.userId)} and IsCompleted eq false`,
    unassigned: () => "Status eq 'Unassigned'",
    completed: () => 'IsCompleted eq true',
    all: () => null,
  }[view] || (() => null);
  return renderList(box, {
    title: `Tasks: ${VIEWS.find(([k]) => k === view)[1]}`, set: 'Tasks', orderby: 'Id desc', baseFilter: base, live: 10000,
    rowHref: (task) => `#/tasks/${task.Id}`,
    columns: [
      { field: 'Title', label: 'Title' }, { field: 'Type', label: 'Type' },
      { field: 'Status', label: 'Status', render: (t) => stateBadge(t.Status), sortField: 'Status' },
      { field: 'Priority', label: 'Priority' }, { field: 'AssignedToUser', label: 'Assignee', render: (t) => (t.AssignedToUser ? t.AssignedToUser.UserName : '') },
      { field: 'CreationTime', label: 'Created', render: (t) => when(t.CreationTime), sortField: 'CreationTime' },
    ],
    expand: 'AssignedToUser',
    filters: [filters.text('Title', 'Title'), filters.choice('Priority', 'Priority', ['Low', 'Medium', 'High', 'Critical'])],
    actions: [
      { label: 'Assign to me', permission: 'Tasks.Edit', needsSelection: true, run: (rows) => assign(rows, session.userId) },
      { label: 'Assign…', permission: 'TaskAssignment.Create', needsSelection: true, run: (rows) => assignDialog(rows) },
      // anyone who edits tasks may unassign their own; others' need TaskAssignment.Delete (the API says which)
      { label: 'Unassign', permission: 'Tasks.Edit', needsSelection: true, run: (rows) => unassign(rows) },
    ],
  });
}

/** Unassigned tasks are assigned (AssignTasks, Tasks.Edit); the others reassigned (ReassignTasks, which
 * needs TaskAssignment.Create): each group its own call, both answers' refusals reported together. */
async function assign(rows, userId, name) {
  const assignments = (group) => group.map((r) => (name ? { TaskId: r.Id, UserNameOrEmail: name } : { TaskId: r.Id, UserId: userId }));
  const unassigned = rows.filter((r) => r.Status === 'Unassigned');
  const assigned = rows.filter((r) => r.Status !== 'Unassigned');
  const failed = [];
  for (const [method, group] of [['AssignTasks', unassigned], ['ReassignTasks', assigned]]) {
    if (!group.length) continue;
    try {
      const answer = await post(`/odata/Tasks/${ACTION}.${method}`, { taskAssignments: assignments(group) });
      failed.push(...((answer && answer.value) || []));
    } catch (err) {
      // the whole call refused (no permission for it): each of its tasks refused, for that reason
      failed.push(...group.map((r) => ({ TaskId: r.Id, ErrorMessage: err.message || String(err) })));
    }
  }
  report(rows, { value: failed }, 'assigned');
}

async function unassign(rows) {
  report(rows, await post(`/odata/Tasks/${ACTION}.UnassignTasks`, { taskIds: rows.map((r) => r.Id) }), 'unassigned');
}

/** A bulk call handles each task on its own and answers the ones it refused: say which, and why. All
 * refused is an error (a dialog stays open to be corrected); some refused, the list shows what changed. */
function report(rows, answer, done) {
  const failed = (answer && answer.value) || [];
  if (!failed.length) { toast(`${rows.length} task(s) ${done}.`); return; }
  const idOf = (f) => f.TaskId ?? f.taskId;
  const title = (f) => (rows.find((r) => r.Id === idOf(f)) || {}).Title || `task ${idOf(f)}`;
  const why = failed.map((f) => `${title(f)}: ${f.ErrorMessage || f.errorMessage}`).join('; ');
  if (failed.length >= rows.length) throw new Error(why);
  toast(`${rows.length - failed.length} of ${rows.length} task(s) ${done}. Refused: ${why}`, 'error');
}

function assignDialog(rows) {
  const user = h('input', { name: 'user', required: true, autocomplete: 'off' });
  return dialog('Assign tasks', field('User name or e-mail', user), 'Assign', () => assign(rows, null, user.value.trim()));
}

/** One form.io component → a labelled control (data-key holds where its value goes). */
function component(def, data) {
  const type = String(def.type || '').toLowerCase();
  const label = `${def.label || def.key}${def.validate && def.validate.required ? ' *' : ''}`;
  const value = data[def.key] ?? def.defaultValue ?? '';
  const disabled = !!def.disabled;
  if (['panel', 'fieldset', 'well', 'container'].includes(type) && def.components) {
    return h('fieldset', { class: 'stack' }, def.title || def.legend ? h('legend', { text: def.title || def.legend }) : null, def.components.map((c) => component(c, data)));
  }
  if (type === 'columns') return h('div', { class: 'row columns' }, (def.columns || []).map((col) => h('div', { class: 'stack' }, (col.components || []).map((c) => component(c, data)))));
  if (type === 'content' || type === 'htmlelement') return h('p', { text: (def.html || def.content || '').replace(/<[^>]*>/g, ' ').trim() });
  if (type === 'button') return null; // buttons are the task's actions, below the form
  if (!def.key) return null;
  let control;
  if (type === 'checkbox') control = h('input', { type: 'checkbox', checked: !!value });
  else if (type === 'textarea') control = h('textarea', { rows: 3, text: value });
  else if (type === 'number' || type === 'currency') control = h('input', { type: 'number', step: 'any', value });
  else if (type === 'email') control = h('input', { type: 'email', value });
  else if (type === 'datetime') control = h('input', { type: 'datetime-local', value: value ? String(value).slice(0, 16) : '' });
  else if (type === 'select' || type === 'radio') {
    const values = (def.data && def.data.values) || def.values || [];
    control = select([['', '—'], ...values.map((v) => [v.value, v.label])], value);
  } else if (['datagrid', 'editgrid', 'file'].includes(type)) control = h('textarea', { rows: 3, text: value ? JSON.stringify(value) : '' });
  else control = h('input', { type: 'text', value });
  control.dataset.key = def.key;
  control.dataset.kind = type;
  control.disabled = disabled;
  control.required = !!(def.validate && def.validate.required) && type !== 'checkbox';
  return field(label, control, def.description);
}

function formValues(root) {
  const values = {};
  for (const control of root.querySelectorAll('[data-key]')) {
    if (control.disabled) continue;
    const kind = control.dataset.kind;
    if (kind === 'checkbox') values[control.dataset.key] = control.checked;
    else if (control.value === '') continue;
    else if (kind === 'number' || kind === 'currency') values[control.dataset.key] = Number(control.value);
    else if (['datagrid', 'editgrid', 'file'].includes(kind)) values[control.dataset.key] = JSON.parse(control.value);
    else values[control.dataset.key] = control.value;
  }
  return values;
}

function buttons(layout) {
  const found = [];
  const walk = (node) => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') return;
    if (String(node.type).toLowerCase() === 'button' && node.key) found.push({ action: node.key, label: node.label || node.key, theme: node.theme });
    for (const child of ['components', 'columns', 'rows']) if (node[child]) walk(node[child]);
  };
  walk(layout);
  return found.length ? found : [{ action: 'submit', label: 'Submit' }];
}

export async function taskPage(main, { id }) {
  const task = await get(`/odata/Tasks(${Number(id)})`, { $expand: 'AssignedToUser' });
  const isForm = task.Type === 'FormTask';
  const full = isForm
    ? await get('/forms/TaskForms/GetTaskFormById', { taskId: String(task.Id) })
    : await get('/tasks/GenericTasks/GetTaskDataById', { taskId: String(task.Id) });
  const data = full.data || {};
  const mine = task.AssignedToUserId === session.userId;
  const done = task.IsCompleted;
  const facts = h('dl', { class: 'details' });
  for (const [label, value] of [['Status', stateBadge(task.Status)], ['Type', task.Type], ['Priority', task.Priority],
    ['Assignee', task.AssignedToUser ? task.AssignedToUser.UserName : ''], ['Created', when(task.CreationTime)], ['Action chosen', task.Action || '']]) {
    facts.append(h('dt', { text: label }), h('dd', { dataset: { field: label } }, value ?? ''));
  }
  const form = h('form', { class: 'card stack', 'aria-label': 'Task form' });
  const error = h('p', { class: 'error', role: 'alert' });
  if (isForm && full.formLayout) append(form, ...(full.formLayout.components || []).map((c) => component(c, data)));
  else form.append(field('Data (JSON)', h('textarea', { rows: 8, text: JSON.stringify(data, null, 2), dataset: { json: 'data' } })));
  form.append(error);
  const actions = h('div', { class: 'row' });
  if (!done && mine && can('Tasks.Edit')) {
    for (const button of isForm ? buttons(full.formLayout) : [{ action: 'Approve', label: 'Approve' }, { action: 'Reject', label: 'Reject' }]) {
      actions.append(h('button', { type: 'submit', value: button.action, text: button.label, class: button.theme === 'danger' ? 'secondary' : '' }));
    }
  } else if (!done && !mine) {
    form.querySelectorAll('input, select, textarea').forEach((c) => { c.disabled = true; });
    // another's task is reassigned, which needs TaskAssignment.Create
    if (can('Tasks.Edit') && (task.Status === 'Unassigned' || can('TaskAssignment.Create'))) {
      actions.append(h('button', { type: 'button', text: 'Assign to me', onclick: async () => {
        try {
          await assign([task], session.userId);
          await taskPage(main, { id });
        } catch (err) { toast(err.message || String(err), 'error'); }
      } }));
    }
  } else form.querySelectorAll('input, select, textarea').forEach((c) => { c.disabled = true; });
  if (!done && can('TaskAssignment.Create')) actions.append(h('button', { type: 'button', class: 'secondary', text: 'Reassign…', onclick: async () => { if (await assignDialog([task])) taskPage(main, { id }); } }));
  form.append(actions);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const action = event.submitter ? event.submitter.value : 'submit';
    try {
      const raw = form.querySelector('[data-json]');
      const values = raw ? JSON.parse(raw.value || '{}') : formValues(form);
      const path = isForm ? '/forms/TaskForms/CompleteTask' : '/tasks/GenericTasks/CompleteTask';
      await post(path, { taskId: task.Id, data: values, action });
      toast(`Task ${task.Id} completed (${action}).`);
      await taskPage(main, { id });
    } catch (err) { error.textContent = err.message; }
  });
  append(clear(main), h('p', {}, h('a', { href: '#/tasks', text: '← Tasks' })), h('h1', { text: task.Title || `Task ${task.Id}` }), facts,
    done ? h('p', {}, badge('Completed', 'successful'), ` by ${task.AssignedToUser ? task.AssignedToUser.UserName : ''}`) : null, form);
  return null;
}
