from litestar.datastructures import State

from market.core.domain import Domain
from market.opendata import bulk
from market.opendata.controllers import OcdsApi, OpenDataApi, OpenDataPages


async def _bulk_file(state: State) -> None:
    async with state.pool.acquire() as conn:
        await bulk.make_if_due(conn, state.storage, state.settings)


DOMAIN = Domain("opendata", routes=[OpenDataPages, OpenDataApi, OcdsApi], jobs=[_bulk_file])
