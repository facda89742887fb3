"""Browser-test infrastructure: Debian's Chromium (installed with apt if missing), the real `market serve --demo`
server in a subprocess with its own embedded PostgreSQL, and one headless browser for the whole session.

No Playwright browser download ever happens: Playwright drives /usr/bin/chromium from Debian.
"""

from __future__ import annotations

import atexit
import fcntl
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from market.core import db
from tests.scratch import scratch_dir

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
APT_PACKAGES = ["chromium", "fonts-noto-cjk"]
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 180
# Several test workers (and anything else on the machine) may want apt at once; apt refuses a
# second caller rather than waiting, so workers take turns on this file and retry while another
# program holds apt's own lock.
APT_TURN = Path(tempfile.gettempdir()) / "market-browser-apt.lock"
APT_LOCK_WAIT_SECONDS = 900


def _cjk_font_present() -> bool:
    return bool(glob.glob("/usr/share/fonts/**/NotoSansCJK*", recursive=True))


def _apt(*args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    deadline = time.monotonic() + APT_LOCK_WAIT_SECONDS
    while True:
        try:
            done = subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", *args], env=env, capture_output=True,
                                  text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.fail(f"browser tests: `apt-get {' '.join(args)}` could not run: {exc}", pytrace=False)
        output = (done.stdout + done.stderr)[-4000:]
        if done.returncode == 0:
            return
        if "Could not get lock" not in output or time.monotonic() > deadline:
            pytest.fail(f"browser tests: `apt-get {' '.join(args)}` failed (exit {done.returncode}); Chromium and a "
                        f"CJK font are needed from Debian's mirror.\n{output}", pytrace=False)
        time.sleep(5)


def _installed() -> bool:
    return os.path.exists(CHROMIUM) and _cjk_font_present()


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's Chromium and the Noto CJK fonts, installed with apt-get on first use if missing."""
    if not _installed():
        if shutil.which("apt-get") is None:
            pytest.fail(f"browser tests: {CHROMIUM} or the Noto CJK fonts are missing and there is no apt-get to "
                        f"install them ({' '.join(APT_PACKAGES)})", pytrace=False)
        if os.geteuid() != 0:
            pytest.fail(f"browser tests: {CHROMIUM} or the Noto CJK fonts are missing; install them as root: "
                        f"apt-get install -y --no-install-recommends {' '.join(APT_PACKAGES)}", pytrace=False)
        with open(APT_TURN, "w") as turn:
            fcntl.flock(turn, fcntl.LOCK_EX)
            if not _installed():  # another worker may have installed them while this one waited
                _apt("update")
                _apt("install", "-y", "--no-install-recommends", *APT_PACKAGES)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"browser tests: {CHROMIUM} is still missing after installing {' '.join(APT_PACKAGES)}",
                    pytrace=False)
    if not _cjk_font_present():
        pytest.fail("browser tests: no Noto CJK font after installing fonts-noto-cjk", pytrace=False)
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def server_db(server: LiveServer) -> asyncpg.Connection:
    """The server's own embedded PostgreSQL (in its data directory), for setting up and for the books."""
    return await db.connect_admin(f"postgresql://postgres:@/market?host={server.log.parent / 'pg'}")


