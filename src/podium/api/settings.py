"""Settings: the tenant's settings as Orchestrator's ``/odata/Settings`` serves them, over the store of
``domain/settings.py`` (typed keys, per-tenant values, the environment as the default).

``GET /odata/Settings`` lists every key with its value (set or default; ``$filter``/``$orderby`` work as
anywhere), ``PUT /odata/Settings('<name>')`` and ``UpdateBulk`` change values (each checked against its
key: an unknown name or a value of the wrong type is a 400 and nothing is written), ``DeleteBulk`` puts
keys back to their defaults. The ``Get*`` functions answer what Podium has: its authentication keys, its
web keys, time zones, languages, the licence use (``domain/licensing.py``). Podium takes no licence, sends
no mail and updates no robots: those actions answer 400 saying so.

Permissions: Settings.View to read, Settings.Edit to change; a user's own setting (UpdateUserSetting)
needs no permission.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from podium import __version__, inputs
from podium.db.schema_settings import tenant_settings
from podium.domain import calendars, licensing, settings
from podium.domain.credential_stores import AVAILABLE_TYPES
from podium.domain.timezones import timezone_list
from podium.errors import bad_request
from podium.http.context import RequestContext, request_context
from podium.odata.declare import constant, text
from podium.odata.model import EntitySet, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import json_response, param, require_body

area = Area("Settings")

NO_LICENCE = (
    "Podium needs no licence: every robot, machine and runtime is available without one. "
    "Settings/GetLicense and /odata/LicensesRuntime report what is in use."
)


async def _edit(ctx: RequestContext, conn: AsyncConnection, row: Mapping[str, Any], body: Any) -> None:
    """PUT Settings('<name>'): a SettingsDto whose Value is checked against the key."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a SettingsDto object.")
    named = body.get("Name")
    if named is not None and (not isinstance(named, str) or named.lower() != row["name"].lower()):
        raise bad_request("Name must be the setting of the key.")
    if "Value" not in body:
        raise bad_request("Value is required.")
    await settings.update(
        conn, ctx.tenant_id, settings.check_changes([(row["name"], body["Value"])]), ctx.user_id
    )


SETTINGS = area.add(
    EntitySet(
        name="Settings",
        type_name="SettingsDto",
        table=tenant_settings,
        scope=Scope.TENANT,
        permission="Settings",
        key_column="name",
        insertable=False,
        deletable=False,
        edit=_edit,
        fields=[
            text("Name", "name", read_only=True),
            text("Value", "value"),
            constant("Scope", settings.SettingScope.Tenant.name),
            text("Id", "name", read_only=True),
        ],
    )
)


