"""Languages: every string the code and templates mark is translated into zh_Hans, translations keep
their parameters, and money and dates are formatted for the reader's locale and time zone.

The extraction here is Babel's own, with babel.cfg's method map and the keywords of the extract
command in docs/i18n.md, so a string added without a translation fails here, by name."""

from __future__ import annotations

import contextvars
import re
import shlex
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import dates
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

from market.core import i18n
from market.core.errors import MarketError

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
PO_FILE = ROOT / "market" / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
DOCS = ROOT / "docs" / "i18n.md"

# The -k arguments of the extract command in docs/i18n.md; test_docs_extract_command_uses_these_keywords
# keeps the two in step. Babel adds its default keywords to these, as the command does.
KEYWORDS = [
    "_", "gettext", "ngettext:1,2", "N_", "row_problem:2",
    "MarketError", "Invalid", "NotAuthenticated", "Forbidden", "NotFound", "Conflict", "Gone",
    "PayloadTooLarge", "Unavailable",
]
HOW_TO = "Run the extract and update commands in docs/i18n.md, then translate in " + str(PO_FILE.relative_to(ROOT))

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
CJK = "\u3400-\u4dbf\u4e00-\u9fff"
HALF_WIDTH_NEXT_TO_CHINESE = re.compile(rf"[{CJK}][,.;:?!()]|[,;:?!()][{CJK}]")


