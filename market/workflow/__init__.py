"""The one workflow type. A life cycle is data: its statuses, and transitions each naming the
action, the status it leaves and the one it reaches, who may take it and the audit verb it writes.
`step` is the only way a status moves: it checks the move, refuses with the moves that are
allowed, writes the audit entry and sends the notifications the caller names. Every machine is
declared with `machine(...)`, which registers it, so the table-driven test walks every one.

Sits above audit and notifications (it writes to both) and below every domain with a life cycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core.errors import Conflict, Forbidden
from market.core.i18n import Msg, gettext, series
from market.notifications import services as notifications


class Transition(msgspec.Struct, frozen=True):
    action: str
    source: str
    target: str  # the same as `source` for an action that changes something else, not the status
    who: frozenset[str]  # the capacities (roles, parties) of which the actor needs one
    verb: Verb


class Notice(msgspec.Struct, frozen=True):
    """A notification a step sends (see notifications.notify)."""

    recipients: Sequence[int | notifications.Recipient]
    kind: str
    link: str
    params: dict[str, Any] = {}


class Machine(msgspec.Struct, frozen=True):
    name: str  # also the audit object type
    statuses: tuple[str, ...]
    transitions: tuple[Transition, ...]
    action_names: Mapping[str, str] = {}
    status_names: Mapping[str, str] = {}

    def find(self, action: str, source: str) -> Transition | None:
        return next((t for t in self.transitions if t.action == action and t.source == source), None)

    def allowed(self, action: str, source: str) -> bool:
        return self.find(action, source) is not None

    def actions_from(self, source: str) -> list[str]:
        return list(dict.fromkeys(t.action for t in self.transitions if t.source == source))

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.action for t in self.transitions))

    def check(self, action: str, source: str, capacities: Iterable[str]) -> Transition:
        """The transition `action` takes from `source`, for an actor with these capacities; refused
        with the moves that are allowed from there."""
        transition = self.find(action, source)
        if transition is None:
            possible = self.actions_from(source)
            status = gettext(self.status_names[source]) if source in self.status_names else source
            if not possible:
                raise Conflict("Nothing more can be done here: it is %(status)s.", status=status)
            raise Conflict("This cannot be done while it is %(status)s; what can be done now: %(actions)s.",
                           status=status, actions=series(gettext(self.action_names.get(a, a)) for a in possible))
        if not transition.who & set(capacities):
            raise Forbidden("You may not do this: %(action)s.", action=Msg(self.action_names.get(action, action)))
        return transition


MACHINES: dict[str, Machine] = {}


def machine(name: str, statuses: Iterable[str], transitions: Iterable[tuple[str, str, str, Iterable[str], Verb]], *,
            action_names: Mapping[str, str] | None = None, status_names: Mapping[str, str] | None = None) -> Machine:
    """Declare a life cycle: (action, from, to, who, verb) rows. Registered by name for the tests."""
    declared = Machine(name, tuple(statuses),
                       tuple(Transition(a, s, t, frozenset([who] if isinstance(who, str) else who), v)
                             for a, s, t, who, v in transitions),
                       action_names or {}, status_names or {})
    unknown = {s for t in declared.transitions for s in (t.source, t.target)} - set(declared.statuses)
    if unknown:
        raise ValueError(f"{name}: transitions name unknown statuses {sorted(unknown)}")
    MACHINES[name] = declared
    return declared


async def step(conn: asyncpg.Connection, machine: Machine, action: str, source: str, *, object_id: object,
               capacities: Iterable[str], actor: int | None, organisation: int | None = None,
               write: Callable[[Transition], Awaitable[None]] | None = None,
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
               notices: Iterable[Notice] = ()) -> Transition:
    """Move one object: check the move, let `write` change the row (inside the caller's
    transaction), write the audit entry with the transition's own verb, and notify."""
    transition = machine.check(action, source, capacities)
    if write is not None:
        await write(transition)
    await audit.record(conn, verb=transition.verb, object_type=machine.name, object_id=object_id, actor=actor,
                       organisation=organisation, before={"status": source, **(before or {})},
                       after={"status": transition.target, **(after or {})})
    for notice in notices:
        await notifications.notify(conn, notice.recipients, notice.kind, notice.link, **notice.params)
    return transition
