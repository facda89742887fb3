from tests.conftest import act_as


async def test_dashboard_for_buyer(client, pool, settings, world):
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    r = await client.get("/dashboard")
    assert r.status_code == 200, r.text
    assert 'data-dashboard="buyer"' in r.text
