"""Asset values: what each ``ValueType`` accepts, the ``Value`` text Orchestrator derives from it, and
how values are stored (secrets sealed, never in clear).

No HTTP here: the API layer hands request bodies in and gets column values or 400 errors back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from podium.errors import PodiumError, bad_request


class AssetValueType(enum.IntEnum):
    """Orchestrator's numbers (API guide: Text 2, Bool 3, Integer 4, Credential 5); Secret is the newer
    secret asset type (``SecretValue``)."""

    DBConnectionString = 0
    HttpConnectionString = 1
    Text = 2
    Bool = 3
    Integer = 4
    Credential = 5
    WindowsCredential = 6
    KeyValueList = 7
    Secret = 8


class AssetValueScope(enum.IntEnum):
    Global = 0
    PerRobot = 1


class AssetErrorCode:
    CREDENTIAL_EMPTY_PASSWORD = 2400  # CredentialAssetEmptyPasswordForNewUser
    TYPE_NOT_UPDATABLE = 2401  # AssetTypeNonUpdatable
    NOT_AVAILABLE_FOR_ROBOT = 2402  # AssetNotAvailableForRobot
    NOT_FOUND = 2403  # AssetNotFound


CREDENTIAL_TYPES = frozenset({AssetValueType.Credential, AssetValueType.WindowsCredential})
SEALED_TYPES = CREDENTIAL_TYPES | {AssetValueType.Secret}
STRING_TYPES = frozenset(
    {AssetValueType.Text, AssetValueType.DBConnectionString, AssetValueType.HttpConnectionString}
)
MAX_TEXT = 1_000_000  # "Global and Per Robot text assets support up to 1,000,000 characters"
INT32 = (-(2**31), 2**31 - 1)

Sealer = Callable[[str], str]


@dataclass
class AssetValue:
    """One value of an asset (global, a robot's or a user's), with the secret in clear."""

    value_type: AssetValueType
    string_value: str | None = None
    bool_value: bool = False
    int_value: int = 0
    credential_username: str | None = None
    secret: str | None = None  # the password of a credential or the value of a secret; None: keep
    key_value_list: list[dict[str, str]] | None = None

    @property
    def display(self) -> str | None:
        """Orchestrator's ``Value``: the value as text (a credential shows its user name only)."""
        kind = self.value_type
        if kind in STRING_TYPES:
            return self.string_value
        if kind is AssetValueType.Bool:
            return "True" if self.bool_value else "False"
        if kind is AssetValueType.Integer:
            return str(self.int_value)
        if kind in CREDENTIAL_TYPES:
            return f"username: {self.credential_username}"
        if kind is AssetValueType.KeyValueList:
            return ", ".join(f"{item['Key']}: {item['Value']}" for item in self.key_value_list or [])
        return None  # a secret's value is never shown

    def columns(self, seal: Sealer, kept_secret: str | None) -> dict[str, Any]:
        """Column values; the secret sealed (or the row's current sealed secret when not given)."""
        sealed = seal(self.secret) if self.secret is not None else kept_secret
        return {
            "value": self.display,
            "string_value": self.string_value,
            "bool_value": self.bool_value,
            "int_value": self.int_value,
            "credential_username": self.credential_username,
            "secret": sealed if self.value_type in SEALED_TYPES else None,
            "key_value_list": orjson.dumps(self.key_value_list or []).decode(),
        }


def _field(body: Mapping[str, Any], name: str) -> Any:
    return body.get(name)


def _text(body: Mapping[str, Any], name: str, where: str, *, required: bool) -> str | None:
    value = _field(body, name)
    if value is None:
        if required:
            raise bad_request(f"{where}{name} is required for this asset type.")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{where}{name} must be a string.")
    if len(value) > MAX_TEXT:
        raise bad_request(f"{where}{name} must be at most {MAX_TEXT} characters long.")
    return value


def _bool(body: Mapping[str, Any], where: str) -> bool:
    value, raw = body.get("BoolValue"), body.get("Value")
    if value is None and isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if not isinstance(value, bool):
        raise bad_request(f"{where}BoolValue must be true or false for a Bool asset.")
    return value


def _int(body: Mapping[str, Any], where: str) -> int:
    value = body.get("IntValue")
    if value is None:
        value = body.get("Value")
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{where}IntValue must be an integer for an Integer asset (got {value!r}).")
    if not INT32[0] <= value <= INT32[1]:
        raise bad_request(f"{where}IntValue is out of range (32-bit integer).")
    return value


