"""Benchmark: seconds from `market serve --demo` to a 200 from /health, cold (empty data directory:
initdb, migrations, demo data) and warm (the same directory again). Prints the figures."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_health(data_dir: str, workers: int) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_") and k != "DATABASE_URL"}
    env["MARKET_DATA_DIR"] = data_dir
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "market", "serve", "--demo", "--port", str(port),
                             "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise SystemExit("no answer from /health within 120 s")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    data_dir = tempfile.mkdtemp(prefix="market-bench-")
    try:
        cold = time_to_health(data_dir, workers)
        warm = time_to_health(data_dir, workers)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"workers={workers}  cold start to /health 200: {cold:.2f} s   warm: {warm:.2f} s")


if __name__ == "__main__":
    main()
