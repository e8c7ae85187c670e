"""Item data of encrypted queues, sealed at rest with the keyring (``podium.domain.crypto``).

A queue created with ``Encrypted: true`` stores its items' ``SpecificContent``, ``Output`` and
``Analytics`` as sealed text (``pe1:<key id>:…``, AES-256-GCM) instead of JSON text; the other queues
keep JSON text, untouched. Clear JSON text always starts with ``{``, sealed text with ``pe1:``: readers
tell them apart by the value. Whether a queue is encrypted cannot change once it exists.

The associated data binds each value to its item and property (a value copied into another row or
property does not open): ``queue-item:<tenant>:<key>:<property>``, where the key is the item's ``Key``
for SpecificContent (shared by an item and its retries, which copy its sealed content as it is) and its
``UniqueKey`` for Output and Analytics (one attempt's own). Both keys are GUIDs the item gets before it
is inserted (its id does not exist yet, and a bulk add's COPY needs the sealed values first) and never
change.

Values are opened on every read: the API's answers, the QueueItems and Queues sets (declared with
``EntitySet.sealed``, which also refuses ``$filter`` and ``$orderby`` on them), history and exports.
Retention archives keep them sealed (``domain/queue_retention.py``); ``podium admin rotate-key``
re-seals the items (``domain/sealed.py``) and the archives under a new key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from podium.domain.crypto import Keyring, is_sealed

# column → property of QueueItemDto
SEALED = {"specific_content": "SpecificContent", "output": "Output", "analytics": "Analytics"}
COLUMN_OF = {name: column for column, name in SEALED.items()}
ENCRYPTED_MARK = "(encrypted)"  # in place of a sealed property's value in an item's Edit event

Keys = Callable[[], Keyring]
"""The keyring, asked for only when an encrypted queue's item is written or read."""
Seal = Callable[[str, str], str]


def aad(tenant_id: int, key: str, unique_key: str, column: str) -> str:
    """The associated data of a sealed column of an item (see the module's docstring)."""
    bound = key if column == "specific_content" else unique_key
    return f"queue-item:{tenant_id}:{bound}:{SEALED[column]}"


def row_aad(row: Mapping[str, Any], column: str) -> str:
    return aad(row["tenant_id"], row["key"], row["unique_key"], column)


def seal_columns(seal: Seal, row: Mapping[str, Any], values: dict[str, Any]) -> None:
    """Seals, in ``values`` (columns being written to the item ``row``), the sealed columns' JSON text."""
    for column in SEALED:
        clear = values.get(column)
        if clear is not None and not is_sealed(clear):
            values[column] = seal(clear, row_aad(row, column))


def seal_rows(seal: Seal, rows: list[dict[str, Any]]) -> None:
    """Seals the sealed columns of new items' rows (values of ``queue_items.item_values``)."""
    for row in rows:
        seal_columns(seal, row, row)


def has_sealed(row: Mapping[str, Any]) -> bool:
    return any(is_sealed(row.get(column)) for column in SEALED)


def opened_row(keyring: Keyring, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row with its sealed columns opened (JSON text again)."""
    opened = dict(row)
    for column in SEALED:
        if is_sealed(row.get(column)):
            opened[column] = keyring.open(row[column], row_aad(row, column))
    return opened


def opener(keys: Keys) -> Callable[[str, Any, tuple[Any, ...]], Any]:
    """What the QueueItems and Queues sets read a sealed property with: ``(property, stored value,
    (tenant_id, key, unique_key))`` → the property's value (the parsed JSON object, or None)."""

    def read(name: str, stored: Any, context: tuple[Any, ...]) -> Any:
        if stored is None:
            return None
        if is_sealed(stored):
            tenant_id, key, unique_key = context
            stored = keys().open(stored, aad(tenant_id, key, unique_key, COLUMN_OF[name]))
        return orjson.loads(stored)

    return read


OPENER_CONTEXT = ("tenant_id", "key", "unique_key")  # the columns ``opener`` needs besides the value


def mark_sealed(data: dict[str, Any]) -> dict[str, Any]:
    """An Edit event's data without the values of sealed properties (they would be clear text there)."""
    return {
        name: ENCRYPTED_MARK if name in COLUMN_OF and value is not None else value
        for name, value in data.items()
    }
