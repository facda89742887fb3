"""How a domain joins the product. Each domain package declares one `Domain` in its `domain.py`:
its routes, the names its templates use, the messages of its notifications and of its finished
steps, the checks on its settings, what it keeps in the app's state and the periodic work it does.
`market.app` lists the domains; `market.core.factory` builds the app from that list, so the core
never imports a domain and a new domain touches no file below it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg
from litestar import Litestar
from litestar.datastructures import State
from litestar.types import ControllerRouterHandler

from market.core.access import Identity
from market.core.settings import Settings

Job = Callable[[State], Awaitable[None]]


class WorkbenchList(NamedTuple):
    """A list a domain reads for an organisation's workbench: its first rows (each in the workbench's
    Task shape: title, date, link, state), how many there are, and the page of them all if there is one."""

    rows: list[dict[str, Any]]
    total: int
    more_link: str | None = None


@dataclass(frozen=True)
class Domain:
    name: str
    routes: Sequence[ControllerRouterHandler] = ()
    # Names every template may use (status names, choice builders), beside the core's own.
    template_globals: Mapping[str, Any] = field(default_factory=dict)
    # kind → message (an N_ id with its %(parameters)s) of each notification the domain sends.
    notification_kinds: Mapping[str, str] = field(default_factory=dict)
    # Those of its kinds that remind of a deadline a day or two away: emailed at once even to people
    # who chose one email a day, which could bring them after the deadline.
    urgent_notices: frozenset[str] = frozenset()
    # `?done=<code>` → what the page a finished step lands on says (see web.done).
    done_messages: Mapping[str, str] = field(default_factory=dict)
    # Problems with this domain's settings, each a sentence naming the variable; none to start.
    check_settings: Callable[[Settings], list[str]] | None = None
    # Long-lived objects the domain keeps in app.state (a storage backend, a mailer, a gateway).
    state: Callable[[Settings], dict[str, Any]] | None = None
    # Periodic work every app process does (see factory._periodic); each must be safe to run in
    # several processes at once (SKIP LOCKED, a claim, or an idempotent statement).
    jobs: Sequence[Job] = ()
    on_startup: Sequence[Callable[[Litestar], Awaitable[None]]] = ()
    on_shutdown: Sequence[Callable[[Litestar], Awaitable[None]]] = ()
    # Who a session token belongs to (one domain, accounts, answers this).
    identify: Callable[[asyncpg.Connection, str], Awaitable[Identity | None]] | None = None
    # What every page of a signed-in person needs from this domain (e.g. the unread count).
    request_state: Callable[[asyncpg.Connection, Identity], Awaitable[dict[str, Any]]] | None = None
    # Paths that other parties post to and that prove themselves otherwise (a signed webhook).
    csrf_exempt: Sequence[str] = ()
    # Called once with every domain, so a domain may take up what the others declare.
    install: Callable[[Sequence[Domain]], None] | None = None


def merged(domains: Sequence[Domain], attribute: str) -> dict[str, Any]:
    """One mapping from every domain's; two domains may not claim one key."""
    out: dict[str, Any] = {}
    for domain in domains:
        for key, value in getattr(domain, attribute).items():
            if key in out:
                raise ValueError(f"{domain.name} declares {attribute} {key!r} a second time")
            out[key] = value
    return out
