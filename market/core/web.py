"""The web layer's shared parts: pages, forms, the per-request context and the error mapping."""

from __future__ import annotations

import asyncio
import pickle
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from functools import partial
from typing import Annotated, Any, NamedTuple, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import asyncpg
import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from markupsafe import Markup
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie, UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.middleware import ASGIMiddleware
from litestar.params import QueryParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from market.core import clock, db, i18n
from market.core.access import ROLE_NAMES, Identity
from market.core.keyset import Paged, Window, paged_fields
from market.core.errors import (
    Conflict,
    Invalid,
    InvalidFields,
    MarketError,
    Unavailable,
)
from market.core.i18n import gettext
from market.core.settings import ROOT, Settings
from market.core.templating import Templates
from market.core.validation import explain_validation

log = structlog.get_logger("market.core.web")
# What handlers ask for by name; the app provides them (see market.app).
Db = NamedDependency[asyncpg.Connection]
User = NamedDependency[Identity]
MaybeUser = NamedDependency[Identity | None]
Config = NamedDependency[Settings]

SESSION_COOKIE = "market_session"
LANG_COOKIE = "market_lang"


def language_cookie(locale: str, secure: bool) -> Cookie:
    """The cookie that keeps a reader's language for a year, on every page they open next."""
    return Cookie(key=LANG_COOKIE, value=locale, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                  secure=secure)


