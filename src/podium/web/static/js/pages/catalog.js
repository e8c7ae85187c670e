// The plain lists: one declaration per entity set (columns, filters, actions), served by list.js.

import { ACTION, api, can, canTenant, get, literal, post } from '../api.js';
import { badge, dialog, field, h, select, toast, when } from '../dom.js';
import { filters, renderList, stateBadge } from '../list.js';
import { startJobDialog } from './jobs.js';

const yes = (value) => (value ? 'Yes' : 'No');

export const processesPage = (main) => renderList(main, {
  title: 'Processes', set: 'Releases', orderby: 'Name asc', rowHref: (r) => `#/processes/${r.Id}`,
  columns: [{ field: 'Name', label: 'Name' }, { field: 'ProcessKey', label: 'Package' }, { field: 'ProcessVersion', label: 'Version' },
    { field: 'Description', label: 'Description' }],
  filters: [filters.text('Name', 'Name')],
  actions: [
    { label: 'Add process', permission: 'Processes.Create', primary: true, run: addProcess },
    { label: 'Start job', permission: 'Jobs.Create', needsSelection: true, run: (rows) => startJobDialog(rows[0].Key) },
    { label: 'Set version', permission: 'Processes.Edit', needsSelection: true, run: (rows) => setVersion(rows[0]) },
  ],
});

export async function setVersion(release) {
  const versions = (await get(`/odata/Processes/${ACTION}.GetProcessVersions(processId=${literal(release.ProcessKey)})`, { $orderby: 'Published desc' })).value || [];
  const version = h('select', { name: 'version' }, versions.map((v) => h('option', { value: v.Version, text: v.Version, selected: v.Version === release.ProcessVersion })));
  return dialog(`Version of ${release.Name}`, field('Package version', version), 'Save', async () => {
    await post(`/odata/Releases(${release.Id})/${ACTION}.UpdateToSpecificPackageVersion`, { packageVersion: version.value });
    toast(`${release.Name} now runs ${release.ProcessKey} ${version.value}.`);
  });
}

async function addProcess() {
  const packages = (await get('/odata/Processes', { $top: '500', $orderby: 'Id asc' })).value || [];
  if (!packages.length) { toast('Upload a package first (Packages).', 'warn'); return false; }
  const pkg = h('select', { name: 'package' }, packages.map((p) => h('option', { value: `${p.Id}|${p.Version}`, text: `${p.Id} ${p.Version}${p.Title && p.Title !== p.Id ? ` (${p.Title})` : ''}` })));
  const name = h('input', { name: 'name', required: true });
  pkg.addEventListener('change', () => { name.value = pkg.value.split('|')[0]; });
  name.value = packages[0].Id;
  return dialog('Add process', h('div', { class: 'stack' }, field('Package', pkg), field('Name', name)), 'Add', async () => {
    const [key, version] = pkg.value.split('|');
    await post('/odata/Releases', { Name: name.value.trim(), ProcessKey: key, ProcessVersion: version });
    toast(`Process ${name.value} added.`);
  });
}

export const packagesPage = (main) => renderList(main, {
  title: 'Packages', set: 'Processes', orderby: 'Id asc', rowHref: (p) => `#/packages/${encodeURIComponent(p.Id)}`,
  columns: [{ field: 'Id', label: 'Package' }, { field: 'Version', label: 'Latest version' }, { field: 'Title', label: 'Title' },
    { field: 'Description', label: 'Description' }, { field: 'Published', label: 'Published', render: (p) => when(p.Published) }],
  filters: [filters.text('Id', 'Package')],
  actions: [{ label: 'Upload package', permission: 'Packages.Create', primary: true, run: uploadPackage }],
});

async function uploadPackage() {
  const file = h('input', { type: 'file', name: 'file', accept: '.nupkg', required: true });
  return dialog('Upload package', field('Package file (.nupkg)', file), 'Upload', async () => {
    const form = new FormData();
    form.append('file', file.files[0]);
    await api('POST', `/odata/Processes/${ACTION}.UploadPackage`, { form });
    toast(`${file.files[0].name} uploaded.`);
  });
}

export const robotsPage = (main) => renderList(main, {
  title: 'Robots', set: 'Robots', orderby: 'Name asc',
  columns: [{ field: 'Name', label: 'Name' }, { field: 'MachineName', label: 'Machine' }, { field: 'Username', label: 'User' },
    { field: 'Type', label: 'Type' }, { field: 'Description', label: 'Description' }],
  filters: [filters.text('Name', 'Name'), filters.text('MachineName', 'Machine')],
});

