from collections.abc import Sequence
from typing import Any

import asyncpg
from litestar.datastructures import State

from market.core.access import Identity
from market.core.domain import Domain, merged
from market.core.i18n import N_
from market.notifications import services
from market.notifications.controllers import InboxApi, InboxPages


async def _send(state: State) -> None:
    await services.send_pending(state.pool, state.mailer, state.settings)
    await services.send_digests(state.pool, state.mailer, state.settings)


async def _unread(conn: asyncpg.Connection, identity: Identity) -> dict[str, Any]:
    return {"unread": await services.unread(conn, identity.user_id)}


def _install(domains: Sequence[Domain]) -> None:
    services.register_kinds(merged(domains, "notification_kinds"),
                            {kind for domain in domains for kind in domain.urgent_notices})


DOMAIN = Domain("notifications", routes=[InboxPages, InboxApi], jobs=[_send], request_state=_unread, install=_install,
                done_messages={"inbox_read": N_("Every notice is marked read.")})