def _dictionary(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A ResponseDictionaryDto."""
    return {"Keys": [k for k, _ in pairs], "Values": [v for _, v in pairs]}


async def _group(ctx: RequestContext, group: str) -> list[tuple[str, str]]:
    async with ctx.state.db.read() as conn:
        return [
            (item.name, text)
            for item, text, _ in await settings.effective(conn, ctx.tenant_id)
            if group in item.groups
        ]


def _setting_dto(name: str, value: str, scope: settings.SettingScope) -> dict[str, Any]:
    return {"Name": name, "Value": value, "Scope": scope.name, "Id": name}


@area.operation("Settings", "UpdateBulk", summary="Updates settings (all or none)")
async def update_bulk(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Settings.Edit")
    body = require_body(call)
    given = body.get("settings")
    if not isinstance(given, list) or not given:
        raise bad_request("settings must be a non-empty list of SettingsDto.")
    if len(given) > len(settings.KEYS):
        raise bad_request(f"At most {len(settings.KEYS)} settings at once.")
    pairs = []
    for item in given:
        if not isinstance(item, dict) or "Name" not in item or "Value" not in item:
            raise bad_request("Each setting needs Name and Value.")
        pairs.append((item["Name"], item["Value"]))
    changes = settings.check_changes(pairs)
    async with ctx.state.db.write() as conn:
        await settings.update(conn, ctx.tenant_id, changes, ctx.user_id)


@area.operation("Settings", "DeleteBulk", summary="Puts settings back to their defaults (all or none)")
async def delete_bulk(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Settings.Edit")
    names = require_body(call).get("settingNames")
    if not isinstance(names, list) or not names or len(names) > len(settings.KEYS):
        raise bad_request("settingNames must be a non-empty list of setting names.")
    checked = [settings.key(name) for name in names]
    async with ctx.state.db.write() as conn:
        await settings.reset(conn, ctx.tenant_id, [item.name for item in checked], ctx.user_id)


@area.operation(
    "Settings", "UpdateUserSetting", summary="Sets one of the caller's own settings", returns="SettingsDto"
)
async def update_user_setting(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    setting = require_body(call).get("setting")
    if not isinstance(setting, dict):
        raise bad_request("setting must be a SettingsDto object.")
    async with ctx.state.db.write() as conn:
        item, value = await settings.update_user(
            conn, ctx.tenant_id, ctx.user_id, setting.get("Name"), setting.get("Value")
        )
    return _setting_dto(item.name, value, settings.SettingScope.User)


@area.operation(
    "Settings",
    "GetAuthenticationSettings",
    method="GET",
    summary="The tenant's sign-in settings (lockout, password complexity)",
    returns="ResponseDictionaryDto",
)
async def authentication_settings(ctx: RequestContext, call: ActionCall) -> dict[str, list[str]]:
    ctx.require("Settings.View")
    return _dictionary(await _group(ctx, "Authentication"))


@area.operation(
    "Settings",
    "GetWebSettings",
    method="GET",
    summary="Settings a web client reads: time zone, language, the caller's own values",
    returns="ResponseDictionaryDto",
)
async def web_settings(ctx: RequestContext, call: ActionCall) -> dict[str, list[str]]:
    """Any signed-in user: what a client needs to show dates and text (the user's own language)."""
    async with ctx.state.db.read() as conn:
        pairs = []
        for item in settings.KEYS:
            if "Web" in item.groups:
                value = await settings.user_value(conn, ctx.tenant_id, ctx.user_id, item)
                pairs.append((item.name, item.text(value)))
    pairs.append(("Podium.Version", __version__))
    return _dictionary(pairs)


@area.operation(
    "Settings",
    "GetUpdateSettings",
    method="GET",
    summary="Robot update settings: Podium does not update robots (no server, no polling)",
    returns="UpdateSettingsDto",
)
async def update_settings(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Settings.View")
    return {"UpdateServerSource": "Orchestrator", "UpdateServerUrl": None, "PollingInterval": 0}


@area.operation(
    "Settings",
    "GetTimezones",
    method="GET",
    summary="The time zones Podium knows (Windows ids; IANA ids are accepted too)",
    returns="ListResultDtoOfNameValueDto",
)
async def timezones(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return {"items": [{"Name": z.display_name, "Value": z.windows_id} for z in timezone_list()]}


@area.operation(
    "Settings",
    "GetCalendar",
    method="GET",
    summary="Gets custom calendar, with excluded dates in UTC, for current tenant (the BankHoliday calendar)",
    returns="CalendarDto",
)
async def get_calendar(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Settings.View")
    async with ctx.state.db.read() as conn:
        return await calendars.legacy_calendar(conn, ctx.tenant_id)


@area.operation(
    "Settings",
    "SetCalendar",
    summary="Sets custom calendar, with excluded dates in UTC, for current tenant (the BankHoliday calendar)",
    body_schema={
        "type": "object",
        "properties": {
            "TimeZoneId": {"type": "string"},
            "ExcludedDates": {"type": "array", "items": {"type": "string", "format": "date-time"}},
        },
    },
)
async def set_calendar(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Settings.Edit")
    body = require_body(call)
    async with ctx.state.db.write() as conn:
        await calendars.set_legacy_calendar(conn, ctx.tenant_id, body)


@area.operation(
    "Settings",
    "GetLanguages",
    method="GET",
    summary="Languages, the tenant's default marked",
    returns="ListResultDtoOfLanguageInfo",
)
async def languages(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    async with ctx.state.db.read() as conn:
        default = await settings.user_value(conn, ctx.tenant_id, ctx.user_id, settings.LANGUAGE)
    return {
        "Items": [
            {
                "Name": name,
                "DisplayName": display,
                "Icon": None,
                "IsDefault": name == default,
                "IsDisabled": False,
            }
            for name, display in settings.LANGUAGES.items()
        ]
    }


@area.operation(
    "Settings",
    "GetActivitySettings",
    method="GET",
    summary="What activities need: the API version (no SignalR hub)",
    returns="ActivitySettingsDto",
)
async def activity_settings(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return {"ApiVersion": __version__, "SignalR": None}


@area.operation(
    "Settings",
    "GetConnectionString",
    method="GET",
    summary="The database URL (password hidden); Settings.Edit",
    returns="ODataValueOfString",
)
async def connection_string(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Settings.Edit")
    url = make_url(ctx.state.db.url).render_as_string(hide_password=True)
    return {"value": url}


EXECUTION_SETTINGS = [
    {
        "Key": "TracingLevel",
        "DisplayName": "Logging Level",
        "ValueType": "MultipleChoice",
        "DefaultValue": "Information",
        "PossibleValues": ["Verbose", "Trace", "Information", "Warning", "Error", "Critical", "Off"],
    }
]


@area.operation(
    "Settings",
    "GetExecutionSettingsConfiguration",
    method="GET",
    summary="The robot execution settings Podium knows (Global or Robot scope)",
    returns="ExecutionSettingsConfiguration",
    parameters=("scope",),
)
async def execution_settings(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Settings.View")
    scope = inputs.url_integer(param(call, "scope"))
    names = {0: "Global", 1: "Robot", "global": "Global", "robot": "Robot"}
    found = names.get(scope.lower() if isinstance(scope, str) else scope)
    if found is None:
        raise bad_request("scope must be 0 (Global) or 1 (Robot).")
    return {"Scope": found, "Configuration": EXECUTION_SETTINGS}


@area.operation(
    "Settings",
    "GetSecureStoreConfiguration",
    method="GET",
    summary="Configuration entries of a credential store type (Database: none)",
    returns="Collection(ConfigurationEntry)",
    parameters=("storeTypeName",),
)
async def secure_store_configuration(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Settings.View")
    name = param(call, "storeTypeName")
    name = name.strip("'") if isinstance(name, str) else name
    if name not in AVAILABLE_TYPES:
        raise bad_request(
            f"Unknown credential store type {name!r} (available: {', '.join(AVAILABLE_TYPES)})."
        )
    return {"value": []}


@area.operation(
    "Settings",
    "GetLicense",
    method="GET",
    summary="The tenant's licence use (Podium needs no licence)",
    returns="LicenseDto",
)
async def get_license(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("License.View")
    async with ctx.state.db.read() as conn:
        return await licensing.license_dto(conn, ctx.tenant_id)


@area.operation("Settings", "VerifySmtpSetting", summary="Podium sends no e-mail: 400")
async def verify_smtp(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("Settings.Edit")
    raise bad_request("Podium sends no e-mail: there are no SMTP settings to verify.")


def _refuse_licence(name: str, summary: str) -> None:
    async def refuse(ctx: RequestContext, call: ActionCall) -> None:
        ctx.require("License.Edit")
        raise bad_request(NO_LICENCE)

    area.operation("Settings", name, summary=f"{summary}: Podium needs no licence (400)", raw_body=True)(
        refuse
    )


for _name, _summary in (
    ("ActivateLicenseOffline", "Activates a licence offline"),
    ("ActivateLicenseOnline", "Activates a licence"),
    ("DeactivateLicenseOnline", "Deactivates the licence"),
    ("DeleteLicense", "Removes the licence"),
    ("GetDeactivateLicenseOffline", "Deactivation request"),
    ("GetLicenseOffline", "Offline activation request"),
    ("UpdateLicenseOnline", "Updates the licence"),
    ("UploadLicense", "Uploads a licence file"),
):
    _refuse_licence(_name, _summary)


@area.router.get(
    "/api/Translations/GetTranslations",
    summary="Translation resources of a language: none (Podium's console is in English only), {} for "
    "every language GetLanguages offers, 400 for another",
)
async def get_translations(request: Request, lang: str | None = None) -> Response:
    """Any signed-in caller; the web client merges these over its own strings, and Podium has none of
    its own to send (its console is not localized), so a known language answers an empty dictionary."""
    await request_context(request)
    if lang is not None and lang.lower() not in {code.lower() for code in settings.LANGUAGES}:
        raise bad_request(f"Unknown language {lang!r} (available: {', '.join(settings.LANGUAGES)}).")
    return json_response({})
