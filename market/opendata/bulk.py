"""The open data in bulk: every published call's compiled release in one gzipped OCDS release package,
as OCDS publishers give it beside their API (a reader takes a whole city in one download rather than a
thousand pages of 25). Made again once a day by whichever app process finds it due first (an advisory
lock keeps the others out while it is made), read in one snapshot, and kept in the file storage; the
newest two files are kept, so a download begun before a new one is made can finish."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
from datetime import datetime, timedelta

import asyncpg
import msgspec

from market.core import clock
from market.core.settings import Settings
from market.opendata import ocds
from market.storage.interfaces import FileStorage

EVERY = timedelta(days=1)
CHUNK = 200  # calls read at a time: a bounded number of statements each, whatever the city's size
PATH = "/opendata/ocds-releases.json.gz"
CONTENT_TYPE = "application/gzip"
_KEPT = 2
_LOCK = 0x6F636473  # "ocds": one process makes the file at a time


class BulkFile(msgspec.Struct, frozen=True):
    """The newest bulk file: when it was made, how many releases it holds, its size and checksum, and
    the last change to what it holds."""

    made_at: datetime
    releases: int
    bytes: int
    sha256: str
    published_date: datetime | None
    url: str = PATH


_NEWEST = """select made_at, releases, bytes, sha256, published_date, storage_key from opendata_exports
 order by made_at desc, id desc limit 1"""


async def newest(conn: asyncpg.Connection) -> tuple[BulkFile, str] | None:
    """The file served now and its storage key, if one was made."""
    row = await conn.fetchrow(_NEWEST)
    if row is None:
        return None
    return BulkFile(made_at=row["made_at"], releases=row["releases"], bytes=row["bytes"], sha256=row["sha256"],
                    published_date=row["published_date"]), row["storage_key"]


async def make(conn: asyncpg.Connection, storage: FileStorage, settings: Settings) -> BulkFile:
    """Every published call's compiled release in one release package, gzipped, stored and recorded."""
    buffer = io.BytesIO()
    count, dates = 0, []
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as out:
        head = msgspec.json.encode(ocds.envelope(settings, f"{settings.base_url}{PATH}"))
        out.write(head[:-1] + b',"releases":[')
        # One snapshot: a call published or a milestone met while it is read is in the next day's file.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            after = 0
            while ids := [r["id"] for r in await conn.fetch(
                    "select id from calls where published_at is not null and id > $1 order by id limit $2",
                    after, CHUNK)]:
                for release in await ocds.releases(conn, settings, ids):
                    out.write((b"," if count else b"") + msgspec.json.encode(release))
                    dates.append(release["date"])
                    count += 1
                after = ids[-1]
        published = ocds.latest(settings, dates)
        out.write(b'],"publishedDate":' + msgspec.json.encode(published) + b"}")
    last_change = datetime.fromisoformat(published) if dates else None
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    key = f"opendata/ocds-releases-{clock.now():%Y%m%dt%H%M%S}-{digest[:12]}"  # the storage's keys have no dots
    await asyncio.to_thread(storage.put, key, data, CONTENT_TYPE)  # megabytes to S3: not on the event loop
    made_at = await conn.fetchval(
        "insert into opendata_exports (releases, bytes, sha256, storage_key, published_date) "
        "values ($1, $2, $3, $4, $5) returning made_at",
        count, len(data), digest, key, last_change)
    for old in await conn.fetch("delete from opendata_exports where id not in (select id from opendata_exports "
                                "order by made_at desc, id desc limit $1) returning storage_key", _KEPT):
        await asyncio.to_thread(storage.delete, old["storage_key"])
    return BulkFile(made_at=made_at, releases=count, bytes=len(data), sha256=digest,
                    published_date=last_change)


async def make_if_due(conn: asyncpg.Connection, storage: FileStorage, settings: Settings) -> BulkFile | None:
    """The day's file, made if the newest is a day old or there is none and no other process is making
    it; None where nothing was made."""
    if not await conn.fetchval("select pg_try_advisory_lock($1)", _LOCK):
        return None
    try:
        if await conn.fetchval("select exists (select from opendata_exports where made_at > market_now() - $1::interval)",
                               EVERY):
            return None
        return await make(conn, storage, settings)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK)
