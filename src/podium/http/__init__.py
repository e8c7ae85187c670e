"""HTTP plumbing shared by every area: the edge (URL prefixes, trace ids, error bodies, body limits),
routes served from the edge, the request context (tenant, principal, folder), uploads, and the
per-process application state handlers reach. Imports neither ``podium.api`` nor ``podium.odata``."""
