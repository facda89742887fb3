"""Live fair boards across app processes.

Every change to a fair's board sends a NOTIFY on `fairs.CHANNEL` in the transaction that makes it
(see fairs.notify), so PostgreSQL delivers it to every process at commit, whichever process made
it. Each process keeps one LISTEN connection, opened when its first board subscribes and opened
again on its own when it is lost while boards are open (each then gets a fresh board); on a
notification it reads the board once from the database and hands it to that process's open board
streams. No board state lives in a process: a stream that missed something simply gets the whole
board with the next notification, and every stream starts with the board as it is.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import asyncpg
import structlog

from market.matching.fairs import services as fairs
log = structlog.get_logger(__name__)


class BoardHub:
    def __init__(self, pool: asyncpg.Pool, dsn: str | None) -> None:
        self.pool = pool
        self.dsn = dsn
        self.streams: dict[int, set[asyncio.Queue[str]]] = defaultdict(set)
        self.listener: asyncpg.Connection | None = None
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()
        # One refresh per fair at a time; a notification during it asks for one more. Boards read
        # concurrently could otherwise arrive out of order, the older last.
        self.refreshing: set[int] = set()
        self.dirty: set[int] = set()
        self.closing = False

    async def subscribe(self, fair_id: int) -> asyncio.Queue[str]:
        await self._listen()
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        self.streams[fair_id].add(queue)
        return queue

    def unsubscribe(self, fair_id: int, queue: asyncio.Queue[str]) -> None:
        self.streams[fair_id].discard(queue)
        if not self.streams[fair_id]:
            del self.streams[fair_id]

    async def current(self, fair_id: int) -> str:
        async with self.pool.acquire() as conn:
            return fairs.board_json(await fairs.board(conn, fair_id))

    async def _listen(self) -> None:
        async with self.lock:
            if self.listener is not None and not self.listener.is_closed():
                return
            self.listener = await asyncpg.connect(self.dsn, server_settings={"application_name": "market-boards"})
            await self.listener.add_listener(fairs.CHANNEL, self._notified)
            self.listener.add_termination_listener(self._lost)

    def _lost(self, conn: asyncpg.Connection) -> None:
        log.warning("boards.listener_lost")
        self.listener = None
        if self.streams and not self.closing:
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        """Listen again while boards are open (PostgreSQL restarted, or the connection dropped), then
        give every open board the state it missed meanwhile: no notification of it will come."""
        delay = 0.2
        while self.streams and not self.closing:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("boards.reconnect_failed", error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.info("boards.listener_back")
            for fair_id in list(self.streams):
                self._notified(self.listener, 0, fairs.CHANNEL, str(fair_id))
            return

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _notified(self, conn: asyncpg.Connection, pid: int, channel: str, payload: str) -> None:
        if not payload.isdigit() or int(payload) not in self.streams:
            return
        fair_id = int(payload)
        if fair_id in self.refreshing:
            self.dirty.add(fair_id)
            return
        self.refreshing.add(fair_id)
        self._spawn(self._refresh(fair_id))

    async def _refresh(self, fair_id: int) -> None:
        """Read the board and hand it out, again while notifications came in meanwhile: the last board
        every stream gets is read after the last change."""
        try:
            while True:
                self.dirty.discard(fair_id)
                try:
                    board = await self.current(fair_id)
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("boards.read_failed", fair=fair_id, error=str(exc))
                    return
                for queue in list(self.streams.get(fair_id, ())):
                    if queue.full():  # a stream that stopped reading gets the newest board only
                        queue.get_nowait()
                    queue.put_nowait(board)
                if fair_id not in self.dirty:
                    return
        finally:
            self.refreshing.discard(fair_id)

    async def close(self) -> None:
        self.closing = True
        for task in list(self.tasks):
            task.cancel()
        if self.listener is not None and not self.listener.is_closed():
            await self.listener.close()


def hub_of(state: Any) -> BoardHub:
    return state.boards
