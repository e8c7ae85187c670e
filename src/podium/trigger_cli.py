"""``podium triggers list`` and ``podium triggers fire NAME``: a client of the API (``PODIUM_URL`` and a
token: ``PODIUM_TOKEN``, e.g. a personal access token), so the API's permission checks are the ones that
apply (Schedules.View to list; Schedules.Edit and Jobs.Create to fire)."""

from __future__ import annotations

from typing import Any, TextIO
from urllib.parse import quote

import httpx

OPERATIONS = "/odata/ProcessSchedules"
NS = "UiPath.Server.Configuration.OData"


class CliError(Exception):
    """What to print before exiting with status 1."""


def _headers(token: str, folder: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": folder}


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise CliError(f"{response.status_code}: {message}")
    return response.json() if response.content else None


def list_triggers(client: httpx.Client, token: str, folder: str, out: TextIO) -> int:
    """Prints one line per trigger of the folder: name, enabled, next occurrence, cron or queue."""
    answer = _answer(client.get(f"{OPERATIONS}?$orderby=Name", headers=_headers(token, folder)))
    for item in answer["value"]:
        what = (
            f"queue {item['QueueDefinitionName']}"
            if item.get("QueueDefinitionId") is not None
            else f"{item['StartProcessCron']} ({item['TimeZoneId']})"
        )
        state = "enabled" if item["Enabled"] else "disabled"
        following = item.get("StartProcessNextOccurrence") or "-"
        out.write(f"{item['Name']}\t{state}\t{following}\t{item.get('ReleaseName')}\t{what}\n")
        if item.get("DisabledReason"):
            out.write(f"  disabled: {item['DisabledReason']}\n")
    return len(answer["value"])


def fire_trigger(client: httpx.Client, token: str, folder: str, name: str, out: TextIO) -> list[int]:
    """Fires the folder's trigger named ``name`` now; prints and returns the new jobs' ids."""
    literal = name.replace("'", "''")
    url = f"{OPERATIONS}?$filter=Name eq '{quote(literal)}'&$select=Id"
    found = _answer(client.get(url, headers=_headers(token, folder)))["value"]
    if not found:
        raise CliError(f"No trigger named '{name}' in folder '{folder}'.")
    answer = _answer(
        client.post(f"{OPERATIONS}({found[0]['Id']})/{NS}.Fire", headers=_headers(token, folder))
    )
    ids: list[int] = answer["value"]
    out.write(f"Fired '{name}': jobs {', '.join(str(i) for i in ids) or '(none)'}\n")
    return ids