def template_environment(domain_globals: Mapping[str, Any], reload: bool = True) -> Environment:
    """The pages' templates; `reload` (MARKET_DEBUG) reads a template again when its file changed,
    which costs a stat of each file a page includes, every row of a list that includes one."""
    env = Templates(
        loader=FileSystemLoader(ROOT / "templates"),
        auto_reload=reload,
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Jinja's i18n extension is not needed: no template has a {% trans %} block, and its `_`,
    # `gettext` and `ngettext` are these, which return what its newstyle ones do, faster.
    env.globals["_"] = env.globals["gettext"] = _template_gettext()
    env.globals["ngettext"] = _template_ngettext
    env.filters.update(
        money=i18n.format_money, datetime=i18n.format_datetime, date=i18n.format_date, number=i18n.format_number,
        series=i18n.series, names=lambda codes, table: [i18n.gettext(table[c]) for c in codes],
        t=lambda s: i18n.gettext(s) if s else "",
    )
    env.globals.update(
        LOCALES=i18n.LOCALES, LOCALE_NAMES=i18n.LOCALE_NAMES, HTML_LANG=i18n.HTML_LANG, localized=localized,
        choices=choices, url_with=url_with, separator=i18n.separator, idempotency_token=idempotency_token, file_size=i18n.format_size, ROLE_NAMES=ROLE_NAMES,
        role_choices=lambda: [(k, i18n.gettext(v)) for k, v in ROLE_NAMES.items()],
    )
    env.globals.update(domain_globals)
    env.find_plain_functions()
    return env


def compile_templates(env: Environment) -> None:
    """Compile every page's template now, at start-up, rather than on the first request for it: a
    template and what it imports took 25-300 ms to compile, which the first visitor of each page
    waited for in each process after every restart (2.9 s for all 113 here)."""
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def _template_gettext() -> Callable[..., Markup]:
    """`_()` in templates: what jinja's newstyle gettext returns (the translation as Markup, formatted
    with the escaped variables, so a `%%` is one `%` either way), the plain ones made once per
    language. A list page calls it a few hundred times, and jinja's own took a fifth of its time."""
    made: dict[tuple[str, str], Markup] = {}

    def gettext(message: str, **variables: Any) -> Markup:
        locale = i18n.current_locale.get()
        if variables:
            return Markup(i18n.translations(locale).gettext(message)) % variables
        key = (locale, message)
        text = made.get(key)
        if text is None:
            if len(made) > 20_000:  # a message made of data (a record's own words) must not grow it for ever
                made.clear()
            text = made[key] = Markup(i18n.translations(locale).gettext(message)) % {}
        return text
    return gettext


def _template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
    """`ngettext()` in templates: what jinja's newstyle ngettext returns (`num` among the variables),
    called straight: jinja's own passes the template's context through `Context.call`, a tenth of the
    lists page, which counts each need's supporters so."""
    variables.setdefault("num", num)
    return Markup(i18n.translations(i18n.current_locale.get()).ngettext(singular, plural, num)) % variables


def localized(obj: Any, field: str = "name") -> str:
    """The English text of a bilingual record when the page is in English and it has one. The
    Chinese text is `{field}_zh`, or plain `field` where the record names it so."""
    # dicts and database records have get(); Structs have attributes. A list page asks a hundred times.
    get = obj.get if hasattr(obj, "keys") else partial(getattr, obj)
    zh = get(f"{field}_zh", _MISSING)
    return i18n.bilingual(str(get(field, None) if zh is _MISSING else zh), str(get(f"{field}_en", None) or ""))


_MISSING = object()


def choices(items: list[Any]) -> list[tuple[Any, str]]:
    """(id, name in the page's language) pairs for a <select>."""
    depth = {"district": 0, "street": 1, "community": 2, "grid": 3}
    return [(item.id, "\u3000" * depth.get(getattr(item, "level", ""), 0) + localized(item)) for item in items]


def url_with(request: Request[Any, Any, Any], name: str, value: Any) -> str:
    """This page's address with one parameter set (or dropped, for None), every other kept; a page
    of a list (its cursor) is dropped, since the list changes."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in (name, "cursor", "done")]
    if value is not None:
        params.append((name, str(value)))
    return request.url.path + ("?" + urlencode(params) if params else "")


def place_id(value: Any) -> int | None:
    """A place id a form sent, if it is one (the service then checks the place itself)."""
    return int(value) if str(value or "").isdigit() and len(str(value)) <= 9 else None


# The field a form's place steps send (templates/_places.html): show the form again at that level.
BROWSE_FIELD = "_place"
# The level the form's place steps were at when it was sent, so that a form refused is shown again
# there, not back at the top.
BROWSED_FIELD = "_at"


async def browsed_place(request: Request[Any, Any, Any]) -> int | None:
    """The level a form page's place field shows, if any: the one a place step sent the form for,
    else the one it was at, else `place` in the address."""
    if request.method == "POST":
        form = await request.form()
        step = form.get(BROWSE_FIELD)
        return place_id(form.get(BROWSED_FIELD) if step is None else step)
    return place_id(request.query_params.get("place"))


def identity_of(request: Request[Any, Any, Any]) -> Identity | None:
    return request.scope.get("state", {}).get("identity")


def page(request: Request[Any, Any, Any], template: str, status: int = 200, **context: Any) -> Response[Any]:
    """Render a page for a person, with what every page needs (who, language, CSRF token)."""
    env: Environment = request.app.state.templates
    html = env.get_template(template).render(
        request=request,
        identity=identity_of(request),
        locale=i18n.current_locale.get(),
        csrf_token=ScopeState.from_scope(request.scope).csrf_token or "",
        unread=request.scope.get("state", {}).get("unread", 0),
        settings=request.app.state.settings,
        done_message=request.app.state.done_messages.get(request.query_params.get("done", "")),
        **{"files_dropped": {}, **context},
    )
    return Response(html, status_code=status, media_type=MediaType.HTML)


def redirect(location: str, status: int = 303, background: BackgroundTask | None = None) -> Response[Any]:
    return Response(b"", status_code=status, headers={"Location": location}, media_type=MediaType.TEXT,
                    background=background)


# Lists on pages show this many at a time, with `keyset_pager` for the way on.
PAGE_SIZE = 50
# Where a keyset-paged list goes on from (market.core.keyset): opaque, from a `next` or `previous` link.
CursorParam = Annotated[str | None, QueryParameter(max_length=1000)]


class Pager(NamedTuple):
    """Where a page of a list is in the whole: rows first to last (from 1) of total, and the links."""

    first: int
    last: int
    total: int
    previous: str | None
    next: str | None
    estimated: bool = False
    # The Chinese words an English search looked for besides its own, each with the same list searched
    # for it alone.
    also: tuple[tuple[str, str], ...] = ()


def keyset_pager(request: Request[Any, Any, Any], page: Paged | Window, shown: int | None = None) -> Pager:
    """The way through a keyset-paged list (market.core.keyset), from its page (and how many rows it
    shows) or its window: the same address with the cursor of the page either side, every other
    parameter (filters, language) kept."""
    if isinstance(page, Window):
        shown = len(page.rows)
        page = Paged(**paged_fields(page))

    def at(name: str, value: str) -> str:
        """The same address from the list's first page (no cursor) with `name` set to `value`."""
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in (name, "cursor", "done")]
        return "?" + urlencode([*kept, (name, value)])
    shown = shown or 0
    return Pager(first=page.first + 1 if shown else 0, last=page.first + shown, total=page.total,
                 previous=at("cursor", page.previous_cursor) if page.previous_cursor else None,
                 next=at("cursor", page.next_cursor) if page.next_cursor else None, estimated=page.total_estimated,
                 also=tuple((word, at("q", word)) for word in page.also_searched))


