// The shell: sign-in, the header (folder, user, sign out), the sections a user's permissions open, and a
// hash router (#/jobs, #/jobs/42) that renders one page at a time into <main>.

import { ApiError, can, canTenant, get, loadPermissions, session, signIn, signedOut } from './api.js';
import { clear, field, h, select, toast } from './dom.js';
import { PAGES, SECTIONS } from './pages/index.js';

let current = null; // the page on screen: { dispose() }

/** A section's or page's permission: in the folder, or tenant-wide only (tenant: true) where the API
 * asks it so (the sessions). */
const permitted = (entry) => !entry.permission || (entry.tenant ? canTenant(entry.permission) : can(entry.permission));

function signInPage() {
  document.getElementById('top').hidden = true;
  document.getElementById('nav').hidden = true;
  const error = h('p', { class: 'error', role: 'alert' });
  const tenant = h('input', { name: 'tenant', value: session.tenant || 'Default', autocomplete: 'organization', required: true });
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card signin stack', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', text: 'Sign in to Podium' }),
    field('Tenant', tenant), field('User name or e-mail', user), field('Password', password), error,
    h('button', { type: 'submit', text: 'Sign in' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      await signIn(tenant.value.trim(), user.value.trim(), password.value);
      await chooseDefaultFolder();
      // a new hash draws the page (hashchange); calling route() as well drew it twice, the second
      // clearing #main under the first
      if (location.hash === '#/') await route(); else location.hash = '#/';
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
    }
  });
  clear(document.getElementById('main')).append(form);
  user.focus();
}

async function folders() {
  return get('/api/FoldersNavigation/GetAllFoldersForCurrentUser', undefined, { folder: false });
}

async function chooseDefaultFolder() {
  const list = await folders();
  const shared = list.find((f) => f.FullyQualifiedName === 'Shared') || list[0];
  session.folderId = shared ? shared.Id : null;
  session.folderName = shared ? shared.FullyQualifiedName : null;
  await loadPermissions();
}

async function renderTop() {
  const top = document.getElementById('top');
  const list = await folders();
  const picker = select(list.map((f) => [f.Id, `${'\u00a0\u00a0'.repeat(f.Level || 0)}${f.DisplayName}`]), session.folderId, { id: 'folder' });
  picker.addEventListener('change', async () => {
    const chosen = list.find((f) => String(f.Id) === picker.value);
    session.folderId = chosen.Id;
    session.folderName = chosen.FullyQualifiedName;
    await loadPermissions();
    await route();
  });
  clear(top).append(
    h('a', { class: 'brand', href: '#/' }, h('img', { src: '/console/podium.svg', alt: '', width: 24, height: 24 }), 'Podium'),
    h('div', { class: 'folder' }, h('label', { for: 'folder', text: 'Folder' }), picker),
    h('span', { class: 'who', text: `${session.user} · ${session.tenant}` }),
    h('button', { type: 'button', class: 'secondary', text: 'Sign out', onclick: signOut }),
  );
  top.hidden = false;
}

function renderNav(active) {
  const nav = document.getElementById('nav');
  const groups = new Map();
  for (const section of SECTIONS) {
    if (!permitted(section)) continue;
    if (!groups.has(section.group)) groups.set(section.group, []);
    groups.get(section.group).push(section);
  }
  clear(nav);
  for (const [group, sections] of groups) {
    nav.append(h('h2', { text: group }), h('ul', {}, sections.map((s) => h('li', {},
      h('a', { href: `#/${s.path}`, 'aria-current': s.path === active ? 'page' : null, text: s.title })))));
  }
  nav.hidden = false;
}

function signOut() {
  session.clear();
  location.hash = '#/';
  signInPage();
}

function match(hash) {
  const parts = hash.replace(/^#\/?/, '').split('?')[0].split('/').filter(Boolean);
  for (const page of PAGES) {
    const pattern = page.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? (params[p.slice(1)] = decodeURIComponent(parts[i])) : p === parts[i]))) {
      return { page, params };
    }
  }
  return null;
}

async function route() {
  if (!session.token) { signInPage(); return; }
  if (current) { current.dispose?.(); current = null; }
  const found = match(location.hash) || { page: null };
  const main = clear(document.getElementById('main'));
  try {
    await renderTop();
    renderNav(found.page ? found.page.path.split('/')[0] : location.hash.replace(/^#\/?/, '').split(/[/?]/)[0]);
    if (!found.page) { main.append(h('h1', { text: 'Not found' }), h('p', { text: 'No page here.' })); return; }
    if (!permitted(found.page)) {
      main.append(h('h1', { text: 'Not allowed' }), h('p', { text: `Your roles do not include ${found.page.permission} ${found.page.tenant ? 'tenant-wide' : 'in this folder'}.` }));
      return;
    }
    document.title = `${found.page.title} · Podium`;
    current = (await found.page.render(main, found.params, new URLSearchParams(location.hash.split('?')[1] || ''))) || null;
    main.focus({ preventScroll: true });
  } catch (err) {
    if (!session.token) { signInPage(); return; }
    main.append(h('p', { class: 'error', role: 'alert', text: err.message || String(err) }));
  }
}

signedOut.addEventListener('signedout', () => { toast('Your session ended; sign in again.', 'warn'); signInPage(); });
window.addEventListener('hashchange', route);
session.load();
route();
