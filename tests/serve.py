"""`market serve` started as people run it, in its own process(es), on a test's database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.smtp import free_port


@contextmanager
def serving(database: str, data_dir: Path, workers: int = 1, **settings: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The server's address once it answers /health, and its process; stopped (SIGINT) afterwards.
    `settings` are MARKET_* variables (the caller's own MARKET_* are not passed on)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(DATABASE_URL=database, MARKET_SECRET_KEY="w" * 40, MARKET_DATA_DIR=str(data_dir), **settings)
    proc = subprocess.Popen([sys.executable, "-m", "market", "serve", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