def done(location: str, code: str, background: BackgroundTask | None = None) -> Response[Any]:
    """Redirect after a step that worked, so that the page it lands on says so (a domain's
    `done_messages`)."""
    path, hash_, anchor = location.partition("#")
    return redirect(f"{path}{'&' if '?' in path else '?'}done={code}{hash_}{anchor}", background=background)


def require_confirmation(form: dict[str, Any], step: str) -> None:
    """An irreversible step's form carries a box to tick (`confirm_box` in _forms.html); without it
    ticked nothing is done. The box is taken out of the form, which the step then reads as usual.
    Pages only: programs calling the JSON API confirm by calling it."""
    if form.pop(f"confirmed-{step}", None) != "yes":
        raise Invalid("Tick the box to confirm: this step cannot be undone.", field=f"confirmed-{step}")


_PRINTABLE_ASCII = "".join(map(chr, range(0x21, 0x7f)))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: a `next` parameter must never send a user to another site. Browsers drop
    tabs and line breaks from a URL (so `/<TAB>/host` is `//host`), and a header cannot carry control
    characters at all, so any of them or a backslash refuses the target."""
    if not target or any(c < " " or c in "\\\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//"):
        return default
    return quote(target, safe=_PRINTABLE_ASCII)  # a header carries ASCII only


def form_errors(exc: MarketError) -> dict[str, str]:
    return exc.field_errors() or {"_": exc.text()}


def in_form_terms(exc: MarketError, fields: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the form's field names (form name → service field), as where a form asks
    for yuan and the service counts fen."""
    to_form = {service: form_name for form_name, service in fields.items()}
    return {to_form.get(k, k): v for k, v in form_errors(exc).items()}


