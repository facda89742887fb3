"""The open data's page as a view: what there is and where (the paged release packages, one call's
release, the bulk file), the standard's version and the licence."""

from __future__ import annotations

import asyncpg
import msgspec

from market.core.settings import Settings
from market.opendata import bulk, ocds


class OpenData(msgspec.Struct, frozen=True):
    releases_url: str
    bulk_url: str
    call_url: str  # with {id} for a call's number
    bulk: bulk.BulkFile | None
    version: str
    license: str
    ocid_prefix: str


async def open_data(conn: asyncpg.Connection, settings: Settings) -> OpenData:
    found = await bulk.newest(conn)
    return OpenData(releases_url="/api/ocds/releases", bulk_url=bulk.PATH, call_url="/api/ocds/calls/{id}",
                    bulk=found[0] if found else None, version=ocds.VERSION, license=ocds.LICENSE,
                    ocid_prefix=settings.ocds_prefix)
