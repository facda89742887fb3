"""File storage, end to end, against both backends: a local directory and S3 (moto in server mode,
spoken to over HTTP by boto3). Every test runs once per backend.

What people rely on: a file is checked on the way in (size; type from its own bytes, never from its
name or the browser's word), its name is for display and never a path, it is handed out only through
expiring links signed for one person, and another organisation's private file does not exist for you.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from market.accounts import services as accounts
from market.app import load_settings
from market.audit import services as audit
from market.core.access import Identity
from market.core.settings import Settings
from market.opendata import bulk
from market.storage import services
from market.storage.backends import LocalStorage, S3Storage
from market.storage.interfaces import FileStorage
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import PNG
from tests.s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoS3
from tests.world import Persona

LIMIT = 4096
SECRET = "s" * 40
KEY_SHAPE = re.compile(r"^(org|user)\d+/[0-9a-f]{32}$")
LINK_SHAPE = re.compile(r"^/files/(?P<id>[0-9a-f-]{36})/content\?expires=\d+&user=\d+&sig=[0-9a-f]{64}$")


# --- Real file contents -------------------------------------------------------------------------

def minimal_pdf() -> bytes:
    """A small but well-formed PDF: one empty page, with a correct cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def windows_exe() -> bytes:
    """The start of a Windows PE executable: DOS header and stub, PE signature, COFF header."""
    dos = bytearray(0x80)
    dos[0:2] = b"MZ"
    struct.pack_into("<HHHHH", dos, 2, 0x90, 3, 0, 4, 0)
    struct.pack_into("<I", dos, 0x3C, 0x80)  # e_lfanew: where the PE header starts
    stub = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    dos[0x40:0x40 + len(stub)] = stub
    coff = b"PE\x00\x00" + struct.pack("<HHIIIHH", 0x14C, 1, 0x5F5E1000, 0, 0, 0xE0, 0x0102)
    optional = struct.pack("<HBB", 0x10B, 14, 0) + bytes(0xE0 - 4)
    section = b".text\x00\x00\x00" + struct.pack("<IIIIIIHHI", 0x10, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
    body = bytes(dos) + coff + optional + section
    return body + b"\xc3" + bytes(0x400 - len(body) - 1)


PDF = minimal_pdf()
EXE = windows_exe()
TEXT = "会议纪要：第三季度社区服务进展。\nMinutes: Q3 community services, 100% on track.\n".encode()


# --- Backends -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """S3 over HTTP: moto's server on a free local port, for the whole session."""
    server = MotoS3.start()
    server.new_bucket()  # the server answers bucket calls before any test relies on it
    yield server
    server.stop()


@dataclass
class Backend:
    """One way of storing files, with a view of the store that does not go through the app."""

    name: str
    settings: Settings
    storage: FileStorage  # a second handle on the very store the app writes to
    root: Path | None = None
    bucket: str | None = None
    moto: MotoS3 | None = None

    def keys(self) -> list[str]:
        """Everything in the store, temporary files included."""
        if self.moto is not None:
            return self.moto.keys(self.bucket or "")
        assert self.root is not None
        if not self.root.exists():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def stored_content_type(self, key: str) -> str | None:
        """The content type the store itself serves (S3 keeps one; a directory does not)."""
        return self.moto.content_type(self.bucket or "", key) if self.moto is not None else None

    def break_store(self) -> None:
        """Make every write fail, the way a store fails in production (gone bucket, unwritable disk)."""
        if self.moto is not None:
            self.moto.drop_bucket(self.bucket or "")
        else:
            assert self.root is not None and not self.root.exists()
            self.root.parent.mkdir(parents=True, exist_ok=True)
            self.root.write_bytes(b"not a directory")


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    env = {"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": SECRET, "MARKET_LOG_LEVEL": "error", "MARKET_NOTIFY_SECONDS": "0",
           "MARKET_MAX_UPLOAD_BYTES": str(LIMIT)}
    if request.param == "local":
        settings = load_settings(env)
        assert settings.storage_backend == "local"
        return Backend("local", settings, LocalStorage(settings.local_storage_dir), root=settings.local_storage_dir)
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    bucket = moto.new_bucket()
    settings = load_settings({**env, "MARKET_STORAGE_BACKEND": "s3", "MARKET_S3_ENDPOINT_URL": moto.endpoint_url,
                              "MARKET_S3_BUCKET": bucket, "MARKET_S3_REGION": REGION,
                              "MARKET_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
                              "MARKET_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY})
    storage = services.storage_from_settings(settings)
    assert isinstance(storage, S3Storage) and storage.bucket == bucket
    return Backend("s3", settings, storage, bucket=bucket, moto=moto)


@pytest.fixture
def app_settings(backend: Backend) -> Settings:
    """The app under test stores its files in this test's backend."""
    return backend.settings


# --- Helpers ------------------------------------------------------------------------------------

async def login(client: AsyncTestClient, pool: asyncpg.Pool, backend: Backend, who: Persona | None) -> None:
    """Log the client in as a persona, acting for their organisation; None logs out."""
    if who is None:
        await act_as(client, pool, backend.settings, None)
    else:
        await act_as(client, pool, backend.settings, who.user_id, who.org_id)
    client.cookies.set("market_lang", "en")


async def identity_of(pool: asyncpg.Pool, backend: Backend, who: Persona) -> Identity:
    """The identity a request from this persona would carry, through a real session."""
    async with pool.acquire() as conn, conn.transaction():
        token = await accounts.start_session(conn, backend.settings, who.user_id)
        await conn.execute("update sessions set organisation_id = $1 where token_hash = $2",
                           who.org_id, accounts.token_hash(token))
        identity = await accounts.identity_for(conn, token)
    assert identity is not None and identity.org_id == who.org_id
    return identity


async def upload(client: AsyncTestClient, data: bytes, name: str = "report.pdf",
                 declared: str = "application/octet-stream", visibility: str | None = None):
    form = {"visibility": visibility} if visibility is not None else {}
    return await client.post("/api/files/", files={"file": (name, data, declared)}, data=form,
                             headers=api_headers(client))


async def uploaded(client: AsyncTestClient, data: bytes = PDF, **kw: object) -> dict:
    r = await upload(client, data, **kw)  # type: ignore[arg-type]
    assert r.status_code == 201, r.text
    return r.json()


async def file_rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("select * from files order by created_at")


async def upload_events(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("select * from audit_events where verb = 'file.upload' order by id")


async def storage_key(pool: asyncpg.Pool, file_id: str) -> str:
    return await pool.fetchval("select storage_key from files where id = $1", uuid.UUID(file_id))


async def assert_nothing_stored(pool: asyncpg.Pool, backend: Backend) -> None:
    assert await file_rows(pool) == []
    assert backend.keys() == []
    assert await upload_events(pool) == []


async def link_for(client: AsyncTestClient, file_id: str) -> str:
    r = await client.get(f"/files/{file_id}", follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def with_params(link: str, **changes: object) -> str:
    parts = urlsplit(link)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params.update({k: str(v) for k, v in changes.items()})
    return f"{parts.path}?{urlencode(params)}"


# --- 1. Size limit ------------------------------------------------------------------------------

async def test_the_size_limit_413_leaves_nothing_and_an_empty_file_is_400(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    too_big = (b"x" * 63 + b"\n") * (LIMIT // 64) + b"y"  # acceptable text, one byte over
    assert len(too_big) == LIMIT + 1

    r = await upload(client, too_big, name="big.txt", declared="text/plain")
    assert r.status_code == 413, r.text
    assert r.json()["status"] == 413 and "file" in r.json()["errors"]
    await assert_nothing_stored(pool, backend)

    # The page form refuses it the same way, with a page.
    r = await post_form(client, "/files", files={"file": ("big.txt", too_big, "text/plain")})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    await assert_nothing_stored(pool, backend)

    # A body far past the limit is cut off by the server before the handler sees it.
    r = await upload(client, b"a" * (LIMIT + 1024 * 1024 + 10), name="huge.txt", declared="text/plain")
    assert r.status_code == 413
    await assert_nothing_stored(pool, backend)

    # An empty file is refused too; a file of exactly the limit is accepted.
    r = await upload(client, b"", name="empty.pdf", declared="application/pdf")
    assert r.status_code == 400, r.text
    assert r.json()["errors"]["file"] == "The file is empty."
    await assert_nothing_stored(pool, backend)

    exact = (b"z" * 63 + b"\n") * (LIMIT // 64)
    assert len(exact) == LIMIT
    out = await uploaded(client, exact, name="exact.txt")
    assert out["size_bytes"] == LIMIT and out["content_type"] == "text/plain"
    key = await storage_key(pool, out["id"])
    assert backend.keys() == [key] and backend.storage.get(key) == exact


async def test_uploads_need_a_signed_in_user_and_the_csrf_token(client, pool, world, backend):
    r = await upload(client, PDF)  # anonymous
    assert r.status_code == 401
    await login(client, pool, backend, world["provider_admin"])
    r = await client.post("/api/files/", files={"file": ("a.pdf", PDF, "application/pdf")})  # no CSRF header
    assert r.status_code == 403
    r = await client.post("/files", files={"file": ("a.pdf", PDF, "application/pdf")})  # no CSRF field
    assert r.status_code == 403
    await assert_nothing_stored(pool, backend)


# --- 2. Type from the content -------------------------------------------------------------------

async def test_the_type_comes_from_the_bytes_not_the_name_or_the_browser(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    cases = [  # (bytes, name, what the browser claims, what it is)
        (PDF, "x.exe", "application/x-msdownload", "application/pdf"),
        (PNG, "photo.txt", "text/plain", "image/png"),
        (TEXT, "会议纪要.pdf", "application/pdf", "text/plain"),
    ]
    for data, name, declared, actual in cases:
        out = await uploaded(client, data, name=name, declared=declared)
        assert out["content_type"] == actual, name
        assert out["filename"] == name  # kept for display; it decides nothing
        assert out["size_bytes"] == len(data)
        key = await storage_key(pool, out["id"])
        assert backend.storage.get(key) == data
        if backend.name == "s3":
            assert backend.stored_content_type(key) == actual

        r = await client.get(out["link"]["url"])
        assert r.status_code == 200
        assert r.content == data  # byte for byte: no re-encoding on the way out
        assert r.headers["content-type"].split(";")[0] == actual
        assert r.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote(name)}"
    assert len(backend.keys()) == 3
    assert [row["content_type"] for row in await file_rows(pool)] == [c[3] for c in cases]


async def test_an_executable_named_pdf_is_refused_with_a_reason(client, pool, world, backend):
    assert len(EXE) >= 300 and EXE[:2] == b"MZ"
    await login(client, pool, backend, world["provider_admin"])
    r = await upload(client, EXE, name="report.pdf", declared="application/pdf")
    assert r.status_code == 400, r.text
    message = r.json()["errors"]["file"]
    assert "not accepted" in message and "PDF" in message
    await assert_nothing_stored(pool, backend)

    r = await post_form(client, "/files", files={"file": ("report.pdf", EXE, "application/pdf")})
    assert r.status_code == 400
    assert "This kind of file is not accepted" in r.text
    await assert_nothing_stored(pool, backend)

    # Nor anything else that is neither a known format nor clean UTF-8 text.
    for data in [bytes(range(256)) * 4, b"plain text until a NUL\x00 byte\n", "文本".encode("utf-16"),
                 b"PK\x03\x04" + bytes(300)]:
        r = await upload(client, data, name="notes.txt", declared="text/plain")
        assert r.status_code == 400, data[:20]
    await assert_nothing_stored(pool, backend)


async def test_an_upload_is_recorded_and_audited(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    r = await post_form(client, "/files", {"visibility": "private"},
                        files={"file": ("plan.pdf", PDF, "application/pdf")})
    assert landed(r, "file_uploaded") == "/dashboard" and r.headers["location"].endswith("#files")
    assert "The file is uploaded." in (await client.get(r.headers["location"])).text
    [row] = await file_rows(pool)
    assert row["filename"] == "plan.pdf" and row["content_type"] == "application/pdf"
    assert row["organisation_id"] == world.orgs["provider"]
    assert row["uploaded_by"] == world["provider_admin"].user_id
    assert row["sha256"] == hashlib.sha256(PDF).hexdigest() and row["size_bytes"] == len(PDF)
    assert backend.keys() == [row["storage_key"]]
    assert backend.storage.get(row["storage_key"]) == PDF

    [event] = await upload_events(pool)
    assert event["object_id"] == str(row["id"]) and event["actor_user_id"] == world["provider_admin"].user_id
    assert event["organisation_id"] == world.orgs["provider"]
    diff = json.loads(event["diff"]) if isinstance(event["diff"], str) else event["diff"]
    assert diff["content_type"] == [None, "application/pdf"] and diff["sha256"] == [None, row["sha256"]]
    async with pool.acquire() as conn:
        checked, breaks = await audit.verify_chain(conn)
    assert checked >= 1 and breaks == []

    r = await upload(client, PDF, visibility="everyone")
    assert r.status_code == 400 and "visibility" in r.json()["errors"]
    assert len(await file_rows(pool)) == 1 and len(backend.keys()) == 1


async def test_a_failing_store_leaves_no_row_pointing_at_nothing(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    backend.break_store()
    r = await upload(client, PDF)
    assert r.status_code == 500
    assert await file_rows(pool) == []
    assert await upload_events(pool) == []


# --- 3. Names are not paths ---------------------------------------------------------------------

async def test_a_path_in_the_file_name_is_reduced_to_a_name(client, pool, world, backend, tmp_path):
    await login(client, pool, backend, world["provider_admin"])
    names = [("../../etc/passwd.pdf", "passwd.pdf"),
             ("..\\..\\x.pdf", "x.pdf"),
             ("/etc/cron.d/evil.pdf", "evil.pdf"),
             ("C:\\Windows\\system32\\..\\win.pdf", "win.pdf"),
             ("..", "file")]
    keys = []
    for name, shown in names:
        out = await uploaded(client, PDF, name=name)
        assert out["filename"] == shown, name
        key = await storage_key(pool, out["id"])
        assert KEY_SHAPE.fullmatch(key) and ".." not in key and shown not in key
        assert key == f"org{world.orgs['provider']}/{uuid.UUID(out['id']).hex}"
        keys.append(key)

        r = await client.get(out["link"]["url"])
        assert r.status_code == 200 and r.content == PDF
        assert r.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote(shown)}"
    assert backend.keys() == sorted(keys)
    for _, shown in names:  # nothing landed beside or above the store under the name given
        assert not list(tmp_path.parent.glob(f"**/{shown}"))
    assert not (tmp_path / "etc").exists() and not (tmp_path.parent / "etc").exists()


async def test_a_hostile_name_cannot_break_the_download_headers(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    for name in ["evil\r\nSet-Cookie: a=b.pdf", 'quo"te;.pdf', "\x00\x1b[31mred.pdf"]:
        out = await uploaded(client, PDF, name=name)
        assert not any(ord(c) < 32 for c in out["filename"])
        r = await client.get(out["link"]["url"])
        assert r.status_code == 200
        disposition = r.headers["content-disposition"]
        prefix = "attachment; filename*=UTF-8''"
        assert disposition.startswith(prefix)
        assert re.fullmatch(r"[A-Za-z0-9%._~-]+", disposition[len(prefix):])  # one percent-encoded token
        assert "set-cookie" not in r.headers


BAD_KEYS = ["../x", "a/../../b", "/etc/passwd", "..", "org1/../../../x", "org1//x", "", "org1/X", "org1/x/",
            "org1\\..\\x", "org1/.hidden", "org1/./x"]


def test_the_local_store_refuses_keys_that_could_leave_it(tmp_path):
    root = tmp_path / "store"
    store = LocalStorage(root)
    store.put("org1/kept", b"kept", "text/plain")
    before = sorted(p.as_posix() for p in tmp_path.parent.rglob("*"))
    for key in BAD_KEYS:
        with pytest.raises(ValueError):
            store.put(key, b"payload", "text/plain")
        with pytest.raises(ValueError):
            store.get(key)
        with pytest.raises(ValueError):
            store.delete(key)
    assert sorted(p.as_posix() for p in tmp_path.parent.rglob("*")) == before  # nothing written or removed
    assert store.get("org1/kept") == b"kept"


def test_either_store_refuses_keys_that_could_leave_it(backend):
    for key in ["../x", "a/../../b", "/etc/passwd", "org1/./x", "org1/../org2/x"]:
        with pytest.raises(ValueError):
            backend.storage.put(key, b"payload", "text/plain")
        with pytest.raises(ValueError):
            backend.storage.get(key)
        with pytest.raises(ValueError):
            backend.storage.delete(key)
    assert backend.keys() == []
    if backend.name == "local":
        assert not (backend.settings.data_dir / "x").exists() and not (backend.settings.data_dir.parent / "x").exists()


async def test_a_failing_store_fails_as_an_os_error_whichever_the_backend(pool, backend):
    """The periodic jobs' loop reports an OSError and goes on; botocore's own errors, which S3 raised,
    would have ended it in that process, and every job with it (the open data's daily file writes to
    the store from that loop)."""
    backend.break_store()
    with pytest.raises(OSError):
        backend.storage.put("org1/new", b"x", "text/plain")
    async with pool.acquire() as conn:
        with pytest.raises(OSError):
            await bulk.make_if_due(conn, backend.storage, backend.settings)
    assert await pool.fetchval("select count(*) from opendata_exports") == 0  # nothing recorded of a file not kept


# --- 4. Expiring signed links -------------------------------------------------------------------

async def test_the_file_page_redirects_to_a_signed_link_that_returns_the_exact_bytes(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    out = await uploaded(client, PNG, name="logo.png")
    before = time.time()
    link = await link_for(client, out["id"])
    m = LINK_SHAPE.fullmatch(link)
    assert m and m["id"] == out["id"]
    params = parse_qs(urlsplit(link).query)
    assert params["user"] == [str(world["provider_admin"].user_id)]
    lifetime = backend.settings.file_link_seconds
    assert before + lifetime - 5 <= int(params["expires"][0]) <= time.time() + lifetime

    r = await client.get(link)
    assert r.status_code == 200
    assert r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''logo.png"
    assert "no-store" in r.headers["cache-control"] and "private" in r.headers["cache-control"]
    assert r.headers["x-content-type-options"] == "nosniff"

    # The link in the API's answer works the same way.
    r = await client.get(f"/api/files/{out['id']}")
    assert r.status_code == 200
    assert LINK_SHAPE.fullmatch(r.json()["link"]["url"])
    assert (await client.get(r.json()["link"]["url"])).content == PNG


async def test_an_expired_or_altered_link_is_refused(client, pool, world, backend):
    admin = world["provider_admin"]
    await login(client, pool, backend, admin)
    out = await uploaded(client, PDF)
    other = await uploaded(client, PNG, name="other.png")

    # Expired: correctly signed, for the right person, but its time is up.
    identity = await identity_of(pool, backend, admin)
    async with pool.acquire() as conn:
        record = await services.get_record(conn, identity, uuid.UUID(out["id"]))
    stale = services.signed_link(backend.settings, record, identity, now=time.time() - 3600)
    assert stale.expires_at < time.time()
    r = await client.get(stale.url)
    assert r.status_code == 410, r.text
    assert r.content != PDF

    # Altered: any change to what was signed.
    link = await link_for(client, out["id"])
    query = parse_qs(urlsplit(link).query)
    sig, expires = query["sig"][0], int(query["expires"][0])
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for bad in [
        with_params(link, sig=flipped),
        with_params(link, sig=sig.upper()),
        with_params(link, sig=""),
        with_params(link, expires=expires + 3600),  # a longer life
        with_params(link, expires=expires - 1),
        with_params(stale.url, expires=expires),  # an expired link revived
        with_params(link, user=world["provider_staff"].user_id),  # someone else's name on it
        link.replace(out["id"], other["id"]),  # one file's signature on another
    ]:
        r = await client.get(bad)
        assert r.status_code == 403, (bad, r.status_code)
        assert r.content not in (PDF, PNG)
    r = await client.get(link)  # the untouched link still works
    assert r.status_code == 200 and r.content == PDF


async def test_a_link_works_only_for_its_person_and_only_while_they_have_access(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    out = await uploaded(client, PDF)
    link = await link_for(client, out["id"])

    # Not even for colleagues who may see the file themselves ...
    for who in [world["provider_staff"], world["other_provider_admin"], world["platform_admin"]]:
        await login(client, pool, backend, who)
        r = await client.get(link)
        assert r.status_code == 403, (who.name, r.status_code)
        assert r.content != PDF
    # ... nor for someone who is not logged in.
    await login(client, pool, backend, None)
    r = await client.get(link)
    assert r.status_code == 403 and r.content != PDF

    # The colleague gets a link of their own.
    await login(client, pool, backend, world["provider_staff"])
    r = await client.get(f"/files/{out['id']}", follow_redirects=True)
    assert r.status_code == 200 and r.content == PDF

    # A link outlives a membership by nothing: access is checked again when it is used.
    staff = world["provider_staff"]
    link = await link_for(client, out["id"])
    # The staff member leaves the organisation; their session now acts for no one.
    await pool.execute("delete from memberships where user_id = $1", staff.user_id)
    await pool.execute("update sessions set organisation_id = null where user_id = $1", staff.user_id)
    r = await client.get(link)
    assert r.status_code == 404 and r.content != PDF

    # An object missing from the store is "not found", not a server error.
    await login(client, pool, backend, world["provider_admin"])
    backend.storage.delete(await storage_key(pool, out["id"]))
    assert backend.keys() == []
    r = await client.get(f"/files/{out['id']}", follow_redirects=True)
    assert r.status_code == 404


# --- 5. Another organisation's private file -----------------------------------------------------

async def test_another_organisations_private_file_does_not_exist_for_you(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    out = await uploaded(client, PDF, name="budget.pdf", visibility="private")
    assert out["organisation_id"] == world.orgs["provider"] and out["visibility"] == "private"
    row = await pool.fetchrow("select * from files where id = $1", uuid.UUID(out["id"]))
    record = services.StoredFile(**{k: row[k] for k in services.StoredFile.__struct_fields__})

    for outsider in ["other_provider_admin", "buyer_admin", "resident", None]:
        who = world[outsider] if outsider else None
        await login(client, pool, backend, who)
        for url in (f"/files/{out['id']}", f"/api/files/{out['id']}"):
            r = await client.get(url)
            assert r.status_code == 404, (outsider, url, r.status_code)
            assert "budget.pdf" not in r.text and "sig=" not in r.text and "location" not in r.headers
        # Exactly what a file that does not exist looks like.
        missing = (await client.get(f"/api/files/{uuid.uuid4()}")).json()
        found = (await client.get(f"/api/files/{out['id']}")).json()
        assert (found["title"], found["detail"]) == (missing["title"], missing["detail"])

        # A correctly signed link made out to them does not help: access is checked again on reading.
        identity = await identity_of(pool, backend, who) if who else None
        forged = services.signed_link(backend.settings, record, identity)
        r = await client.get(forged.url)
        assert r.status_code == 404, outsider
        assert r.content != PDF


async def test_a_private_file_is_visible_to_its_organisation_and_the_platform(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    out = await uploaded(client, PDF, name="plan.pdf", visibility="private")
    for insider in ["provider_admin", "provider_staff", "platform_admin"]:
        await login(client, pool, backend, world[insider])
        r = await client.get(f"/api/files/{out['id']}")
        assert r.status_code == 200, (insider, r.text)
        assert r.json()["filename"] == "plan.pdf"
        assert parse_qs(urlsplit(r.json()["link"]["url"]).query)["user"] == [str(world[insider].user_id)]
        r = await client.get(f"/files/{out['id']}", follow_redirects=True)
        assert r.status_code == 200 and r.content == PDF, insider

    # Someone in both organisations sees it only while acting for its owner.
    both = world["other_provider_admin"]
    await pool.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                       both.user_id, world.orgs["provider"])
    await login(client, pool, backend, both)  # acting for other_provider
    assert (await client.get(f"/api/files/{out['id']}")).status_code == 404
    await act_as(client, pool, backend.settings, both.user_id, world.orgs["provider"])
    assert (await client.get(f"/api/files/{out['id']}")).status_code == 200


async def test_a_public_file_is_readable_by_anyone(client, pool, world, backend):
    await login(client, pool, backend, world["provider_admin"])
    out = await uploaded(client, PNG, name="poster.png", visibility="public")
    assert out["visibility"] == "public"
    for who in [None, world["resident"], world["other_provider_admin"]]:
        await login(client, pool, backend, who)
        r = await client.get(f"/api/files/{out['id']}")
        assert r.status_code == 200 and r.json()["filename"] == "poster.png"
        link = await link_for(client, out["id"])
        assert parse_qs(urlsplit(link).query)["user"] == [str(who.user_id if who else 0)]
        r = await client.get(link)
        assert r.status_code == 200 and r.content == PNG
    # a public file's link made out to nobody works for whoever follows it
    await login(client, pool, backend, None)
    anonymous_link = await link_for(client, out["id"])
    await login(client, pool, backend, world["resident"])
    assert (await client.get(anonymous_link)).content == PNG


async def test_a_personal_file_is_its_uploaders_alone(client, pool, world, backend):
    resident = world["resident"]
    await login(client, pool, backend, resident)
    out = await uploaded(client, TEXT, name="申请.txt")
    assert out["organisation_id"] is None
    assert await storage_key(pool, out["id"]) == f"user{resident.user_id}/{uuid.UUID(out['id']).hex}"
    assert (await client.get(f"/files/{out['id']}", follow_redirects=True)).content == TEXT
    for who in [world["provider_admin"], world["buyer_admin"], None]:
        await login(client, pool, backend, who)
        assert (await client.get(f"/api/files/{out['id']}")).status_code == 404
    await login(client, pool, backend, world["platform_admin"])
    assert (await client.get(f"/files/{out['id']}", follow_redirects=True)).content == TEXT


# --- Services, directly -------------------------------------------------------------------------

async def test_store_and_read_through_the_services(pool, world, backend):
    identity = await identity_of(pool, backend, world["provider_admin"])
    async with pool.acquire() as conn, conn.transaction():
        record = await services.store(conn, backend.storage, backend.settings, identity, PDF, "../a/b.pdf")
    assert record.filename == "b.pdf" and record.content_type == "application/pdf"
    async with pool.acquire() as conn:
        got, data = await services.read(conn, backend.storage, identity, record.id)
        assert got == record and data == PDF
        stranger = await identity_of(pool, backend, world["other_provider_admin"])
        with pytest.raises(services.NotFound):
            await services.read(conn, backend.storage, stranger, record.id)
        async with conn.transaction():
            theirs = await services.store(conn, backend.storage, backend.settings, stranger, PNG, "theirs.png")
        # Each organisation's list holds its own files only.
        colleague = await identity_of(pool, backend, world["provider_staff"])
        assert [f.id for f in await services.files_for(conn, colleague)] == [record.id]
        assert [f.id for f in await services.files_for(conn, stranger)] == [theirs.id]
    assert sorted(backend.keys()) == sorted([f"org{identity.org_id}/{record.id.hex}", f"org{stranger.org_id}/{theirs.id.hex}"])

    link = services.signed_link(backend.settings, record, identity, now=1_000_000.0)
    q = parse_qs(urlsplit(link.url).query)
    services.check_link(backend.settings, record.id, identity, int(q["expires"][0]), identity.user_id, q["sig"][0],
                        now=1_000_000.0)
    with pytest.raises(services.Gone):
        services.check_link(backend.settings, record.id, identity, int(q["expires"][0]), identity.user_id,
                            q["sig"][0], now=1_000_000.0 + backend.settings.file_link_seconds + 1)
    with pytest.raises(services.Forbidden):  # another secret signs other links
        other = load_settings({"MARKET_DATA_DIR": str(backend.settings.data_dir), "MARKET_SECRET_KEY": "o" * 40})
        services.check_link(other, record.id, identity, int(q["expires"][0]), identity.user_id, q["sig"][0],
                            now=1_000_000.0)


async def test_a_slow_store_does_not_hold_up_the_audit_trail(pool, world, backend):
    """The object is written while the upload's transaction is open. Every audited action on the platform
    (log-ins included) takes the audit trail's lock, so the write must not happen while holding it."""
    loop = asyncio.get_running_loop()
    observations: list[bool] = []

    class Watched:
        """The real store, watched: while it writes, can someone else append to the audit trail?"""

        def __init__(self, inner: FileStorage) -> None:
            self.inner = inner

        def put(self, key: str, data: bytes, content_type: str) -> None:
            async def free() -> bool:
                async with pool.acquire() as conn:
                    return await conn.fetchval("select pg_try_advisory_xact_lock($1)", audit.AUDIT_LOCK)
            observations.append(asyncio.run_coroutine_threadsafe(free(), loop).result(timeout=10))
            self.inner.put(key, data, content_type)

        def get(self, key: str) -> bytes:
            return self.inner.get(key)

        def delete(self, key: str) -> None:
            self.inner.delete(key)

    identity = await identity_of(pool, backend, world["provider_admin"])
    async with pool.acquire() as conn, conn.transaction():
        record = await services.store(conn, Watched(backend.storage), backend.settings, identity, PDF, "a.pdf")
    assert observations == [True]
    assert backend.storage.get(await storage_key(pool, str(record.id))) == PDF
    assert len(await upload_events(pool)) == 1


# --- 6. The backends themselves -----------------------------------------------------------------

def test_put_get_delete_round_trip(backend):
    store = backend.storage
    data = bytes(range(256)) * 3 + "末尾".encode()
    store.put("org1/abc123", data, "application/octet-stream")
    store.put("user7/d-e-f", b"second", "text/plain")
    assert store.get("org1/abc123") == data
    assert store.get("user7/d-e-f") == b"second"
    assert backend.keys() == ["org1/abc123", "user7/d-e-f"]  # no temporary files left behind

    store.put("org1/abc123", b"replaced", "text/plain")
    assert store.get("org1/abc123") == b"replaced"

    store.delete("org1/abc123")
    with pytest.raises(FileNotFoundError):
        store.get("org1/abc123")
    assert backend.keys() == ["user7/d-e-f"]
    store.delete("org1/abc123")  # deleting what is not there is not an error
    assert store.get("user7/d-e-f") == b"second"


def test_a_missing_key_is_file_not_found_in_either_backend(backend):
    with pytest.raises(FileNotFoundError):
        backend.storage.get("org1/neverwritten")
    with pytest.raises(FileNotFoundError):
        backend.storage.get("nothing")
    if backend.name == "local":
        assert not backend.root.exists() or backend.keys() == []


def test_the_s3_backend_speaks_to_the_configured_endpoint(moto_s3, tmp_path):
    bucket = moto_s3.new_bucket()
    settings = load_settings({"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": SECRET,
                              "MARKET_STORAGE_BACKEND": "s3", "MARKET_S3_ENDPOINT_URL": moto_s3.endpoint_url,
                              "MARKET_S3_BUCKET": bucket, "MARKET_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
                              "MARKET_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY})
    store = services.storage_from_settings(settings)
    store.put("org2/abc", b"over http", "text/plain")
    # Seen directly in the bucket, not through the backend: it really went to the S3 server ...
    assert moto_s3.client.get_object(Bucket=bucket, Key="org2/abc")["Body"].read() == b"over http"
    assert moto_s3.content_type(bucket, "org2/abc") == "text/plain"
    # ... and nothing went to the local directory.
    assert not settings.local_storage_dir.exists()
    # A bucket that is not there is an error, not a missing file.
    moto_s3.drop_bucket(bucket)
    with pytest.raises(Exception) as info:
        store.get("org2/abc")
    assert not isinstance(info.value, FileNotFoundError)
