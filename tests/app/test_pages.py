"""The pages people use render in both languages with what they need."""

import re

import pytest
from jinja2 import Environment

from market.core import i18n
from market.funding.resources import services as resources
from market.funding.resources.models import ResourceInput
from tests.conftest import act_as
from tests.factories import do
from tests.factories import who as who_is

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


def _as_jinja_compiles(env: Environment) -> Environment:
    """The same templates, globals and filters, compiled as Jinja itself compiles them."""
    stock = Environment(loader=env.loader, autoescape=env.autoescape, extensions=["jinja2.ext.i18n"],
                        undefined=env.undefined, trim_blocks=env.trim_blocks, lstrip_blocks=env.lstrip_blocks)
    stock.globals.update(env.globals)
    stock.filters.update(env.filters)
    # and Jinja's own `_`, `gettext` and `ngettext`, which the pages' replace
    stock.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.translations(i18n.current_locale.get()).gettext(s),
        lambda s, p, n: i18n.translations(i18n.current_locale.get()).ngettext(s, p, n), newstyle=True)
    return stock


@pytest.mark.parametrize("who,path", [*PAGES, (None, "/needs"), (None, "/calls"), (None, "/funds"), (None, "/catalogue"),
                                      (None, "/resources"), (None, "/lists")])
async def test_a_page_is_what_jinja_itself_would_render(client, pool, settings, world, who, path):
    # Pages compile their function calls and escaping leaner than Jinja does (market.core.templating); the
    # HTML must not change by a byte, in either language (the forms' one-time keys aside), and what
    # people typed is escaped the same.
    await pool.execute("""update organisations set name_zh = name_zh || $1, name_en = coalesce(name_en, '') || $1""",
                       ' <i>&"\'</i>')
    # a row for the lists showing a resource's offer, period and badges
    await do(pool, resources.create, await who_is(pool, settings, world, "funder_admin"),
             ResourceInput(kind="money", title="助老资金 <b>&", amount_fen=100_000_00))
    if who:
        await act_as(client, pool, client.app.state.settings, world[who].user_id)
    ours = client.app.state.templates
    pages = {}
    for env in (ours, _as_jinja_compiles(ours)):
        client.app.state.templates = env
        try:
            for lang in ("zh_Hans", "en"):
                client.cookies.set("market_lang", lang)
                r = await client.get(path.format(**world.orgs))
                assert r.status_code == 200
                pages.setdefault(lang, []).append(re.sub(r'name="_idem" value="[^"]*"', "", r.text))
        finally:
            client.app.state.templates = ours
    assert pages["zh_Hans"][0] == pages["zh_Hans"][1] and pages["en"][0] == pages["en"][1]
    assert type(ours).__name__ != "Environment"  # the lean compilation is the one pages use