async def form_data(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A submitted form as a dict, empty fields dropped so defaults apply."""
    form = await request.form()
    return {k: v for k, v in form.items()
            if k not in ("_csrf_token", IDEMPOTENCY_FIELD, BROWSED_FIELD) and not (isinstance(v, str) and v.strip() == "")}


async def uploaded_bytes(request: Request[Any, Any, Any]) -> bytes:
    """The bytes of the form's `file`, refused next to that field when missing or over the upload limit."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("Choose a file to upload.", field="file")
    limit: int = request.app.state.settings.max_upload_bytes
    data = await upload.read(limit + 1)  # one byte past the limit tells it is too large
    if len(data) > limit:
        raise Invalid("The file is too large.", field="file")
    return data


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema/")) or path in ("/health", "/schema"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(status: int, title: str, detail: str, errors: dict[str, str] | None = None,
            request: Request[Any, Any, Any] | None = None, details: dict[str, object] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(details or {})
    if request is not None:
        body["instance"] = request.url.path
        body["request_id"] = request.scope.get("request_id")
    return Response(body, status_code=status, media_type="application/problem+json")


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The one mapping from errors to HTTP: problem details for programs, an error page for people."""
    if "request_id" not in request.scope:
        # No route matched, so the middleware never ran: the page still speaks the reader's language.
        i18n.current_locale.set(chosen_locale(request, None))
    errors: dict[str, str] | None = None
    details: dict[str, object] = {}
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}  # e.g. 405's Allow
    if database_unavailable(exc):
        exc = Unavailable("The database cannot be reached just now. Please try again in a moment.")
    if isinstance(exc, MarketError):
        details = exc.details()
        status, detail = exc.status, exc.text()
        errors = form_errors(exc) if isinstance(exc, InvalidFields) or exc.field else None
        title = gettext(exc.title)
    elif isinstance(exc, ValidationException):
        status = 400
        extra = exc.extra if isinstance(exc.extra, list) else []
        problems = [explain_validation(f"{item.get('message', '')} - at `$.{item['key']}`" if item.get("key")
                                       else str(item.get("message", ""))) for item in extra if isinstance(item, dict)]
        if not problems:
            problems = [explain_validation(str(exc.detail))]
        errors = form_errors(InvalidFields(problems))
        detail = next(iter(errors.values()))
        title = gettext("Some of what was entered is not valid")
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        if status == 403 and "CSRF" in str(exc.detail):
            detail = gettext("This form has expired or was sent from elsewhere. Go back, reload the page and try again.")
        elif status == 404:
            detail = gettext("There is no such page.")
        elif status == 405:
            detail = gettext("This address does not accept that kind of request.")
        elif status == 413:
            detail = gettext("What was sent is too large: a file may be at most %(size)s. Go back to the form "
                             "and choose a smaller file.",
                             size=i18n.format_size(request.app.state.settings.max_upload_bytes))
        elif isinstance(exc, NotAuthorizedException):
            detail = gettext("Please log in first")
        else:
            detail = gettext("The request could not be carried out")
        title = detail
    else:
        log.exception("unhandled error", exc_info=exc)
        status, title = 500, gettext("Something went wrong on our side")
        detail = gettext("The error has been logged. Please try again later; nothing was changed.")
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if wants_json(request):
        response = problem(status, title, detail, errors, request, details)
    elif status == 401:
        # The whole address, so a link such as /pledges/new?target_type=fund&target_id=7 still names its fund.
        here = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
        return redirect(f"/login?next={quote(here, safe='/')}")
    else:
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
        response = page(request, template, status=status, title=title, detail=detail, errors=errors or {},
                        back=same_origin_referer(request))
    response.headers.update(headers)
    return response


# How soon a client may try again when the database or a payment service is away: a restart of
# PostgreSQL or a failover takes seconds.
RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException) -> bool:
    """Whether an error means PostgreSQL cannot be reached (down, restarting, refusing connections),
    as opposed to a query that failed."""
    return isinstance(exc, (ConnectionError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                            asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
                            asyncpg.ConnectionDoesNotExistError))


def same_origin_referer(request: Request[Any, Any, Any]) -> str | None:
    """The page a person came from, as a local path, so an error page can offer the way back (the
    browser usually keeps what was typed in the form there). Another site's address is never used."""
    referer = urlsplit(request.headers.get("referer", ""))
    if (referer.scheme, referer.netloc) != (request.url.scheme, request.url.netloc) or not referer.path:
        return None
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(path, "") or None


def _drop_empty_filters(scope: Scope) -> None:
    """A filter form left on "any" sends `?place=&status=`; for a page that means no filter, not a
    bad value. (The JSON API stays strict.)"""
    raw = scope.get("query_string", b"")
    if not raw or scope.get("method") != "GET" or scope["path"].startswith("/api/"):
        return
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if v.strip()]
    if len(kept) != len(pairs):
        scope["query_string"] = urlencode(kept).encode()


def chosen_locale(request: Request[Any, Any, Any], identity: Identity | None) -> str:
    """The page's language: asked for in the address, else the cookie, else the account's."""
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return lang if lang in i18n.LOCALES else (identity.locale if identity else i18n.DEFAULT_LOCALE)


