// Calendars of days off, which triggers skip: a list and an editor (name, time zone, excluded days).

import { ACTION, api, get, post } from '../api.js';
import { confirmAction, dialog, field, h, select, toast } from '../dom.js';
import { renderList } from '../list.js';

let zones = null;

/** The time zones the server knows (Windows ids with their display names), fetched once. */
export async function timeZones() {
  if (!zones) zones = (await get(`/odata/Settings/${ACTION}.GetTimezones`)).items || [];
  return zones;
}

export async function zoneSelect(value, { emptyLabel = 'Tenant default' } = {}) {
  const options = [['', emptyLabel], ...(await timeZones()).map((z) => [z.Value, z.Name])];
  if (value && !options.some(([v]) => v === value)) options.push([value, value]);  // an IANA id as stored
  return select(options, value || '', { name: 'zone' });
}

const day = (value) => String(value).slice(0, 10);

async function editCalendar(existing) {
  const name = h('input', { name: 'name', required: true, maxlength: '128', value: existing ? existing.Name : '' });
  const zone = await zoneSelect(existing ? existing.TimeZoneId : '');
  const days = new Set((existing ? existing.ExcludedDates || [] : []).map(day));
  const picker = h('input', { type: 'date', name: 'day', 'aria-label': 'Day off' });
  const list = h('ul', { class: 'chips', 'aria-label': 'Excluded days' });
  const draw = () => {
    list.replaceChildren(...[...days].sort().map((d) => h('li', {}, d, ' ',
      h('button', { type: 'button', class: 'link', text: '×', 'aria-label': `Remove ${d}`, onclick: () => { days.delete(d); draw(); } }))));
  };
  draw();
  const add = h('button', { type: 'button', class: 'secondary', text: 'Add day', onclick: () => { if (picker.value) { days.add(picker.value); picker.value = ''; draw(); } } });
  const body = h('div', { class: 'stack' }, field('Name', name), field('Time zone', zone),
    h('div', { class: 'row' }, field('Day off', picker), add), list);
  const title = existing ? `Edit ${existing.Name}` : 'Add calendar';
  return dialog(title, body, 'Save', async () => {
    const payload = { Name: name.value.trim(), TimeZoneId: zone.value || null, ExcludedDates: [...days].sort().map((d) => `${d}T00:00:00Z`) };
    if (existing) await api('PUT', `/odata/Calendars(${existing.Id})`, { body: { ...payload, Id: existing.Id } });
    else await post('/odata/Calendars', payload);
    toast(`Calendar ${payload.Name} saved (${days.size} day(s) off).`);
  });
}

export const calendarsPage = (main) => renderList(main, {
  title: 'Calendars', set: 'Calendars', orderby: 'Name asc',
  intro: h('p', { class: 'muted', text: 'Days off that triggers using the calendar skip, in the calendar\u2019s time zone.' }),
  columns: [
    { field: 'Name', label: 'Name' },
    { field: 'TimeZoneId', label: 'Time zone', render: (c) => c.TimeZoneId || 'Tenant default' },
    { field: 'ExcludedDates', label: 'Days off', render: (c) => {
      const all = (c.ExcludedDates || []).map(day).sort();
      const next = all.filter((d) => d >= new Date().toISOString().slice(0, 10)).slice(0, 3);
      return `${all.length}${next.length ? ` (next: ${next.join(', ')})` : ''}`;
    } },
  ],
  actions: [
    { label: 'Add calendar', permission: 'Settings.Create', primary: true, run: () => editCalendar(null) },
    { label: 'Edit', permission: 'Settings.Edit', needsSelection: true, run: (rows) => editCalendar(rows[0]) },
    { label: 'Delete', permission: 'Settings.Delete', needsSelection: true, run: async (rows) => {
      if (!(await confirmAction('Delete calendar', `Delete ${rows.map((r) => r.Name).join(', ')}? Triggers using it stop skipping its days.`, 'Delete'))) return false;
      for (const row of rows) await api('DELETE', `/odata/Calendars(${row.Id})`);
      toast('Deleted.');
    } },
  ],
});