def _key_value_list(body: Mapping[str, Any], where: str) -> list[dict[str, str]]:
    items = body.get("KeyValueList")
    if not isinstance(items, list):
        raise bad_request(f"{where}KeyValueList must be a list of {{Key, Value}} for a KeyValueList asset.")
    pairs: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("Key"), str) or not item["Key"]:
            raise bad_request(f"{where}each KeyValueList item needs a non-empty string Key.")
        value = item.get("Value")
        if not isinstance(value, str):
            raise bad_request(f"{where}the Value of KeyValueList item '{item['Key']}' must be a string.")
        if item["Key"] in seen:
            raise bad_request(f"{where}the KeyValueList key '{item['Key']}' appears twice.")
        seen.add(item["Key"])
        pairs.append({"Key": item["Key"], "Value": value})
    return pairs


def parse_value(
    value_type: AssetValueType, body: Mapping[str, Any], *, has_secret: bool, where: str = ""
) -> AssetValue:
    """The value a body gives for the type; 400 when it does not fit.

    ``has_secret``: the row already holds a password/secret, so an empty one in the body keeps it
    (reads never return it, so clients send the DTO back without it).
    """
    value = AssetValue(value_type)
    if value_type in STRING_TYPES:
        text = _text(body, "StringValue", where, required=False)
        if text is None:
            text = _text(body, "Value", where, required=False)
        if text is None:
            raise bad_request(f"{where}StringValue is required for a {value_type.name} asset.")
        value.string_value = text
    elif value_type is AssetValueType.Bool:
        value.bool_value = _bool(body, where)
    elif value_type is AssetValueType.Integer:
        value.int_value = _int(body, where)
    elif value_type in CREDENTIAL_TYPES:
        user = _text(body, "CredentialUsername", where, required=True)
        if not user:
            raise bad_request(f"{where}CredentialUsername must not be empty.")
        value.credential_username = user
        value.secret = _secret(body, "CredentialPassword", where, has_secret)
    elif value_type is AssetValueType.KeyValueList:
        value.key_value_list = _key_value_list(body, where)
    elif value_type is AssetValueType.Secret:
        value.secret = _secret(body, "SecretValue", where, has_secret)
    return value


def _secret(body: Mapping[str, Any], name: str, where: str, has_secret: bool) -> str | None:
    secret = _text(body, name, where, required=False)
    if secret:
        return secret
    if has_secret:
        return None
    raise PodiumError(
        f"{where}{name} is required for a new credential or secret.",
        status=400,
        code=AssetErrorCode.CREDENTIAL_EMPTY_PASSWORD,
    )


def value_from_row(row: Mapping[str, Any], open_secret: Callable[[str], str] | None) -> dict[str, Any]:
    """The value properties of a DTO from a stored row; the secret opened only with ``open_secret``."""
    kind = AssetValueType(row["value_type"])
    secret = row.get("secret")
    clear = open_secret(secret) if open_secret is not None and secret else None
    key_values = orjson.loads(row["key_value_list"]) if row.get("key_value_list") else []
    return {
        "ValueType": kind.name,
        "Value": row.get("value") or "",
        "StringValue": row.get("string_value") or "",
        "BoolValue": bool(row.get("bool_value")),
        "IntValue": int(row.get("int_value") or 0),
        "CredentialUsername": row.get("credential_username") or "",
        "CredentialPassword": (clear or "") if kind in CREDENTIAL_TYPES else "",
        "SecretValue": (clear or "") if kind is AssetValueType.Secret else None,
        "KeyValueList": key_values,
    }


def json_list(text: Any) -> Any:
    """Reads a JSON list column for a DTO (an empty list when unset)."""
    return orjson.loads(text) if text else []


def parse_tags(body: Mapping[str, Any]) -> str | None:
    """``Tags`` (list of TagDto) as stored JSON; None when the body does not set them."""
    if "Tags" not in body:
        return None
    tags = body["Tags"] or []
    if not isinstance(tags, list):
        raise bad_request("Tags must be a list of tags.")
    cleaned = []
    for tag in tags:
        if not isinstance(tag, Mapping) or not isinstance(tag.get("Name"), str) or not tag["Name"]:
            raise bad_request("Each tag needs a non-empty Name.")
        value = tag.get("Value")
        if value is not None and not isinstance(value, str):
            raise bad_request("A tag's Value must be a string.")
        cleaned.append(
            {
                "Name": tag["Name"],
                "DisplayName": tag.get("DisplayName") or tag["Name"],
                "Value": value,
                "DisplayValue": tag.get("DisplayValue") or value,
            }
        )
    return orjson.dumps(cleaned).decode()
