"""Files: checked on the way in (size, type from the content), and handed out only through expiring
signed links to the people allowed to see them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
import unicodedata
import uuid
from datetime import datetime
from urllib.parse import urlencode

import asyncpg
import filetype
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.errors import Forbidden, Gone, Invalid, NotFound, PayloadTooLarge
from market.core.i18n import format_size
from market.core.settings import Settings
from market.storage import images
from market.storage.backends import LocalStorage, S3Storage
from market.storage.interfaces import FileStorage

# What the platform accepts, by the type read from the file's own bytes.
ACCEPTED = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WebP",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "text/plain": "text",
}


class StoredFile(msgspec.Struct, frozen=True):
    id: uuid.UUID
    organisation_id: int | None
    uploaded_by: int | None  # None: a resident without an account (a complaint's photo)
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    visibility: str
    created_at: datetime


class FileLink(msgspec.Struct, frozen=True):
    url: str
    expires_at: int


def storage_from_settings(settings: Settings) -> FileStorage:
    if settings.storage_backend == "s3":
        return S3Storage(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                         access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key)
    return LocalStorage(settings.local_storage_dir)


def detect_type(data: bytes) -> str | None:
    """The content type from the bytes themselves; text is recognised as valid UTF-8 without control bytes."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t\f" for c in text):
        return None
    return "text/plain"


def clean_filename(name: str) -> str:
    """The last path component only, without control characters: a name is for display, never a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C").strip(" .")
    return base[:200] or "file"


_FILE = "select * from files where id = $1"
_OF_ORGANISATION = "select * from files where organisation_id = $1 order by created_at desc limit $2"


def _row(row: asyncpg.Record) -> StoredFile:
    return StoredFile(**{k: row[k] for k in StoredFile.__struct_fields__})


async def store(conn: asyncpg.Connection, storage: FileStorage, settings: Settings, identity: Identity | None,
                data: bytes, filename: str, visibility: str = "private",
                strip_location: bool = False) -> StoredFile:
    """Keep an uploaded file; with `strip_location`, an image loses the metadata that says where it
    was taken (see images.without_location) before anything is kept. Without an identity (a resident
    with no account), the file belongs to nobody: only a domain's granted link or its own check reads it.
    `visibility` is as the form sent it, checked here: "public" or "private"."""
    if len(data) == 0:
        raise Invalid("The file is empty.", field="file")
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge("The file is too large: at most %(size)s.", field="file",
                              size=format_size(settings.max_upload_bytes))
    content_type = detect_type(data)
    if content_type not in ACCEPTED:
        raise Invalid("This kind of file is not accepted. Upload a PDF, a PNG, JPEG or WebP image, a Word or "
                      "Excel document, or plain text.", field="file")
    if visibility not in ("public", "private"):
        raise Invalid("Choose one of the options offered.", field="visibility")
    if strip_location:
        data = await asyncio.to_thread(images.without_location, data, content_type)
    file_id = uuid.uuid4()
    org = identity.org_id if identity else None
    user = identity.user_id if identity else None
    key = f"org{org}/{file_id.hex}" if org else f"user{user}/{file_id.hex}" if user else f"anonymous/{file_id.hex}"
    digest = hashlib.sha256(data).hexdigest()
    name = clean_filename(filename)
    await conn.execute("""
        insert into files (id, organisation_id, uploaded_by, storage_key, filename, content_type, size_bytes, sha256,
                           visibility)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        file_id, org, user, key, name, content_type, len(data), digest, visibility)
    # Written inside the transaction, so if the upload fails it rolls back and no row points at nothing;
    # but before the audit entry, whose lock is held until commit: a slow store must not hold up every
    # audited action on the platform (log-ins included) while it writes.
    await asyncio.to_thread(storage.put, key, data, content_type)
    await audit.record(conn, verb=Verb.FILE_UPLOAD, object_type="file", object_id=file_id, actor=user,
                       organisation=org, after={"filename": name, "content_type": content_type,
                                                "size_bytes": len(data), "sha256": digest, "visibility": visibility})
    return _row(await conn.fetchrow(_FILE, file_id))


def can_read(identity: Identity | None, record: StoredFile) -> bool:
    """The one place that says who may see a file. Private files: the owning organisation's members,
    the person who uploaded a personal file, and the platform."""
    if record.visibility == "public":
        return True
    if identity is None:
        return False
    if identity.is_platform_admin:
        return True
    if record.organisation_id is not None:
        return identity.org_id == record.organisation_id
    return identity.user_id == record.uploaded_by