export const machinesPage = (main) => renderList(main, {
  title: 'Machines', set: 'Machines', orderby: 'Name asc',
  columns: [{ field: 'Name', label: 'Name' }, { field: 'Type', label: 'Type' }, { field: 'UnattendedSlots', label: 'Unattended slots' },
    // the keys are credentials: the API answers them only to Machines.Edit, and the column shows only then
    ...(can('Machines.Edit') ? [{ field: 'LicenseKey', label: 'Machine key', render: (m) => (m.LicenseKey ? h('code', { text: m.LicenseKey }) : '') }] : []),
    { field: 'Description', label: 'Description' }],
  filters: [filters.text('Name', 'Name')],
  actions: [{ label: 'Add machine', permission: 'Machines.Create', primary: true, run: addMachine }],
});

async function addMachine() {
  const name = h('input', { name: 'name', required: true });
  return dialog('Add machine', field('Name', name), 'Add', async () => {
    const machine = await post('/odata/Machines', { Name: name.value.trim(), Type: 'Template', UnattendedSlots: 1 });
    toast(machine.LicenseKey ? `Machine ${machine.Name} added; its key: ${machine.LicenseKey}` : `Machine ${machine.Name} added.`);
  });
}

// Sessions as host runtimes (GetMachineSessionRuntimes): the only view that carries maintenance mode; the
// operation answers $filter, $orderby and $count like an entity set (odata/computed.py)
export const sessionsPage = (main) => renderList(main, {
  title: 'Sessions', path: `/odata/Sessions/${ACTION}.GetMachineSessionRuntimes`, live: 5000, orderby: 'MachineName asc',
  filters: [filters.text('MachineName', 'Machine'), filters.text('HostMachineName', 'Host')],
  rowKey: (s) => s.SessionId, rowLabel: (s) => `${s.MachineName} on ${s.HostMachineName}`,
  intro: h('p', { class: 'muted', text: 'A host in maintenance gets no new jobs; its running jobs finish, stop or are killed as chosen.' }),
  columns: [{ field: 'MachineName', label: 'Machine' }, { field: 'HostMachineName', label: 'Host' },
    { field: 'ServiceUserName', label: 'Robot user' },
    { field: 'Status', label: 'State', render: (s) => stateBadge(s.Status) }, { field: 'IsUnresponsive', label: 'Unresponsive', render: (s) => yes(s.IsUnresponsive) },
    { field: 'MaintenanceMode', label: 'Maintenance', render: (s) => (s.MaintenanceMode === 'Enabled' ? badge('In maintenance', 'warn') : 'No') },
    { field: 'UsedRuntimes', label: 'Runtimes in use', render: (s) => `${s.UsedRuntimes ?? 0} of ${s.Runtimes ?? 0}` },
    { field: 'ReportingTime', label: 'Last heartbeat', render: (s) => when(s.ReportingTime) }],
  // the sessions are the tenant's: Robots.Edit must be a tenant role's (a folder role's is refused)
  actions: canTenant('Robots.Edit') ? [
    { label: 'Maintenance on', needsSelection: true, run: (rows) => maintenanceOn(rows) },
    { label: 'Maintenance off', needsSelection: true, run: (rows) => maintenance(rows, 'Default', null) },
  ] : [],
});

async function maintenanceOn(rows) {
  const strategy = select([['', 'Let them finish'], ['SoftStop', 'Stop them'], ['Kill', 'Kill them']], '', { name: 'stopJobsStrategy' });
  return dialog('Maintenance mode', h('div', { class: 'stack' },
    h('p', { text: `${rows.map((r) => r.HostMachineName || r.MachineName).join(', ')}: no new jobs until maintenance is turned off.` }),
    field('Running jobs', strategy)), 'Turn on', async () => maintenance(rows, 'Enabled', strategy.value || null));
}

async function maintenance(rows, mode, stopJobsStrategy) {
  for (const row of rows) await post(`/odata/Sessions/${ACTION}.SetMaintenanceMode`, { sessionId: row.SessionId, maintenanceMode: mode, stopJobsStrategy });
  toast(`Maintenance ${mode === 'Enabled' ? 'on' : 'off'}.`);
}

export const assetsPage = (main) => renderList(main, {
  title: 'Assets', set: 'Assets', orderby: 'Name asc',
  columns: [{ field: 'Name', label: 'Name' }, { field: 'ValueType', label: 'Type' },
    { field: 'Value', label: 'Value', render: (a) => (a.ValueType === 'Credential' || a.ValueType === 'Secret' ? '••••••' : a.StringValue ?? a.IntValue ?? a.BoolValue ?? a.Value ?? '') },
    { field: 'Description', label: 'Description' }],
  filters: [filters.text('Name', 'Name'), filters.choice('ValueType', 'Type', ['Text', 'Bool', 'Integer', 'Credential', 'Secret'])],
  actions: [{ label: 'Add asset', permission: 'Assets.Create', primary: true, run: addAsset }],
});

