"""Benchmarks that drive the whole product (`market bench fair`); they sit above the demo, which
they load."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence


def stop_servers(servers: Sequence[subprocess.Popen[bytes]]) -> None:
    """Stop the app processes a bench started: all asked at once (SIGINT, as Ctrl+C), then waited for."""
    for server in servers:
        server.send_signal(signal.SIGINT)
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
