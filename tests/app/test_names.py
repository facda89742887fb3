"""An organisation is named in the reader's language wherever a page names it: its English name on an
English page where it has one, its Chinese name otherwise. English readers (a foreign foundation's
CSR staff, say) had read the Chinese names of the buyer, provider and funder on the contract, pledge,
transfers, fair and workbench pages, though every organisation may give an English name."""

from __future__ import annotations

import uuid

from market.funding.pledges import services as pledges
from market.matching.fairs import services as fairs
from market.matching.fairs.models import RaiseInput
from tests.conftest import act_as
from tests.factories import do, live_fair, make_pledge, transfer, who


async def _page(client, pool, settings, world, name: str, url: str, lang: str) -> str:
    await act_as(client, pool, settings, world[name].user_id)
    response = await client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
    assert response.status_code == 200, url
    return response.text


async def test_pages_name_organisations_in_the_readers_language(client, pool, settings, world, signed, project):
    funder = await who(pool, settings, world, "funder_admin")
    pledge = await make_pledge(pool, settings, world, "project", project, 2_000_00)
    await do(pool, pledges.record_offline, funder, pledge, transfer())
    fair_id = await live_fair(pool, settings, world, project)
    token = await do(pool, fairs.raise_paddle, funder, fair_id,
                     RaiseInput(project_id=project, amount_fen=1_000_00, token=uuid.uuid4()))
    await do(pool, fairs.confirm_raise, funder, fair_id, token)

    seen = [  # (reader, page, the organisations it names)
        ("provider_admin", f"/contracts/{signed}", ("bureau", "provider")),
        ("buyer_admin", f"/pledges/{pledge}", ("funder",)),
        ("buyer_admin", "/payments", ("funder",)),
        ("buyer_admin", "/dashboard", ("funder",)),  # a transfer to confirm, and who made it
        ("funder_admin", f"/fairs/{fair_id}/board", ("funder",)),
        ("funder_admin", f"/fairs/{fair_id}", ("bureau",)),  # its organiser
    ]
    for reader, url, named in seen:
        english = await _page(client, pool, settings, world, reader, url, "en")
        chinese = await _page(client, pool, settings, world, reader, url, "zh_Hans")
        for key in named:
            assert f"Test {key}" in english and f"测试{key}" not in english, (url, key)
            assert f"测试{key}" in chinese and f"Test {key}" not in chinese, (url, key)

    # Without an English name, an English page names it in Chinese.
    await pool.execute("update organisations set name_en = '' where id = $1", world.orgs["funder"])
    assert "测试funder" in await _page(client, pool, settings, world, "buyer_admin", "/payments", "en")
