"""When the machine's host takes its processors away: a bench's latencies are not all the app's.

A virtual machine's processors are threads on its host, and a host that caps the machine's processor
time stops the whole machine when it has used its share. On the 2-core machine the benches run on,
two busy loops of plain Python (one a core, nothing else running) each saw gaps of 100.1 ms, 6 to 9
times in 15 s, and the kernel's steal time (/proc/stat) rose by 10-35 ticks at each. While the
machine is stopped nothing in it runs, the app, PostgreSQL and the bench's clients alike, so every
request in flight then takes 100 ms longer; under a full load that is one request in fifty or so,
and a p99 is mostly the host's.

`Freezes` watches the steal time from a process of its own (a thread would take the interpreter's
lock from the bench's clients every few milliseconds) and keeps each stretch in which it rose: a
bench reports its p99 as measured, and beside it the p99 of the requests no freeze overlapped, so
the two are told apart. Where the kernel keeps no steal time (not Linux) nothing is seen.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

Span = tuple[float, float]
STAT = Path("/proc/stat")
# Ticks of steal (10 ms each, summed over the processors) that make a freeze rather than the few
# milliseconds a busy host takes now and then.
LEAST_TICKS = 3


def steal_ticks(stat: Path = STAT) -> int:
    with stat.open() as lines:
        return int(lines.readline().split()[8])


def watch(stat: str, poll: float = 0.002) -> None:
    """Print `start end ticks` (time.monotonic, shared by every process) for each poll in which the
    steal time rose by LEAST_TICKS or more, after a first line once the first figure is read; run as a
    process of its own until it is stopped."""
    before, then = steal_ticks(Path(stat)), time.monotonic()
    print("watching", flush=True)
    while True:
        time.sleep(poll)
        ticks, now = steal_ticks(Path(stat)), time.monotonic()
        if ticks - before >= LEAST_TICKS:
            print(f"{then} {now} {ticks - before}", flush=True)
        before, then = ticks, now


class Freezes:
    """The host's freezes while a bench runs (see the module's docstring)."""

    def __init__(self, stat: Path = STAT) -> None:
        self.seen: list[tuple[float, float, int]] = []
        self.process: subprocess.Popen[str] | None = None
        if stat.exists():
            self.process = subprocess.Popen(
                [sys.executable, "-c", "import sys; from market.benches.freezes import watch; watch(sys.argv[1])",
                 str(stat)], stdout=subprocess.PIPE, text=True)
            # Nothing is missed from here on: the watcher has read its first figure (starting it took
            # over 0.3 s on a loaded machine, and a freeze then went unseen).
            assert self.process.stdout is not None
            self.process.stdout.readline()
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            start, end, ticks = line.split()
            self.seen.append((float(start), float(end), int(ticks)))

    def between(self, start: float, end: float) -> list[tuple[float, float, int]]:
        # A freeze is read a poll after it ends at the latest.
        time.sleep(0.01)
        return [f for f in list(self.seen) if f[0] < end and start < f[1]]

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def unfrozen(spans: list[Span], freezes: list[tuple[float, float, int]]) -> list[Span]:
    """The spans (began, ended) that no freeze overlapped. Freezes are consecutive polls, so ordered by
    their start they are ordered by their end too."""
    kept, ahead, i = [], sorted(freezes), 0
    for began, ended in sorted(spans):
        while i < len(ahead) and ahead[i][1] <= began:
            i += 1
        if i == len(ahead) or ahead[i][0] >= ended:
            kept.append((began, ended))
    return kept
