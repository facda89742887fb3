"""Schemathesis against the app's own OpenAPI document, over HTTP, as anonymous and as each role:
no server error and no answer the document does not describe. Each role gets its own server and its
own throw-away copy of the demo database, since the generated requests create, change and delete
things; three roles run at a time. The seed is fixed and one worker sends each role's cases in
order, so a failure reproduces: the failing role's command line is in the assertion message."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import asyncpg
import pytest
from litestar.serialization import encode_json

from market.app import create_app, load_settings
from market.core import db
from market.core.openapi import describe_errors
from market.demo import DEMO_PASSWORD, load_demo
from tests.conftest import dsn_for
from tests.smtp import free_port

SEED = 20261203
EXAMPLES = 2  # per operation and phase: the whole test stays within a few minutes on two cores
ROLES = {
    "anonymous": None,
    "buyer": "bureau@demo.market",
    "ngo": "ngo01@demo.market",
    "funder": "csr01@demo.market",
    "evaluator": "evaluator.expert1@demo.market",
    "administrator": "admin@demo.market",
}
# Every check but two that judge business rules, not the document: a refusal of a well-formed
# request (a closed call, a missing id) is the product working, and so is accepting what the
# document leaves open.
EXCLUDED_CHECKS = "positive_data_acceptance,negative_data_rejection"


@pytest.fixture(scope="module")
async def demo_database(pg_server, template_database):
    name = f"demo_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server.dsn)
    await admin.execute(f"create database {name} template {template_database}")
    conn = await db.connect_admin(dsn_for(pg_server, name))
    await load_demo(conn)
    await conn.close()
    yield name
    await admin.execute(f"drop database {name} with (force)")
    await admin.close()


async def _started(base: str, server: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 180  # start-up is slow while other servers start on two cores
    while True:
        try:
            await asyncio.to_thread(urllib.request.urlopen, f"{base}/health", timeout=1)
            return
        except OSError:
            assert time.monotonic() < deadline and server.returncode is None, "the server did not start"
            await asyncio.sleep(0.2)


def _log_in(base: str, email: str | None) -> list[str]:
    """Headers for a client without a browser: the CSRF cookie and header, and the session cookie."""
    with urllib.request.urlopen(f"{base}/health") as r:
        csrf = next(c.split(";")[0].split("=", 1)[1] for c in r.headers.get_all("set-cookie")
                    if c.startswith("market_csrf="))
    cookies = f"market_csrf={csrf}"
    if email is not None:
        login = urllib.request.Request(
            f"{base}/api/session", method="POST",
            headers={"content-type": "application/json", "x-csrftoken": csrf, "cookie": cookies},
            data=json.dumps({"email": email, "password": DEMO_PASSWORD}).encode())
        with urllib.request.urlopen(login) as r:
            session = next(c.split(";")[0] for c in r.headers.get_all("set-cookie") if c.startswith("market_session="))
        cookies += f"; {session}"
    return ["-H", f"Cookie: {cookies}", "-H", f"x-csrftoken: {csrf}"]


async def _run_role(role: str, pg_server, demo_database: str, workdir: Path, schema: Path) -> dict:
    workdir.mkdir()
    name = f"st_{role}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server.dsn)
    await admin.execute(f"create database {name} template {demo_database}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(DATABASE_URL=dsn_for(pg_server, name), MARKET_SECRET_KEY="s" * 40, MARKET_DATA_DIR=str(workdir),
               MARKET_LOG_FORMAT="json", MARKET_NOTIFY_SECONDS="0")
    log = workdir / "server.log"
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "--factory", "market.app:create_app_from_environment", "--port", str(port),
        "--no-access-log", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log.open("wb"))
    report = workdir / "report.json"
    try:
        await _started(base, server)
        headers = await asyncio.to_thread(_log_in, base, ROLES[role])
        # Signed in, the log-in route would only end the session the run depends on.
        keep_session = [] if ROLES[role] is None else ["--exclude-path", "/api/session"]
        command = [str(Path(sys.executable).parent / "st"), "run", str(schema), "--url", base, "--seed", str(SEED),
                   "--workers", "1", "--max-examples", str(EXAMPLES), "--phases", "fuzzing,stateful",
                   "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS, "--no-shrink",
                   "--suppress-health-check", "all", "--request-timeout", "60",
                   # a solver run takes seconds when the machine is busy; speed is bench/'s business
                   "--max-response-time", "60", "--report", "json",
                   "--report-json-path", str(report), *keep_session, *headers]
        run = await asyncio.create_subprocess_exec(*command, cwd=workdir, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
        output = (await asyncio.wait_for(run.communicate(), 600))[0].decode()
    finally:
        server.terminate()
        await server.wait()
        await admin.execute(f"drop database {name} with (force)")
        await admin.close()
    found = json.loads(report.read_text()) if report.exists() else {"test_cases": {"generated": 0}, "failures": [],
                                                                    "errors": ["no report: Schemathesis did not run"]}
    requests = sum('"event": "request"' in line for line in log.read_text().splitlines())
    return {"role": role, "exit": run.returncode, "requests": requests, "cases": found["test_cases"]["generated"],
            "failures": found["failures"], "errors": found["errors"], "output": output}


async def test_schemathesis_finds_no_server_error_and_no_schema_break(pg_server, demo_database, tmp_path):
    started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    # The document the app serves (/schema/openapi.json), made once: each server would build it again.
    app = create_app(load_settings({"MARKET_SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://unused/x"}))
    document = app.openapi_schema.to_schema()
    describe_errors(document, app)
    schema = tmp_path / "openapi.json"
    schema.write_bytes(encode_json(document))
    # Three at a time: more only slows each down on two cores.
    slots = asyncio.Semaphore(3)

    async def run(role: str) -> dict:
        async with slots:
            return await _run_role(role, pg_server, demo_database, tmp_path / role, schema)

    results = await asyncio.gather(*(run(role) for role in ROLES))
    for r in results:
        print(f"{r['role']}: {r['requests']} requests, {r['cases']} cases, exit {r['exit']}")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"schemathesis: {time.monotonic() - started:.0f} s for {len(ROLES)} roles, "
          f"{used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime:.0f} s of CPU")
    broken = [r for r in results if r["exit"] != 0 or r["failures"] or r["errors"]]
    assert not broken, "\n\n".join(f"{r['role']}:\n{r['output'][-8000:]}" for r in broken)
