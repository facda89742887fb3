"""`market bench api` tells the host's freezes from the app's latency (market/benches/freezes.py): a
rise of the kernel's steal time is seen by its watcher, and a request it overlapped is set apart."""

from __future__ import annotations

import time
from pathlib import Path

from market.benches.freezes import Freezes, unfrozen


def _stat(path: Path, steal: int) -> None:
    # /proc/stat's first line: user nice system idle iowait irq softirq steal guest guest_nice. Written
    # whole at once, as the kernel gives it: the watcher read a file half written and stopped.
    new = path.with_suffix(".new")
    new.write_text(f"cpu  1000 0 200 5000 10 0 5 {steal} 0 0\ncpu0 500 0 100 2500 5 0 2 {steal} 0 0\n")
    new.replace(path)


def _seen(freezes: Freezes, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(freezes.seen) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_rise_of_steal_time_is_a_freeze_and_a_tick_or_two_is_not(tmp_path):
    stat = tmp_path / "stat"
    _stat(stat, 100)
    freezes = Freezes(stat)
    try:
        _stat(stat, 102)  # 20 ms: the host busy for a moment, not a freeze
        time.sleep(0.1)
        began = time.monotonic()
        _stat(stat, 122)  # 200 ms of the processors taken
        _seen(freezes, 1)
        ended = time.monotonic()
    finally:
        freezes.close()
    assert [ticks for _, _, ticks in freezes.seen] == [20]
    assert [ticks for _, _, ticks in freezes.between(began - 0.01, ended)] == [20]
    assert freezes.between(began - 10, began - 5) == []


def test_the_requests_a_freeze_overlapped_are_set_apart():
    freezes = [(10.0, 10.1, 20), (20.0, 20.1, 10)]
    spans = [(9.0, 9.5), (9.95, 10.05), (10.05, 10.2), (10.1, 10.15), (19.9, 20.0), (19.9, 21.0), (20.1, 20.2),
             (5.0, 25.0)]
    assert unfrozen(spans, freezes) == [(9.0, 9.5), (10.1, 10.15), (19.9, 20.0), (20.1, 20.2)]
    assert unfrozen(spans, []) == sorted(spans)