async function addAsset() {
  const name = h('input', { name: 'name', required: true });
  const type = h('select', { name: 'type' }, ['Text', 'Integer', 'Bool', 'Credential'].map((t) => h('option', { value: t, text: t })));
  const value = h('input', { name: 'value' });
  const user = h('input', { name: 'credentialUsername', autocomplete: 'off' });
  const password = h('input', { name: 'credentialPassword', type: 'password', autocomplete: 'new-password' });
  const credential = h('div', { class: 'stack', hidden: true }, field('User name', user), field('Password', password));
  type.addEventListener('change', () => { credential.hidden = type.value !== 'Credential'; value.closest('.field').hidden = type.value === 'Credential'; });
  return dialog('Add asset', h('div', { class: 'stack' }, field('Name', name), field('Type', type), field('Value', value), credential), 'Add', async () => {
    const body = { Name: name.value.trim(), ValueScope: 'Global', ValueType: type.value };
    if (type.value === 'Text') body.StringValue = value.value;
    if (type.value === 'Integer') body.IntValue = Number(value.value);
    if (type.value === 'Bool') body.BoolValue = value.value === 'true';
    if (type.value === 'Credential') Object.assign(body, { CredentialUsername: user.value, CredentialPassword: password.value });
    await post('/odata/Assets', body);
    toast(`Asset ${body.Name} added.`);
  });
}

export const bucketsPage = (main) => renderList(main, {
  title: 'Storage buckets', set: 'Buckets', orderby: 'Name asc',
  rowHref: (b) => `#/buckets/${b.Id}`,
  columns: [{ field: 'Name', label: 'Name' }, { field: 'Description', label: 'Description' }, { field: 'StorageProvider', label: 'Provider' }],
  filters: [filters.text('Name', 'Name')],
  actions: [{ label: 'Add bucket', permission: 'Buckets.Create', primary: true, run: async () => {
    const name = h('input', { name: 'name', required: true });
    return dialog('Add bucket', field('Name', name), 'Add', async () => {
      await post('/odata/Buckets', { Name: name.value.trim(), Identifier: crypto.randomUUID() });
    });
  } }],
});

export const usersPage = (main) => renderList(main, {
  title: 'Users', set: 'Users', orderby: 'UserName asc',
  columns: [{ field: 'UserName', label: 'User name' }, { field: 'Name', label: 'Name' }, { field: 'Surname', label: 'Surname' },
    { field: 'EmailAddress', label: 'E-mail' }, { field: 'IsActive', label: 'Active', render: (u) => yes(u.IsActive) },
    { field: 'RolesList', label: 'Roles', render: (u) => (u.RolesList || []).join(', ') }],
  filters: [filters.text('UserName', 'User name')],
  actions: [
    { label: 'Add user', permission: 'Users.Create', primary: true, run: addUser },
    { label: 'Activate', permission: 'Users.Edit', needsSelection: true, run: (rows) => setActive(rows, true) },
    { label: 'Deactivate', permission: 'Users.Edit', needsSelection: true, run: (rows) => setActive(rows, false) },
  ],
});

async function roleChoices(type) {
  const roles = (await get('/odata/Roles', { $orderby: 'Name asc', $top: '500' })).value || [];
  return roles.filter((r) => !type || r.Type === type || r.Type === 'Mixed');
}

function checkboxes(legend, name, items) {
  return h('fieldset', { class: 'checks' }, h('legend', { text: legend }),
    items.map(([value, label]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name, value: String(value) }), label)));
}

const checked = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => c.value);

async function addUser() {
  // roles are given with AssignRoles, which needs Users.Edit (Users.Create alone makes the user only)
  const withRoles = can('Users.Edit');
  const roles = withRoles ? await roleChoices('Tenant') : [];
  const name = h('input', { name: 'username', required: true, autocomplete: 'off' });
  const email = h('input', { name: 'email', type: 'email' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true });
  return dialog('Add user', h('div', { class: 'stack' }, field('User name', name), field('E-mail', email), field('Password', password),
    withRoles ? checkboxes('Tenant roles', 'role', roles.map((r) => [r.Id, r.DisplayName || r.Name])) : null), 'Add', async (form) => {
    const user = await post('/odata/Users', { UserName: name.value.trim(), EmailAddress: email.value || null, Password: password.value });
    const roleIds = checked(form, 'role').map(Number);
    if (roleIds.length) {
      // the user exists now: the dialog closes either way (Add again would be refused as a duplicate)
      try {
        await post(`/odata/Users(${user.Id})/${ACTION}.AssignRoles`, { roleIds });
      } catch (err) {
        toast(`User ${user.UserName} created without roles: ${err.message || String(err)}`, 'error');
        return true;
      }
    }
    toast(`User ${user.UserName} added.`);
  });
}