def _stop(proc: subprocess.Popen, data_dir: Path) -> None:
    """Ctrl+C first, so the server stops its embedded PostgreSQL; harder only if it will not go."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            proc.send_signal(sig)
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    # PostgreSQL runs detached from the server process; if the server died without stopping it
    # (it crashed, or needed a harder signal than Ctrl+C), stop the postmaster it started ("fast" shutdown).
    pid_file = data_dir / "pg" / "postmaster.pid"
    try:
        postmaster = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(postmaster, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def _own_env(data_dir: Path, **settings: str) -> dict[str, str]:
    # Only known settings: an unknown MARKET_* variable stops start-up; and none of the caller's own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_") and k != "DATABASE_URL"}
    # Info: one line a request, which a failing journey's report shows (pytest_runtest_makereport).
    env.update({"MARKET_DATA_DIR": str(data_dir), "MARKET_LOG_LEVEL": "info", "PYTHONUNBUFFERED": "1", **settings})
    return env


# The demo's data directory, made once in a test run (all its workers) and copied for each server.
DEMO_TEMPLATE = Path(tempfile.gettempdir()) / f"market-demo-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}"
DEMO_SECONDS = 600
# One lock for every run (never removed: a process waiting on a removed lock file would hold a lock no
# newcomer sees), as each run's own left a file behind in the temporary directory.
DEMO_TURN = Path(tempfile.gettempdir()) / "market-demo.lock"


def _made_here() -> None:
    """Remove the demo's data directory this process made, as it exits (another worker still running
    makes it again should it need one)."""
    with open(DEMO_TURN, "w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        shutil.rmtree(DEMO_TEMPLATE, ignore_errors=True)


def _copy_of_the_demo(data_dir: Path) -> None:
    """Put a copy of the demo district's data directory (PostgreSQL stopped) in `data_dir`. A server's
    own initdb, migrations and demo took 30-60 s of the suite each; a copy takes a fraction of a second,
    and `serve --demo` finds the demo loaded. Workers take turns on a lock file: the first makes it."""
    with open(DEMO_TURN, "w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        ready = DEMO_TEMPLATE / "ready"
        if not ready.exists():
            shutil.rmtree(DEMO_TEMPLATE, ignore_errors=True)
            made = subprocess.run([sys.executable, "-m", "market", "demo"], cwd=ROOT, capture_output=True, text=True,
                                  env=_own_env(DEMO_TEMPLATE / "data"), stdin=subprocess.DEVNULL, timeout=DEMO_SECONDS)
            if made.returncode != 0:
                pytest.fail(f"`market demo` exited with {made.returncode}:\n{(made.stdout + made.stderr)[-6000:]}",
                            pytrace=False)
            ready.touch()
            atexit.register(_made_here)
        # As it is, owners too: PostgreSQL runs as its own user when the tests run as root.
        subprocess.run(["cp", "-a", f"{DEMO_TEMPLATE / 'data'}/.", str(data_dir)], check=True)


@contextmanager
def serving(**settings: str) -> Iterator[LiveServer]:
    """`python -m market serve --demo` on a free port, its own embedded PostgreSQL in a fresh data directory
    (a copy of the demo's)."""
    data_dir = scratch_dir("mkt-browser-")
    _copy_of_the_demo(data_dir)
    log = data_dir / "server.log"
    port = _free_port()
    # Its public address is where it serves: links it prints (a survey's poster) lead back to it.
    env = _own_env(data_dir, MARKET_BASE_URL=f"http://127.0.0.1:{port}", **settings)
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "market", "serve", "--demo", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        last_error = "no answer yet"
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`market serve --demo` exited with {proc.returncode} before it answered /health:\n"
                            f"{server.output()[-6000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{server.base_url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
                    last_error = f"HTTP {r.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            if time.monotonic() > deadline:
                pytest.fail(f"`market serve --demo` did not answer GET /health with 200 within "
                            f"{SERVER_START_SECONDS} s (last: {last_error}):\n{server.output()[-6000:]}",
                            pytrace=False)
            time.sleep(0.2)
        yield server
    finally:
        _stop(proc, data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


# A journey that fails shows what its servers last did: one line a request, with its status and
# time (a log-in that never reached the workbench once, in a whole run, left nothing else to go on).
SERVER_LOG_LINES = 60


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call" and report.failed:
        for server in getattr(item, "funcargs", {}).values():
            if isinstance(server, LiveServer):
                tail = server.output().splitlines()[-SERVER_LOG_LINES:]
                report.sections.append((f"server log of {server.base_url}, its last {len(tail)} lines", "\n".join(tail)))
    return report


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with serving() as server:
        yield server


@pytest.fixture(scope="session")
def journey_server() -> Iterator[LiveServer]:
    """A server of its own whose clock the journeys move forward (MARKET_TEST_CLOCK), past deadlines
    and notice periods, as time would pass."""
    with serving(MARKET_TEST_CLOCK="true") as server:
        yield server


@pytest.fixture
def fresh_journey_server() -> Iterator[LiveServer]:
    """A test-clock server for one journey alone: a journey that moves months forward leaves the demo's
    own contracts behind it (reports never filed, providers' standing below the bar), and the next
    journey on that server would meet a different world."""
    with serving(MARKET_TEST_CLOCK="true") as server:
        yield server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_executable: str) -> AsyncIterator[object]:
    """One headless Debian Chromium for the session (Playwright's async API, on the session's event loop)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def screenshot_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Where full-page screenshots go: a pytest temporary directory, and $SCREENSHOT_DIR too if it is set."""
    dirs = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("SCREENSHOT_DIR"):
        extra = Path(os.environ["SCREENSHOT_DIR"]).expanduser().resolve()
        extra.mkdir(parents=True, exist_ok=True)
        dirs.append(extra)
    return dirs