@cache
def extracted() -> dict[tuple[str, str | None], list[str]]:
    """Every marked message, as (msgid, context), with where it is used ("file:line")."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(BABEL_CFG))
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(KEYWORDS)}
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords, strip_comment_tags=True):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


@cache
def catalogue() -> Catalog:
    with PO_FILE.open("rb") as fh:
        return read_po(fh, locale="zh_Hans")


def translated_messages():
    return [m for m in catalogue() if m.id]


def ids_of(message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def strings_of(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (list, tuple)) else (message.string,)


def describe(msgid: str, context: str | None, places: list[str]) -> str:
    ctx = f" (context {context!r})" if context else ""
    return f"{msgid!r}{ctx} at {', '.join(places[:3])}"


# --- the catalogue against the code ---------------------------------------------------------------

def test_extraction_finds_the_marked_strings():
    found = {msgid for msgid, _ in extracted()}
    # One from a template, one from gettext() in Python, one from an error class, one wrapped in N_.
    assert {"Public Service Market", "There is no such page.", "Choose a file to upload.",
            "This field is required."} <= found, "the extraction in this test no longer sees the project's strings"


def test_every_extracted_message_has_a_translation():
    cat = catalogue()
    problems = []
    for (msgid, context), places in sorted(extracted().items()):
        entry = cat.get(msgid, context)
        if entry is None:
            problems.append(f"not in the catalogue: {describe(msgid, context, places)}")
        elif entry.fuzzy:
            problems.append(f"fuzzy (check the translation, then remove the fuzzy flag): {describe(msgid, context, places)}")
        elif not all(s.strip() for s in strings_of(entry)):
            problems.append(f"not translated: {describe(msgid, context, places)}")
    assert not problems, f"{len(problems)} message(s) lack a zh_Hans translation. {HOW_TO}.\n" + "\n".join(problems)


def test_catalogue_has_nothing_the_code_no_longer_uses():
    found = set(extracted())
    stale = [repr(m.id) for m in translated_messages() if (ids_of(m)[0], m.context) not in found]
    assert not stale, ("the catalogue translates messages no code or template uses; re-run the extract and "
                       "update commands in docs/i18n.md:\n" + "\n".join(stale))


def test_the_message_template_holds_what_the_code_marks():
    """messages.pot is what translators of a new language start from; it had fallen 1,300 behind."""
    with (ROOT / "market" / "locale" / "messages.pot").open("rb") as fh:
        template = {(ids_of(m)[0], m.context) for m in read_po(fh) if m.id}
    assert template == set(extracted()), ("messages.pot is out of date; re-run the extract command in docs/i18n.md: "
                                          f"{sorted(set(extracted()) ^ template)[:10]}")


def test_catalogue_has_no_obsolete_entries():
    assert not catalogue().obsolete, f"obsolete entries: {list(catalogue().obsolete)}"
    obsolete_lines = [line for line in PO_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#~")]
    assert not obsolete_lines, "delete the #~ lines (or update with --ignore-obsolete):\n" + "\n".join(obsolete_lines[:10])


def test_catalogue_header():
    cat = catalogue()
    assert not cat.fuzzy, "the catalogue header is marked fuzzy"
    assert str(cat.locale) == "zh_Hans"
    assert dict(cat.mime_headers)["Language"] == "zh_Hans"
    assert cat.plural_forms == "nplurals=1; plural=0;"


def test_no_entry_is_fuzzy():
    fuzzy = [repr(m.id) for m in translated_messages() if m.fuzzy]
    assert not fuzzy, "fuzzy entries (check them, then remove the fuzzy flag):\n" + "\n".join(fuzzy)


def test_translations_keep_their_placeholders():
    problems = []
    for message in translated_messages():
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids_of(message)))
        for text in strings_of(message):
            if not text:
                continue
            got = set(PLACEHOLDER.findall(text))
            if got != expected:
                problems.append(f"{message.id!r}: placeholders {sorted(got)} instead of {sorted(expected)}")
            # Template gettext always applies %, so a lone % in a translation breaks the page.
            elif "%" in PLACEHOLDER.sub("", text).replace("%%", ""):
                problems.append(f"{message.id!r}: a lone % in {text!r} (write %% for a percent sign)")
            else:
                try:
                    text % {name: "x" for name in expected}
                except (KeyError, ValueError, TypeError) as exc:
                    problems.append(f"{message.id!r}: {text!r} cannot be formatted ({exc})")
    assert not problems, "\n".join(problems)


def test_translations_use_full_width_punctuation():
    problems = [f"{m.id!r}: {s!r}" for m in translated_messages() for s in strings_of(m)
                if HALF_WIDTH_NEXT_TO_CHINESE.search(s)]
    assert not problems, "use ，。；：？！（） in Chinese text:\n" + "\n".join(problems)


# --- the extraction's configuration ---------------------------------------------------------------

def test_docs_extract_command_uses_these_keywords():
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    commands = [b.replace("\\\n", " ") for b in blocks if "pybabel extract" in b]
    assert len(commands) == 1, "docs/i18n.md should show one pybabel extract command"
    args = shlex.split(commands[0])
    documented = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-k", "--keyword", "--keywords")]
    assert len(documented) == len(set(documented))
    assert set(documented) == set(KEYWORDS), (
        f"only in docs/i18n.md: {sorted(set(documented) - set(KEYWORDS))}; "
        f"only in KEYWORDS here: {sorted(set(KEYWORDS) - set(documented))}")
    assert args[args.index("-F"):args.index("-F") + 2] == ["-F", "babel.cfg"]


def _error_classes(cls: type = MarketError) -> list[type]:
    return [cls] + [c for sub in cls.__subclasses__() for c in _error_classes(sub)]


def test_every_error_class_taking_a_message_is_a_keyword():
    import market.app  # noqa: F401 -- loads every module, and so every error class

    keyword_names = {k.split(":")[0] for k in KEYWORDS}
    missing = [c.__name__ for c in _error_classes() if c.__init__ is MarketError.__init__ and c.__name__ not in keyword_names]
    assert not missing, f"add these to KEYWORDS here and -k in docs/i18n.md, so their messages are extracted: {missing}"


def test_every_error_title_is_extracted():
    import market.app  # noqa: F401

    found = {msgid for msgid, _ in extracted()}
    missing = {c.__name__: c.title for c in _error_classes() if c.title not in found}
    assert not missing, f"wrap these titles in N_(...) so they are extracted: {missing}"


# --- run time ------------------------------------------------------------------------------------

def test_gettext_follows_the_current_locale():
    token = i18n.current_locale.set("en")
    try:
        assert i18n.gettext("Log in") == "Log in"
        assert i18n.gettext("Welcome, %(name)s.", name="王阿姨") == "Welcome, 王阿姨."
        i18n.current_locale.set("zh_Hans")
        assert i18n.gettext("Log in") == "登录"
        assert i18n.gettext("Welcome, %(name)s.", name="王阿姨") == "王阿姨，您好。"
        # A parameter that is itself a message id is translated along with the message.
        assert i18n.gettext("This page is for %(who)s.", who=i18n.Msg("signed-in users")) == "此页面仅供已登录用户使用。"
        assert i18n.gettext("no such message id") == "no such message id"
    finally:
        i18n.current_locale.reset(token)


def test_zh_hans_is_the_default_locale():
    fresh = contextvars.Context()
    assert fresh.run(i18n.current_locale.get) == "zh_Hans"
    assert fresh.run(i18n.gettext, "Public Service Market") == "公益服务市场"


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize(("fen", "text"), [(123456, "¥1,234.56"), (5, "¥0.05"), (-1200, "-¥12.00"), (0, "¥0.00")])
def test_format_money(locale, fen, text):
    assert i18n.format_money(fen, locale) == text


@pytest.mark.parametrize("value", [12.5, 1234.0, "1234", True])
def test_format_money_refuses_anything_but_integer_fen(value):
    with pytest.raises(TypeError):
        i18n.format_money(value)


def test_format_date_per_locale():
    day = date(2026, 3, 5)
    zh, en = i18n.format_date(day, locale="zh_Hans"), i18n.format_date(day, locale="en")
    assert "2026年3月5日" in zh
    assert "Mar" in en and "2026" in en and "年" not in en
    assert i18n.format_date(None) == ""


def test_format_datetime_shows_shanghai_time():
    # 16:00 UTC is midnight of the next day in Shanghai (UTC+8), the platform's default time zone.
    late = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    zh = contextvars.Context().run(i18n.format_datetime, late, "medium", "zh_Hans")
    assert "2026年3月6日" in zh and "00:00" in zh
    en = contextvars.Context().run(i18n.format_datetime, late, "medium", "en")
    assert "Mar 6, 2026" in en and "12:00" in en
    # A date shown for a datetime is the Shanghai date too.
    assert "3月6日" in contextvars.Context().run(i18n.format_date, late, "medium", "zh_Hans")


def test_format_datetime_follows_the_current_time_zone():
    token = i18n.current_timezone.set("UTC")
    try:
        assert "16:00" in i18n.format_datetime(datetime(2026, 3, 5, 16, 0, tzinfo=UTC), locale="zh_Hans")
    finally:
        i18n.current_timezone.reset(token)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_format_datetime_says_what_babel_says_for_every_format(zone):
    # format_datetime joins a date and a time it formatted apart (and cached); the moments straddle
    # midnight, a new year, New York's change of clocks, and each minute's and second's edge.
    moments = [datetime(2026, 3, 8, 6, 59, 59, 999_999, tzinfo=UTC) + timedelta(seconds=s)
               for s in (0, 1, 59, 60, 61, 3_599, 3_601, 86_399)]
    moments += [datetime(2025, 12, 31, 15, 59, 30, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, 0, 1, tzinfo=UTC)]
    token = i18n.current_timezone.set(zone)
    try:
        for locale in i18n.LOCALES:
            for fmt in ("short", "medium", "long", "full"):
                for moment in moments + moments:  # the second time from the cache
                    expected = dates.format_datetime(moment, fmt, tzinfo=ZoneInfo(zone), locale=i18n.babel_locale(locale))
                    assert i18n.format_datetime(moment, fmt, locale) == expected, (moment, fmt, locale)
    finally:
        i18n.current_timezone.reset(token)
