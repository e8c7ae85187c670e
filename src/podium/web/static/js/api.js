// The API, as every other client calls it: a bearer token from /api/Account/Authenticate, the folder in
// X-UIPATH-OrganizationUnitId, Orchestrator's error body ({message, errorCode, traceId}) on failure.

const KEY = 'podium.console';

export const session = {
  token: null, tenant: 'Default', user: null, userId: null, folderId: null, folderName: null, permissions: new Set(), tenantPermissions: new Set(),
  load() {
    try { Object.assign(this, JSON.parse(sessionStorage.getItem(KEY) || '{}')); } catch { /* fresh */ }
    this.permissions = new Set(this.permissionList || []);
    this.tenantPermissions = new Set(this.tenantPermissionList || []);
  },
  save() {
    const { token, tenant, user, userId, folderId, folderName } = this;
    sessionStorage.setItem(KEY, JSON.stringify({ token, tenant, user, userId, folderId, folderName,
      permissionList: [...this.permissions], tenantPermissionList: [...this.tenantPermissions] }));
  },
  clear() {
    sessionStorage.removeItem(KEY);
    Object.assign(this, { token: null, user: null, folderId: null, folderName: null, permissions: new Set(), tenantPermissions: new Set() });
  },
};

/** Held in the chosen folder: tenant-wide or through a role in that folder. */
export function can(permission) {
  return session.permissions.has(permission);
}

/** Held tenant-wide (a tenant role), what tenant-level operations such as the sessions' ask. */
export function canTenant(permission) {
  return session.tenantPermissions.has(permission);
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error_description || body.error)) || `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

export const signedOut = new EventTarget();

export async function api(method, path, { body, query, folder = true, form } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (folder && session.folderId) headers['X-UIPATH-OrganizationUnitId'] = String(session.folderId);
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const url = query ? `${path}?${new URLSearchParams(query)}` : path;
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = text; } }
  if (response.status === 401 && session.token) {
    session.clear();
    signedOut.dispatchEvent(new Event('signedout'));
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, query, options = {}) => api('GET', path, { ...options, query });
export const post = (path, body, options = {}) => api('POST', path, { ...options, body });

/** A literal for $filter: strings quoted with '' doubled, numbers and booleans as they are. */
export function literal(value) {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

export const ACTION = 'UiPath.Server.Configuration.OData';

export async function signIn(tenant, user, password) {
  const answer = await api('POST', '/api/Account/Authenticate', {
    body: { tenancyName: tenant, usernameOrEmailAddress: user, password }, folder: false,
  });
  session.token = answer.result;
  session.tenant = tenant;
  session.user = user;
  session.folderId = null;
  await loadPermissions();
}

/** The permissions in the chosen folder and, asked without a folder (in the same round trip), the
 * tenant-wide ones; at sign-in and on a change of folder, never per page. */
export async function loadPermissions() {
  const current = `/odata/Users/${ACTION}.GetCurrentPermissions`;
  const [answer, tenant] = await Promise.all([
    get(current), session.folderId ? get(current, undefined, { folder: false }) : null,
  ]);
  session.permissions = new Set(answer.Permissions || []);
  session.tenantPermissions = new Set(((tenant || answer).Permissions) || []);
  session.userId = answer.UserId;
  session.save();
}