async def safe_headers(message: Message, scope: Scope) -> None:
    """Every answer's request id, language and the browser's safety rules, where the response did not
    set its own: a hook on every response, as the router answers an unknown address (404) or method
    (405) before any middleware runs (and so before a request id is given; one is made up then)."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", ()))
        named = {name.lower() for name, _ in headers}  # read once: a header the response set stays
        if b"x-request-id" not in named:
            request_id = str(scope.get("request_id") or uuid.uuid4().hex)
            headers.append((b"x-request-id", request_id.encode()))
        headers += [(name, value) for name, value in _SAFE_HEADERS[i18n.current_locale.get()] if name not in named]
        message["headers"] = headers


# Added to every response that has not set its own, by language (content-language differs).
_SAFE_HEADERS = {locale: [(name.encode(), value.encode()) for name, value in (
    ("content-language", i18n.HTML_LANG[locale]),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("content-security-policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; form-action 'self'"))]
    for locale in i18n.LOCALES}


class RequestContextMiddleware(ASGIMiddleware):
    """Per request: an id for the logs, who is asking (from the session cookie) and in which language."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        _drop_empty_filters(scope)
        request: Request[Any, Any, Any] = Request(scope)
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        if not re.fullmatch(r"[0-9A-Za-z._-]{1,64}", request_id):
            request_id = uuid.uuid4().hex
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        app_state = scope["litestar_app"].state
        i18n.current_timezone.set(app_state.settings.timezone)

        if app_state.settings.test_clock:
            # Another process of the test may have moved the clock.
            async with app_state.pool.acquire() as conn:
                await clock.load(conn)
        identity: Identity | None = None
        token = request.cookies.get(SESSION_COOKIE)
        if token and len(token) < 200:
            async with app_state.pool.acquire() as conn:
                identity = await app_state.identify(conn, token)
                if identity is not None:
                    for hook in app_state.request_state:
                        scope.setdefault("state", {}).update(await hook(conn, identity))
        scope.setdefault("state", {})["identity"] = identity
        if identity is not None:
            structlog.contextvars.bind_contextvars(user_id=identity.user_id, org_id=identity.org_id)

        locale = chosen_locale(request, identity)
        i18n.current_locale.set(locale)
        # A page opened in a language asked for in its address (a link someone shared, a list's
        # filters) keeps it for the pages the reader goes on to; the address alone would give the
        # next page, reached from the menu, in the cookie's language again.
        keep = (request.query_params.get("lang") == locale != request.cookies.get(LANG_COOKIE)
                and scope.get("method") == "GET" and not scope["path"].startswith("/api/"))

        started = time.perf_counter()
        status_holder: dict[str, int] = {}
        recording = app_state.settings.statements_file if request.headers.get(db.RECORD_HEADER) else None
        if recording:
            db.recorded.set([])

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", ()))
                if recording:
                    await asyncio.sleep(0)  # the query loggers asyncpg has scheduled run first
                    headers.append((b"x-statements", str(db.statement_count(db.recorded.get() or [])).encode()))
                if keep:
                    cookie = language_cookie(locale, app_state.settings.secure_cookies).to_header(header="")
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            log.info("request", method="HEAD" if scope["state"].get("head") else scope.get("method"),
                     path=scope.get("path"), status=status_holder.get("status"),
                     ms=round((time.perf_counter() - started) * 1000, 1))
            if recording:
                await asyncio.sleep(0)
                _keep_statements(recording, scope, db.recorded.get() or [])


