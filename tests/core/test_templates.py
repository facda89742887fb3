"""What a process's first request waited for is done when the process starts: every page's template
compiled (25-300 ms a template here; a template that does not compile stops the start rather than
one page later), and each language's catalogue read and compiled (190 ms)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from market.core import i18n
from tests.conftest import app_for


async def test_pages_and_catalogues_are_ready_before_the_first_request(app_settings, database, pool) -> None:
    app = app_for(app_settings, database)
    env = app.state.templates
    env.cache.clear()  # as in a process that has just started
    i18n.translations.cache_clear()
    async with AsyncTestClient(app, base_url="http://testserver.local"):
        compiled = {name for _, name in env.cache}
        catalogues = i18n.translations.cache_info().currsize
    pages = env.list_templates(extensions=["html"])
    assert len(pages) > 100 and set(pages) <= compiled
    assert catalogues == len(i18n.LOCALES)
