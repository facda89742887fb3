"""Languages: Babel catalogues, the request's locale, and money and date formatting.

Message ids are English; ``market/locale/zh_Hans`` translates them. zh-Hans is the default.
The current locale lives in a context variable set once per request, so services can raise
errors whose text is translated when it is rendered.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hans"
LOCALE_NAMES = {"zh_Hans": "中文", "en": "English"}
HTML_LANG = {"zh_Hans": "zh-Hans", "en": "en"}
LOCALE_DIR = Path(__file__).parent.parent / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)
current_timezone: ContextVar[str] = ContextVar("current_timezone", default="Asia/Shanghai")


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    # Compiled in memory at first use: no build step, no .mo files to keep in step with the .po.
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def N_(message: str) -> str:
    """Marks a message id for extraction where it is defined; it is translated where it is shown."""
    return message


class Msg(str):
    """A parameter of a message that is itself a message id, translated along with it."""


def gettext(message: str, **params: object) -> str:
    catalogue = translations(current_locale.get())
    text = catalogue.gettext(message)
    if not params:
        return text
    return text % {k: catalogue.gettext(v) if isinstance(v, Msg) else v for k, v in params.items()}


def bilingual(zh: str, en: str) -> str:
    """The English of a bilingual text when the language is English and it has one, else the Chinese."""
    return en if current_locale.get() == "en" and en else zh


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


_ = gettext


def babel_locale(locale: str | None = None) -> Locale:
    return _babel_locale(locale or current_locale.get())


@cache
def _babel_locale(locale: str) -> Locale:
    # Parsed once: a list page formats a few hundred dates and sums.
    return Locale.parse(locale)


def format_money(fen: int, locale: str | None = None) -> str:
    """Integer fen as ¥1,234.56 (the same symbol in both languages; amounts are always CNY): the
    pattern #,##0.00 with the language's own group and decimal signs, in integers."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("money is integer fen")
    group, decimal = _money_signs(locale or current_locale.get())
    yuan, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{yuan:,}".replace(",", group) + f"{decimal}{cents:02d}"


@cache
def _money_signs(locale: str) -> tuple[str, str]:
    symbols = _babel_locale(locale).number_symbols["latn"]
    return symbols["group"], symbols["decimal"]


def format_datetime(value: datetime | None, fmt: str = "medium", locale: str | None = None) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_timezone.get()))
    locale = locale or current_locale.get()
    if fmt not in _ZONELESS:
        return dates.format_datetime(local, fmt, locale=_babel_locale(locale))
    # Babel's own composition (its format_datetime) of a date and a time formatted apart, each of
    # them cached: a list page's deadlines repeat their days and times, and babel took 6-13 µs a
    # moment, 15 % of the calls page's time.
    pattern, seconds = _datetime_pattern(fmt, locale)
    moment = local.time().replace(microsecond=0) if seconds else local.time().replace(second=0, microsecond=0)
    return pattern.replace("{0}", _format_time(moment, fmt, locale)).replace("{1}", _format_date(local.date(), fmt, locale))


# The standard formats whose time has no zone in it (so the time of day alone decides it).
_ZONELESS = ("short", "medium")


@cache
def _datetime_pattern(fmt: str, locale: str) -> tuple[str, bool]:
    """The language's way of joining a date and a time, and whether its time shows seconds."""
    babel = _babel_locale(locale)
    return str(babel.datetime_formats[fmt]).replace("'", ""), "s" in babel.time_formats[fmt].pattern


@lru_cache(maxsize=4096)
def _format_time(value: time, fmt: str, locale: str) -> str:
    return dates.format_time(value, fmt, locale=_babel_locale(locale))


def format_date(value: date | datetime | None, fmt: str = "medium", locale: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(current_timezone.get())).date()
    return _format_date(value, fmt, locale or current_locale.get())


@lru_cache(maxsize=4096)
def _format_date(value: date, fmt: str, locale: str) -> str:
    # A list repeats its dates (a page of needs raised over a few days): each is formatted once.
    return dates.format_date(value, fmt, locale=_babel_locale(locale))


def format_number(value: float | Decimal, locale: str | None = None) -> str:
    return numbers.format_decimal(value, locale=babel_locale(locale))


def load() -> None:
    """Read each language's catalogue and babel's data for it now, at start-up: the first request of
    a process did (parsing and compiling the .po, 190 ms of it here, and babel's locale data as a
    date or a number was first formatted)."""
    moment = datetime(2026, 1, 1, tzinfo=ZoneInfo(current_timezone.get()))
    for locale in LOCALES:
        translations(locale)
        format_money(0, locale)
        format_datetime(moment, "short", locale)
        format_datetime(moment, "medium", locale)
        format_number(Decimal("1.5"), locale)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak another language for a moment, e.g. to write an email in its recipient's language."""
    token = current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        current_locale.reset(token)


def separator() -> str:
    """What stands between items named one after another in the page's language: 甲、乙 and A, B."""
    return "、" if current_locale.get().startswith("zh") else ", "


def series(items: Iterable[Any], name: Callable[[Any], str] = str) -> str:
    return separator().join(map(name, items))


def format_size(size: int) -> str:
    """Bytes as people read them: 512 B, 4 KB, 20 MB."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{format_number(round(size / scale, 1))} {unit}"
    return f"{size} B"
