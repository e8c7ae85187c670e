// One list for every entity set: filters, sort by column, paging and the total count, all as OData query
// options ($filter, $orderby, $top, $skip; the total as $top=0&$count=true after the rows) against the same
// API the SDK uses.

import { api, can, literal } from './api.js';
import { badge, clear, field, h, select, toast } from './dom.js';

const SINCE = [['', 'Any time'], ['1', 'Last hour'], ['24', 'Last 24 hours'], ['168', 'Last 7 days'], ['720', 'Last 30 days']];

export const filters = {
  /** A text filter: contains(Field,'value'), or eq when exact. */
  text: (name, label, { exact = false } = {}) => ({
    name, label, control: () => h('input', { type: 'search', autocomplete: 'off' }),
    clause: (value) => (exact ? `${name} eq ${literal(value)}` : `contains(${name},${literal(value)})`),
  }),
  /** A choice among enum names: Field eq 'Name'. */
  choice: (name, label, options) => ({
    name, label, control: () => select([['', 'All'], ...options], ''),
    clause: (value) => `${name} eq ${literal(value)}`,
  }),
  /** A number: Field eq n (ids). */
  number: (name, label, path = name) => ({
    name, label, control: () => h('input', { type: 'number', min: '0', inputmode: 'numeric' }),
    clause: (value) => `${path} eq ${Number(value)}`,
  }),
  /** A time range ending now on a date field. */
  since: (name, label) => ({
    name, label, control: () => select(SINCE, ''),
    clause: (value) => `${name} ge ${new Date(Date.now() - Number(value) * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z')}`,
  }),
};

export function stateBadge(value) {
  return value === null || value === undefined || value === '' ? '' : badge(String(value));
}

/** An action's permission: one name, or a list of names all of which must hold. */
function allowed(action) {
  if (!action.permission) return true;
  return (Array.isArray(action.permission) ? action.permission : [action.permission]).every((p) => can(p));
}

