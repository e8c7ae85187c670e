"""The one error of the package reader."""

from __future__ import annotations


class PackageError(Exception):
    """The package is not valid; the message says what is wrong (the API answers it as a 400)."""