def _keep_statements(path: str, scope: Scope, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """One request's statements for `market bench api`, which replays them straight through asyncpg.
    Pickle keeps the arguments' types (dates, lists) as asyncpg needs them; the file is the bench's own,
    appended to by every app process: one write each, which O_APPEND keeps whole."""
    target = scope.get("path", "") + ("?" + scope["query_string"].decode() if scope.get("query_string") else "")
    with open(path, "ab") as out:
        out.write(pickle.dumps((scope.get("method"), target, statements)))


IDEMPOTENCY_FIELD = "_idem"
# A first request still running after this long is taken to have died; its key may be claimed again.
_ABANDONED_SECONDS = 60
_REPLAY_WAIT_SECONDS = 10
_KEPT_BODY_BYTES = 256 * 1024


def idempotency_token() -> str:
    """A fresh key for one rendering of a form (templates put it beside the CSRF token)."""
    return secrets.token_urlsafe(18)


async def _idempotency_key(scope: Scope, receive: Receive) -> str | None:
    request: Request[Any, Any, Any] = Request(scope, receive)
    key = request.headers.get("idempotency-key")
    if key is None and request.content_type[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            # The body is read (and kept for the handler) before parsing: a body that fails to
            # parse here must still be there for the handler to refuse, not a stream half read.
            await request.body()
            key = (await request.form()).get(IDEMPOTENCY_FIELD)
        except (HTTPException, ValueError):
            return None  # the handler reports what is wrong with the body
    return key if isinstance(key, str) and 8 <= len(key) <= 200 else None


class IdempotencyMiddleware(ASGIMiddleware):
    """Every request that changes something acts once per key (the form's `_idem` field or the
    `Idempotency-Key` header), as Stripe's API does: the first claims the key, and any repeat —
    even one racing it — waits for the first and gets its response. A refused request keeps
    nothing, so the person can correct and send again."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE") or (key := await _idempotency_key(scope, receive)) is None:
            await next_app(scope, receive, send)
            return
        method = scope.get("method")
        identity = scope.get("state", {}).get("identity")
        owner = identity.user_id if identity else 0
        pool: asyncpg.Pool = scope["litestar_app"].state.pool
        deadline = time.monotonic() + _REPLAY_WAIT_SECONDS
        while True:
            claimed = await pool.fetchval(
                """insert into idempotency_keys as k (user_id, key, method, path) values ($1, $2, $3, $4)
                   on conflict (user_id, key) do update set claimed_at = market_now(), method = excluded.method,
                       path = excluded.path
                   where k.status is null and k.claimed_at < market_now() - make_interval(secs => $5)
                   returning true""", owner, key, method, scope["path"], _ABANDONED_SECONDS)
            if claimed:
                break
            kept = await pool.fetchrow("select * from idempotency_keys where user_id = $1 and key = $2", owner, key)
            if kept is not None and kept["status"] is not None:
                if kept["path"] != scope["path"] or kept["method"] != method:
                    raise Conflict("This form was sent already. Reload the page and try again.")
                await _replay(kept, send)
                return
            if time.monotonic() > deadline:
                raise Conflict("This form is still being processed. Wait a moment and reload the page.")
            await asyncio.sleep(0.05)
        response: dict[str, Any] = {"body": bytearray()}

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["start"] = message
            elif message["type"] == "http.response.body":
                response["body"] += message.get("body", b"")
            await send(message)

        try:
            await next_app(scope, receive, keep)
        finally:
            await _keep_or_release(pool, owner, key, response)


async def _keep_or_release(pool: asyncpg.Pool, owner: int, key: str, response: dict[str, Any]) -> None:
    start = response.get("start")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in (start or {}).get("headers", [])}
    # Refusals and errors are not kept (the person corrects and sends again), nor responses that set
    # a cookie (a session must never be handed to a replay), nor bodies too large to keep.
    if (start is None or start["status"] >= 400 or "set-cookie" in headers
            or len(response["body"]) > _KEPT_BODY_BYTES):
        await pool.execute("delete from idempotency_keys where user_id = $1 and key = $2", owner, key)
        return
    await pool.execute("update idempotency_keys set status = $3, location = $4, content_type = $5, body = $6 "
                       "where user_id = $1 and key = $2", owner, key, start["status"], headers.get("location"),
                       headers.get("content-type"), bytes(response["body"]))


async def _replay(kept: Any, send: Send) -> None:
    headers = [(b"idempotent-replayed", b"true")]
    if kept["location"]:
        headers.append((b"location", kept["location"].encode("latin-1")))
    if kept["content_type"]:
        headers.append((b"content-type", kept["content_type"].encode("latin-1")))
    body = kept["body"] or b""
    headers.append((b"content-length", str(len(body)).encode()))
    await send(cast(Message, {"type": "http.response.start", "status": kept["status"], "headers": headers}))
    await send(cast(Message, {"type": "http.response.body", "body": body}))


def session_cookie(request: Request[Any, Any, Any], token: str | None) -> Cookie:
    settings = request.app.state.settings
    return Cookie(
        key=SESSION_COOKIE, value=token or "", httponly=True, samesite="lax", secure=settings.secure_cookies,
        path="/", max_age=settings.session_hours * 3600 if token else 0,
    )
