"""The pages people use render in both languages with what they need."""

import pytest

from tests.conftest import act_as

PAGES = [
    ("resident", "/dashboard"), ("resident", "/account"), ("resident", "/organisations/new"),
    ("provider_admin", "/organisations/{provider}/edit"), ("provider_admin", "/organisations/{provider}/members"),
    ("provider_admin", "/organisations/{provider}"), ("platform_admin", "/admin/organisations"),
    ("platform_admin", "/admin/audit"), ("platform_admin", "/organisations/{pending_provider}"),
    (None, "/"), (None, "/organisations"), (None, "/login"), (None, "/signup"), (None, "/password/forgot"),
]


@pytest.mark.parametrize("who,path", PAGES)
@pytest.mark.parametrize("lang,html_lang", [("zh_Hans", "zh-Hans"), ("en", "en")])
async def test_page_renders_in_both_languages(client, pool, world, who, path, lang, html_lang):
    if who:
        await act_as(client, pool, client.app.state.settings, world[who].user_id)
    client.cookies.set("market_lang", lang)
    r = await client.get(path.format(**world.orgs))
    assert r.status_code == 200, r.text[:500]
    assert f'<html lang="{html_lang}">' in r.text
    if "<form method=\"post\"" in r.text:
        assert 'name="_csrf_token" value="' + client.cookies.get("market_csrf") + '"' in r.text


async def test_edit_form_is_filled_with_the_current_profile(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    page = (await client.get(f"/organisations/{world.orgs['provider']}/edit")).text
    assert 'value="0571-1234"' in page and "私密地址" in page


async def test_user_supplied_text_is_escaped(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    await pool.execute("update users set display_name = '<script>alert(1)</script>' where id = $1",
                       world["resident"].user_id)
    page = (await client.get("/dashboard")).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page



@pytest.mark.parametrize("path", ["/needs", "/projects", "/calls", "/resources", "/catalogue", "/organisations",
                                  "/lists"])
async def test_a_list_filter_keeps_the_language_the_address_asked_for(client, path):
    # Opened from a link with ?lang=en (no cookie yet), the search goes on in English.
    asked = (await client.get(f"{path}?lang=en")).text
    assert '<input type="hidden" name="lang" value="en">' in asked
    assert 'name="lang"' not in (await client.get(path)).text
    assert 'name="lang"' not in (await client.get(f"{path}?lang=xx")).text  # not a language we speak
