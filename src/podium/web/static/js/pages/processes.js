// A process (release) and a package: the versions of the package, which one the process runs (set it
// here), and the input/output arguments each version declares (GetArguments) — the same metadata the
// start-job form is generated from.

import { ACTION, can, get, literal, post } from '../api.js';
import { append, badge, clear, field, h, reported, select, toast, when } from '../dom.js';
import { setVersion } from './catalog.js';
import { argumentSpecs, startJobDialog } from './jobs.js';

async function versionsOf(packageId) {
  const answer = await get(`/odata/Processes/${ACTION}.GetProcessVersions(processId=${literal(packageId)})`, { $orderby: 'Published desc', $top: '200' });
  return answer.value || [];
}

/** The arguments of '<id>:<version>' as a table: direction, name, type, required, default. */
async function argumentsTable(packageId, version) {
  const answer = await get(`/odata/Processes/${ACTION}.GetArguments(key=${literal(`${packageId}:${version}`)})`);
  const rows = [...argumentSpecs(answer.Input).map((a) => ['In', a]), ...argumentSpecs(answer.Output).map((a) => ['Out', a])];
  if (!rows.length) return h('p', { class: 'muted', text: `${packageId} ${version} declares no arguments.` });
  return h('table', { class: 'list compact', 'aria-label': `Arguments of ${packageId} ${version}` },
    h('thead', {}, h('tr', {}, ['Direction', 'Name', 'Type', 'Required', 'Default'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map(([direction, a]) => h('tr', {},
      h('td', { dataset: { label: 'Direction' }, text: direction }), h('td', { dataset: { label: 'Name' } }, h('code', { text: a.name })),
      h('td', { dataset: { label: 'Type' }, text: a.type }), h('td', { dataset: { label: 'Required' }, text: a.required ? 'Yes' : 'No' }),
      h('td', { dataset: { label: 'Default' }, text: a.hasDefault ? 'Yes' : 'No' }),
      a.description ? h('td', { class: 'muted', text: a.description }) : null))));
}

/** Versions (newest first) and the arguments of the one chosen; ``use`` (when given) sets a version. */
async function versionsSection(root, packageId, current, use, currentLabel = 'Current') {
  const versions = await versionsOf(packageId);
  const table = h('table', { class: 'list compact', 'aria-label': `Versions of ${packageId}` },
    h('thead', {}, h('tr', {}, ['Version', 'Published', '', use ? 'Action' : null].filter((t) => t !== null).map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, versions.map((v) => h('tr', {},
      h('td', { dataset: { label: 'Version' }, text: v.Version }), h('td', { dataset: { label: 'Published' }, text: when(v.Published) }),
      h('td', {}, v.Version === current ? badge(currentLabel, 'successful') : ''),
      use ? h('td', {}, v.Version === current ? '' : h('button', {
        type: 'button', class: 'secondary', text: 'Use', 'aria-label': `Use version ${v.Version}`,
        onclick: reported(() => use(v.Version)),
      })) : null))));
  const chooser = select(versions.map((v) => v.Version), current || (versions[0] && versions[0].Version), { name: 'argumentsVersion' });
  const argsBox = h('div');
  const drawArguments = async () => {
    if (!chooser.value) { clear(argsBox).append(h('p', { class: 'muted', text: 'No version.' })); return; }
    try { clear(argsBox).append(await argumentsTable(packageId, chooser.value)); } catch (err) {
      clear(argsBox).append(h('p', { class: 'error', text: err.message }));
    }
  };
  chooser.addEventListener('change', drawArguments);
  append(clear(root), h('h2', { text: 'Versions' }), h('div', { class: 'scroll' }, table),
    h('h2', { text: 'Arguments' }), h('div', { class: 'narrow' }, field('Arguments of version', chooser)), argsBox);
  await drawArguments();
}

export async function processPage(main, { id }) {
  const heading = h('h1', { text: `Process ${id}` });
  const actions = h('div', { class: 'row toolbar' });
  const details = h('dl', { class: 'details' });
  const versionsBox = h('section', { 'aria-label': 'Versions and arguments' });
  append(clear(main), h('p', {}, h('a', { href: '#/processes', text: '← Processes' })), h('div', { class: 'row heading' }, heading, actions),
    details, versionsBox);
  async function draw() {
    const release = await get(`/odata/Releases(${Number(id)})`);
    heading.textContent = release.Name;
    clear(details);
    let defaults = release.InputArguments || '';
    try { defaults = defaults ? JSON.stringify(JSON.parse(defaults), null, 2) : ''; } catch { /* shown as stored */ }
    for (const [label, value] of [['Package', release.ProcessKey], ['Version', release.ProcessVersion],
      ['Description', release.Description || ''], ['Entry point', release.EntryPointPath || ''],
      ['Default input', defaults ? h('pre', { text: defaults }) : 'None']]) {
      details.append(h('dt', { text: label }), h('dd', { dataset: { field: label } }, value));
    }
    clear(actions);
    if (can('Jobs.Create')) actions.append(h('button', { type: 'button', text: 'Start job', onclick: reported(() => startJobDialog(release.Key)) }));
    if (can('Processes.Edit')) {
      actions.append(h('button', { type: 'button', class: 'secondary', text: 'Set version', onclick: async () => {
        try { if (await setVersion(release)) await draw(); } catch (err) { toast(err.message, 'error'); }
      } }));
    }
    const use = can('Processes.Edit') ? async (version) => {
      await post(`/odata/Releases(${release.Id})/${ACTION}.UpdateToSpecificPackageVersion`, { packageVersion: version });
      toast(`${release.Name} now runs ${release.ProcessKey} ${version}.`);
      await draw();
    } : null;
    await versionsSection(versionsBox, release.ProcessKey, release.ProcessVersion, use);
  }
  await draw();
}

export async function packagePage(main, { id }) {
  const versions = await versionsOf(id);
  const latest = versions.find((v) => v.IsLatestVersion) || versions[0];
  const box = h('section', { 'aria-label': 'Versions and arguments' });
  append(clear(main), h('p', {}, h('a', { href: '#/packages', text: '← Packages' })), h('h1', { text: `Package ${id}` }),
    latest ? h('p', { class: 'muted', text: latest.Description || latest.Title || '' }) : null, box);
  await versionsSection(box, id, latest ? latest.Version : null, null, 'Latest');
}
