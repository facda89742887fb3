"""The one way a page's form is handled: read it, run the step in a savepoint, and either follow
the step's answer (a redirect that says it worked, see web.done) or show the form again with each
problem next to its field and nothing written. The idempotency key and the CSRF token come with
every form (`f.csrf()` in templates/_forms.html) and are checked before the handler runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.datastructures import UploadFile

from market.core.errors import MarketError
from market.core.web import BROWSE_FIELD, form_data, in_form_terms, page

Context = Callable[[], Awaitable[Mapping[str, Any]]]


async def form_step(request: Request[Any, Any, Any], conn: asyncpg.Connection, template: str,
                    action: Callable[[dict[str, Any]], Awaitable[Response[Any]]], *, context: Context | None = None,
                    fields: Mapping[str, str] | None = None, form: dict[str, Any] | None = None,
                    **values: Any) -> Response[Any]:
    """Run `action(form)`; on a refusal render `template` again with the form as sent, the errors
    keyed by the form's field names (`fields` maps form names to service fields where they differ,
    e.g. yuan on the form and fen in the service), `values`, and what `context` reads — read only
    when needed. The refusal's status is kept (400, 403, 409…) and the rest of the request's
    transaction still commits. A form sent by one of its place steps (web.BROWSE_FIELD) is shown
    again as typed, at the level asked for, and nothing is done."""
    form = await form_data(request) if form is None else form

    async def again(status: int, errors: dict[str, str]) -> Response[Any]:
        extra = dict(await context()) if context is not None else {}
        return page(request, template, status=status, form=form, errors=errors, files_dropped=await _files_sent(request),
                    **{**extra, **values})

    if BROWSE_FIELD in form:
        return await again(200, {})
    try:
        async with conn.transaction():
            return await action(form)
    except MarketError as exc:
        return await again(exc.status, in_form_terms(exc, dict(fields or {})))


async def _files_sent(request: Request[Any, Any, Any]) -> dict[str, int]:
    """How many files each field of the form carried: a form shown again cannot hold them (no page can
    give a chosen file back), so it asks for them again (`files_again` in templates/_forms.html)."""
    sent = Counter(name for name, value in (await request.form()).multi_items()
                   if isinstance(value, UploadFile) and value.filename)
    return dict(sent)
