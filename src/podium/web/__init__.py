"""The web console: a small single-page app (plain ES modules, no build step) shipped in the package and
served by ``podium serve`` at ``/``. It calls the same API as every other client, with the signed-in
user's token, so it sees and may do exactly what the API allows that user (docs/decisions.md)."""
