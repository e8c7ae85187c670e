"""Form tasks' data checked against their form.io layout, before it is saved or completes the task.

A reasonable subset of form.io, enough that a form's own rules hold on the server too (a browser's checks
are no guarantee): input components are found at any depth (panels, columns, tables, fieldsets), and for
each one with a ``key``:

- ``validate.required``: the value must be present and not empty (a checkbox must be checked);
- ``textfield``, ``textarea``, ``email``, ``password``, ``phoneNumber``, ``url``: text, within
  ``validate.minLength``/``maxLength``;
- ``number``, ``currency``: a number, within ``validate.min``/``max``;
- ``checkbox``: true or false;
- ``select``, ``radio``: one of the component's values (``values[].value`` or ``data.values[].value``),
  a list of them when ``multiple``; ``selectboxes``: an object of booleans keyed by those values.

Other components (and data keys no component names) are not checked. A value of null counts as absent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from podium.errors import bad_request

TEXT_TYPES = frozenset({"textfield", "textarea", "email", "password", "phonenumber", "url"})
NUMBER_TYPES = frozenset({"number", "currency"})
CHOICE_TYPES = frozenset({"select", "radio"})
LAYOUT_TYPES = frozenset(
    {"button", "htmlelement", "content", "panel", "columns", "fieldset", "table", "well"}
)
MAX_COMPONENTS = 10_000


def check_layout(layout: Any) -> dict[str, Any]:
    """A form.io layout: a JSON object (with ``components``, a list, when given)."""
    if not isinstance(layout, Mapping):
        raise bad_request("formLayout must be a JSON object (a form.io form).")
    if "components" in layout and not isinstance(layout["components"], list):
        raise bad_request("formLayout.components must be a list.")
    return dict(layout)


def inputs(layout: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The layout's input components (with a ``key``), at any depth."""
    stack: list[Any] = [layout]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_COMPONENTS:
            raise bad_request(f"formLayout has more than {MAX_COMPONENTS} components.")
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, Mapping):
            continue
        kind = str(node.get("type") or "").lower()
        if node is not layout and node.get("key") and node.get("input", kind not in LAYOUT_TYPES):
            yield node
            if kind in ("datagrid", "editgrid", "container"):
                continue  # their children's values are nested in the component's own value
        for child in ("components", "columns", "rows"):
            if child in node:
                stack.append(node[child])


def problems(layout: Mapping[str, Any], data: Mapping[str, Any], *, complete: bool) -> list[str]:
    """What ``data`` breaks of the layout's rules; ``complete``: required fields must be there too (a
    draft saved with SaveTaskData may still lack them)."""
    found: list[str] = []
    for component in inputs(layout):
        key = str(component["key"])
        kind = str(component.get("type") or "").lower()
        rules = component.get("validate")
        validate: Mapping[str, Any] = rules if isinstance(rules, Mapping) else {}
        value = data.get(key)
        if value is None or value == "" or value == []:
            if complete and validate.get("required"):
                found.append(f"'{key}' is required")
            continue
        problem = _value_problem(component, kind, validate, value)
        if problem:
            found.append(f"'{key}' {problem}")
        elif complete and kind == "checkbox" and validate.get("required") and value is not True:
            found.append(f"'{key}' is required")
    return found


def check_data(layout: Mapping[str, Any] | None, data: Mapping[str, Any], *, complete: bool) -> None:
    """400 naming every rule ``data`` breaks (nothing to check without a layout)."""
    if layout is None:
        return
    found = problems(layout, data, complete=complete)
    if found:
        raise bad_request("The task data does not match the form: " + "; ".join(found) + ".")


def _value_problem(component: Mapping[str, Any], kind: str, validate: Mapping[str, Any], value: Any) -> str:
    if kind in TEXT_TYPES:
        if not isinstance(value, str):
            return "must be a text"
        low, high = validate.get("minLength"), validate.get("maxLength")
        if isinstance(low, int) and len(value) < low:
            return f"must have at least {low} characters"
        if isinstance(high, int) and len(value) > high:
            return f"must have at most {high} characters"
    elif kind in NUMBER_TYPES:
        if not _is_number(value):
            return "must be a number"
        low, high = validate.get("min"), validate.get("max")
        if low is not None and _is_number(low) and value < low:
            return f"must be at least {low}"
        if high is not None and _is_number(high) and value > high:
            return f"must be at most {high}"
    elif kind == "checkbox":
        if not isinstance(value, bool):
            return "must be true or false"
    elif kind in CHOICE_TYPES:
        allowed = _choices(component)
        values = value if component.get("multiple") and isinstance(value, list) else [value]
        if allowed is not None and any(_text(v) not in allowed for v in values):
            return "must be one of " + ", ".join(sorted(allowed))
    elif kind == "selectboxes":
        allowed = _choices(component)
        if not isinstance(value, Mapping) or not all(isinstance(v, bool) for v in value.values()):
            return "must be an object of true/false values"
        if allowed is not None and any(k not in allowed for k in value):
            return "must only name " + ", ".join(sorted(allowed))
    return ""


def _choices(component: Mapping[str, Any]) -> set[str] | None:
    """The values a select/radio/selectboxes offers, or None when they come from elsewhere (a URL)."""
    values = component.get("values")
    data = component.get("data")
    if not values and isinstance(data, Mapping):
        values = data.get("values")
    if not isinstance(values, list) or not values:
        return None
    return {_text(v.get("value")) for v in values if isinstance(v, Mapping)}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
