"""The ``.nuspec`` manifest: NuGet XML read with defusedxml (no DTDs, no entities, so no XXE and no
entity-expansion bombs), namespace-agnostic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from podium.packages import versions
from podium.packages.errors import PackageError

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Nuspec:
    id: str
    version: str
    title: str | None
    description: str | None
    authors: str | None
    release_notes: str | None
    tags: str | None
    dependencies: list[str]  # "<id> <version range>" of the nuspec's <dependencies>


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(parent: Element, name: str) -> Element | None:
    for child in parent:
        if isinstance(child.tag, str) and _local(child.tag) == name:
            return child
    return None


def _text(parent: Element, name: str) -> str | None:
    child = _child(parent, name)
    if child is None:
        return None
    value = "".join(child.itertext()).strip()
    return value or None


def _dependencies(metadata: Element) -> list[str]:
    block = _child(metadata, "dependencies")
    if block is None:
        return []
    found = []
    for element in block.iter():
        if isinstance(element.tag, str) and _local(element.tag) == "dependency" and element.get("id"):
            found.append(f"{element.get('id')} {element.get('version') or ''}".strip())
    return found


def parse_nuspec(raw: bytes) -> Nuspec:
    """The manifest's metadata; PackageError when it is not XML, has a DTD, or lacks a valid id/version."""
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise PackageError(
            "The package's .nuspec is not valid XML (DTDs and entities are refused)."
        ) from None
    metadata = _child(root, "metadata") if _local(str(root.tag)) == "package" else None
    if metadata is None:
        raise PackageError("The package's .nuspec has no <package><metadata> element.")
    package_id, version = _text(metadata, "id"), _text(metadata, "version")
    if not package_id or not _ID.match(package_id):
        raise PackageError("The package's .nuspec has no valid <id> (letters, digits, '.', '_', '-').")
    if not version or not versions.is_valid(version):
        raise PackageError(f"The package's .nuspec has no valid <version> ({version!r}).")
    return Nuspec(
        id=package_id,
        version=version,
        title=_text(metadata, "title"),
        description=_text(metadata, "description"),
        authors=_text(metadata, "authors"),
        release_notes=_text(metadata, "releaseNotes"),
        tags=_text(metadata, "tags"),
        dependencies=_dependencies(metadata),
    )