async function setActive(rows, active) {
  for (const row of rows) await post(`/odata/Users(${row.Id})/${ACTION}.SetActive`, { active });
  toast(`${rows.length} user(s) ${active ? 'activated' : 'deactivated'}.`);
}

export const rolesPage = (main) => renderList(main, {
  title: 'Roles', set: 'Roles', orderby: 'Name asc',
  columns: [{ field: 'Name', label: 'Name' }, { field: 'DisplayName', label: 'Display name' }, { field: 'Type', label: 'Type' },
    { field: 'IsStatic', label: 'Built in', render: (r) => yes(r.IsStatic) }],
  filters: [filters.text('Name', 'Name')],
  actions: [{ label: 'Add role', permission: 'Roles.Create', primary: true, run: addRole }],
});

async function addRole() {
  const permissions = (await get('/odata/Permissions')).value || [];
  const name = h('input', { name: 'name', required: true });
  const type = h('select', { name: 'type' }, ['Mixed', 'Tenant', 'Folder'].map((t) => h('option', { value: t, text: t })));
  const areas = [...new Set(permissions.map((p) => p.Name.split('.')[0]))];
  const grid = h('div', { class: 'permission-grid' }, areas.map((area) => checkboxes(area, 'permission',
    permissions.filter((p) => p.Name.startsWith(`${area}.`)).map((p) => [p.Name, p.Name.split('.')[1]]))));
  return dialog('Add role', h('div', { class: 'stack' }, field('Name', name), field('Type', type), grid), 'Add', async (form) => {
    await post('/odata/Roles', { Name: name.value.trim(), Type: type.value, Permissions: checked(form, 'permission').map((n) => ({ Name: n, IsGranted: true })) });
    toast(`Role ${name.value} added.`);
  });
}

export const foldersPage = (main) => renderList(main, {
  title: 'Folders', set: 'Folders', orderby: 'FullyQualifiedName asc',
  columns: [{ field: 'FullyQualifiedName', label: 'Folder' }, { field: 'Description', label: 'Description' },
    { field: 'ProvisionType', label: 'Provisioning' }, { field: 'FeedType', label: 'Feed' }],
  filters: [filters.text('DisplayName', 'Name')],
  actions: [
    { label: 'Add folder', permission: 'Folders.Create', primary: true, run: addFolder },
    { label: 'Assign user', permission: 'Folders.Edit', needsSelection: true, run: (rows) => assignUser(rows[0]) },
  ],
});

async function addFolder(rows) {
  const folders = (await get('/odata/Folders', { $orderby: 'FullyQualifiedName asc', $top: '1000' })).value || [];
  const name = h('input', { name: 'name', required: true });
  const parent = h('select', { name: 'parent' }, h('option', { value: '', text: '(top level)' }),
    folders.map((f) => h('option', { value: String(f.Id), text: f.FullyQualifiedName })));
  return dialog('Add folder', h('div', { class: 'stack' }, field('Name', name), field('Parent', parent)), 'Add', async () => {
    await post('/odata/Folders', { DisplayName: name.value.trim(), ParentId: parent.value ? Number(parent.value) : null });
    toast(`Folder ${name.value} added.`);
  });
}

async function assignUser(folder) {
  const users = (await get('/odata/Users', { $orderby: 'UserName asc', $top: '1000' })).value || [];
  const roles = await roleChoices('Folder');
  const user = h('select', { name: 'user' }, users.map((u) => h('option', { value: String(u.Id), text: u.UserName })));
  return dialog(`Assign a user to ${folder.FullyQualifiedName}`, h('div', { class: 'stack' }, field('User', user),
    checkboxes('Folder roles', 'role', roles.map((r) => [r.Id, r.DisplayName || r.Name]))), 'Assign', async (form) => {
    const roleIds = checked(form, 'role').map(Number);
    if (!roleIds.length) throw new Error('Choose at least one role.');
    await post(`/odata/Folders/${ACTION}.AssignUsers`, { assignments: { UserIds: [Number(user.value)], RolesPerFolder: [{ FolderId: folder.Id, RoleIds: roleIds }] } });
    toast('User assigned.');
  });
}