async def get_record(conn: asyncpg.Connection, identity: Identity | None, file_id: uuid.UUID) -> StoredFile:
    row = await conn.fetchrow(_FILE, file_id)
    if row is None or not can_read(identity, _row(row)):
        raise NotFound()
    return _row(row)


def _signature(secret: str, file_id: uuid.UUID, user_id: int, expires: int, granted: bool = False) -> str:
    # A granted link is signed over other words, so an ordinary link can never pass for one.
    msg = f"{'grant' if granted else 'file'}:{file_id}:{user_id}:{expires}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def signed_link(settings: Settings, record: StoredFile, identity: Identity | None, now: float | None = None) -> FileLink:
    """A link that works for this user only, until it expires."""
    expires = int((now or time.time()) + settings.file_link_seconds)
    user_id = identity.user_id if identity else 0
    query = urlencode({"expires": expires, "user": user_id,
                       "sig": _signature(settings.secret_key, record.id, user_id, expires)})
    return FileLink(f"/files/{record.id}/content?{query}", expires)


def granted_link(settings: Settings, record: StoredFile, identity: Identity, now: float | None = None) -> FileLink:
    """A link to a private file for a reader whom a domain above has found entitled to it, though not
    of the owning organisation (the buyer and the evaluators reading the evidence of a provider's
    report). Storage does not know why: the caller decides, and this link, made out to that reader
    alone and expiring like any other, carries the decision in its signature. Never a public link."""
    expires = int((now or time.time()) + settings.file_link_seconds)
    query = urlencode({"expires": expires, "user": identity.user_id, "grant": 1,
                       "sig": _signature(settings.secret_key, record.id, identity.user_id, expires, granted=True)})
    return FileLink(f"/files/{record.id}/content?{query}", expires)


async def record_of(conn: asyncpg.Connection, file_id: uuid.UUID) -> StoredFile | None:
    """A file's details, for a domain that decides itself who may read it (see granted_link)."""
    row = await conn.fetchrow(_FILE, file_id)
    return None if row is None else _row(row)


def check_link(settings: Settings, file_id: uuid.UUID, identity: Identity | None, expires: int, user: int,
               sig: str, now: float | None = None, granted: bool = False) -> None:
    expected = _signature(settings.secret_key, file_id, user, expires, granted)
    if not hmac.compare_digest(expected, sig) or (granted and user == 0):
        raise Forbidden("This file link is not valid.")
    # A link made out to nobody (user 0) is for a public file; read() still checks who may see it.
    if user != 0 and (identity.user_id if identity else 0) != user:
        raise Forbidden("This file link was made for someone else. Open the file from its page instead.")
    if expires < (now or time.time()):
        raise Gone("This file link has expired. Open the file from its page again.")


async def read(conn: asyncpg.Connection, storage: FileStorage, identity: Identity | None,
               file_id: uuid.UUID, granted: bool = False) -> tuple[StoredFile, bytes]:
    """The contents, re-checking access: a link outlives a membership by at most its lifetime, never
    more. A granted link (checked by check_link) stands for the decision of the domain that made it."""
    row = await conn.fetchrow(_FILE, file_id)
    if row is None:
        raise NotFound()
    record = _row(row) if granted else await get_record(conn, identity, file_id)
    try:
        data = await asyncio.to_thread(storage.get, row["storage_key"])
    except FileNotFoundError:
        raise NotFound() from None
    return record, data


async def organisation_files(conn: asyncpg.Connection, identity: Identity, organisation_id: int,
                             limit: int = 50) -> list[StoredFile]:
    """An organisation's documents, e.g. its registration certificate for the platform to check."""
    if not (identity.is_platform_admin or identity.org_id == organisation_id):
        raise NotFound()
    rows = await conn.fetch(_OF_ORGANISATION, organisation_id, limit)
    return [_row(r) for r in rows]


async def public_files(conn: asyncpg.Connection, organisation_id: int, limit: int = 50) -> list[StoredFile]:
    """The documents an organisation has made public, for anyone to read on its page."""
    rows = await conn.fetch("select * from files where organisation_id = $1 and visibility = 'public' "
                            "order by created_at desc limit $2", organisation_id, limit)
    return [_row(r) for r in rows]


async def files_for(conn: asyncpg.Connection, identity: Identity, limit: int = 50) -> list[StoredFile]:
    if identity.org_id is not None:
        rows = await conn.fetch(_OF_ORGANISATION, identity.org_id, limit)
    else:
        rows = await conn.fetch("select * from files where uploaded_by = $1 and organisation_id is null "
                                "order by created_at desc limit $2", identity.user_id, limit)
    return [_row(r) for r in rows]