export function renderList(root, spec) {
  const state = { page: 0, size: spec.pageSize || 25, orderby: spec.orderby || 'Id desc', values: {}, selected: new Map(), generation: 0 };
  const filterControls = {};
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const table = h('table', { class: 'list' });
  const pager = h('div', { class: 'row pager' });
  const toolbar = h('div', { class: 'row toolbar' });
  let timer = 0;
  let disposed = false;

  const filterForm = h('form', { class: 'filters', role: 'search', 'aria-label': `Filter ${spec.title}` });
  for (const filter of spec.filters || []) {
    const control = filter.control();
    control.name = filter.name;
    filterControls[filter.name] = control;
    filterForm.append(field(filter.label, control));
    control.addEventListener('change', () => { state.page = 0; refresh(); });
  }
  if ((spec.filters || []).length) {
    filterForm.append(h('button', { type: 'submit', class: 'secondary', text: 'Apply' }));
    filterForm.addEventListener('submit', (event) => { event.preventDefault(); state.page = 0; refresh(); });
  }

  for (const action of spec.actions || []) {
    if (!allowed(action)) continue;
    toolbar.append(h('button', {
      type: 'button', class: action.primary ? '' : 'secondary', text: action.label, dataset: { action: action.label },
      onclick: async () => {
        const rows = [...state.selected.values()];
        if (action.needsSelection && !rows.length) { toast('Select one or more rows first.', 'warn'); return; }
        try {
          const done = await action.run(rows, api_);
          if (done !== false) { state.selected.clear(); await refresh(); }
        } catch (err) {
          // a loop over rows may have changed some before one failed: the list shows what is now (a failed
          // refresh writes the status line, never the toast, so the error stays in view)
          toast(err.message || String(err), 'error');
          await refresh();
        }
      },
    }));
  }

  clear(root).append(
    h('div', { class: 'row heading' }, h('h1', { text: spec.title }), toolbar),
    ...[spec.intro, filterForm, status, h('div', { class: 'scroll' }, table), pager].filter(Boolean),
  );

  function query() {
    const clauses = spec.baseFilter ? [spec.baseFilter()].filter(Boolean) : [];
    for (const filter of spec.filters || []) {
      const value = filterControls[filter.name].value.trim();
      if (value !== '') clauses.push(filter.clause(value));
    }
    // an operation answering a plain collection (spec.plain) pages with $top/$skip only
    const q = spec.plain ? { $top: String(state.size), $skip: String(state.page * state.size) }
      : { $top: String(state.size), $skip: String(state.page * state.size), $count: 'true', $orderby: state.orderby };
    if (clauses.length) q.$filter = clauses.map((c) => `(${c})`).join(' and ');
    if (spec.expand) q.$expand = spec.expand;
    if (spec.select) q.$select = spec.select;
    return q;
  }

  function header() {
    const row = h('tr');
    const selectable = (spec.actions || []).some((a) => a.needsSelection && allowed(a));
    if (selectable) row.append(h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Select' })));
    for (const column of spec.columns) {
      const [field_, direction] = state.orderby.split(' ');
      const sorted = field_ === column.field;
      const sortable = !spec.plain && column.sort !== false && !column.render;
      const th = h('th', { scope: 'col', 'aria-sort': sorted ? (direction === 'asc' ? 'ascending' : 'descending') : null });
      if (sortable || (column.sortField && !spec.plain)) {
        th.append(h('button', {
          type: 'button', class: 'link', text: `${column.label}${sorted ? (direction === 'asc' ? ' ▲' : ' ▼') : ''}`,
          onclick: () => {
            const by = column.sortField || column.field;
            state.orderby = `${by} ${sorted && direction === 'desc' ? 'asc' : 'desc'}`;
            refresh();
          },
        }));
      } else th.textContent = column.label;
      row.append(th);
    }
    return { row, selectable };
  }

  /** The rows first, without $count, then the total in a request of its own ($top=0): the page is drawn
   * as soon as its rows are read, and counting a million jobs does not hold it back (the total follows). */
  async function refresh() {
    clearTimeout(timer);
    if (disposed) return;
    const generation = ++state.generation;
    const q = query();
    const counted = '$count' in q;
    if (counted) q.$count = 'false';  // Podium counts unless told not to
    let answer;
    try {
      answer = await api('GET', spec.path || `/odata/${spec.set}`, { query: q });
    } catch (err) {
      status.textContent = err.message;
      status.className = 'error';
      return;
    }
    if (disposed || generation !== state.generation) return;
    const rows = answer.value || [];
    const { row: headRow, selectable } = header();
    const body = h('tbody');
    for (const item of rows) {
      const tr = h('tr');
      if (selectable) {
        const key = spec.rowKey ? spec.rowKey(item) : item.Id ?? item.Key;
        tr.append(h('td', {}, h('input', {
          type: 'checkbox', 'aria-label': `Select ${spec.rowLabel ? spec.rowLabel(item) : item.Name || item.DisplayName || item.Title || item.Reference || item.UserName || item.ReleaseName || key}`, checked: state.selected.has(key),
          onchange: (event) => { if (event.target.checked) state.selected.set(key, item); else state.selected.delete(key); },
        })));
      }
      spec.columns.forEach((column, index) => {
        let content = column.render ? column.render(item) : item[column.field];
        if (content && typeof content === 'object' && !(content instanceof Node)) content = JSON.stringify(content);
        if (index === 0 && spec.rowHref) content = h('a', { href: spec.rowHref(item) }, content ?? '(none)');
        tr.append(h('td', { dataset: { label: column.label } }, content ?? ''));
      });
      body.append(tr);
    }
    clear(table).append(h('caption', { class: 'visually-hidden', text: spec.title }), h('thead', {}, headRow), body);
    const first = rows.length ? state.page * state.size + 1 : 0;
    const last = state.page * state.size + rows.length;
    const next = h('button', { type: 'button', class: 'secondary', text: 'Next →', disabled: rows.length < state.size, onclick: () => { state.page += 1; refresh(); } });
    clear(pager).append(
      h('button', { type: 'button', class: 'secondary', text: '← Previous', disabled: state.page === 0, onclick: () => { state.page -= 1; refresh(); } }),
      next,
    );
    const showTotal = (total) => {
      status.className = 'muted';
      status.textContent = total === null ? `${first}–${last}` : `${first}–${last} of ${total}`;
      if (total !== null) {
        status.dataset.total = String(total);
        next.disabled = last >= total;
      }
    };
    // no count asked, or an empty first page (nothing matches): nothing more to ask
    if (!counted || (!rows.length && state.page === 0)) {
      showTotal(counted ? 0 : null);
      if (spec.plain && !rows.length) status.textContent = 'None';
    } else if (rows.length < state.size) {
      showTotal(last);  // the last page: the total is known
    } else {
      status.className = 'muted';
      status.textContent = `${first}–${last} of …`;
      status.setAttribute('aria-busy', 'true');
      try {
        const filter = q.$filter ? { $filter: q.$filter } : {};  // the same rows, none of them read
        const total = await api('GET', spec.path || `/odata/${spec.set}`, { query: { ...filter, $top: '0', $count: 'true' } });
        if (disposed || generation !== state.generation) return;
        showTotal(total['@odata.count'] ?? null);
      } catch (err) {
        if (generation === state.generation) showTotal(null);
      } finally {
        status.removeAttribute('aria-busy');
      }
    }
    if (spec.live && generation === state.generation) timer = setTimeout(refresh, spec.live);
  }

  const api_ = { refresh, get selected() { return [...state.selected.values()]; } };
  refresh();
  return { refresh, get filter() { return query().$filter; }, dispose() { disposed = true; clearTimeout(timer); } };
}
