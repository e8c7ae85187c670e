"""Podium's own signed blob URIs: ``/api/BlobFiles/{token}``.

The SDK sends the second request of an upload/download (``RequiresAuth: false``) with no credentials at
all, so the URI itself must be the capability. The token is ``base64url(payload).base64url(mac)`` where
the payload names tenant, bucket, path, verb and expiry, and the MAC is HMAC-SHA256 under a key derived
from the server's signing key (a separate key, so a blob token is never a valid access token and vice
versa). Any change to the payload breaks the MAC; the verb and expiry are checked on use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import orjson

from podium.errors import PodiumError

ROUTE = "/api/BlobFiles/"
ATTACHMENT_ROUTE = "/api/AttachmentFiles/"
BUCKETS = b"podium.blob-uri.v1"
ATTACHMENTS = b"podium.attachment-uri.v1"  # the grant's bucket_id is then the attachment's row id


@dataclass(frozen=True)
class BlobGrant:
    tenant_id: int
    bucket_id: int
    path: str
    verb: str  # GET or PUT
    expires: int  # unix seconds
    content_type: str | None = None


def derive_key(signing_key: str, purpose: bytes = BUCKETS) -> bytes:
    """The MAC key of one kind of URI: a bucket file's token is never an attachment's, and vice versa."""
    return hmac.new(signing_key.encode(), purpose, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, grant: BlobGrant) -> str:
    payload = _b64(
        orjson.dumps(
            [grant.tenant_id, grant.bucket_id, grant.path, grant.verb, grant.expires, grant.content_type]
        )
    )
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def denied(message: str) -> PodiumError:
    return PodiumError(message, status=403)


def verify(key: bytes, token: str, verb: str, now: float | None = None) -> BlobGrant:
    """The grant of a token used with ``verb``; 403 when tampered, expired or for another verb."""
    payload, _, mac = token.partition(".")
    try:
        given = _unb64(mac)
    except ValueError:
        raise denied("The signature of the blob URI is not valid.") from None
    expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    if not mac or not hmac.compare_digest(given, expected):
        raise denied("The signature of the blob URI is not valid.")
    tenant_id, bucket_id, path, granted_verb, expires, content_type = orjson.loads(_unb64(payload))
    grant = BlobGrant(tenant_id, bucket_id, path, granted_verb, expires, content_type)
    if (time.time() if now is None else now) > grant.expires:
        raise denied("The blob URI has expired.")
    allowed = {"GET", "HEAD"} if grant.verb == "GET" else {grant.verb}
    if verb not in allowed:
        raise denied(f"The blob URI grants {grant.verb} only, not {verb}.")
    return grant
