"""The Chinese an English search also looks for: the words people write for it, most used first."""

import pytest

from market.core import glossary


def test_a_word_gives_its_common_chinese_words_most_used_first() -> None:
    assert glossary.chinese("elderly") == ("老人", "老年", "老年人", "高龄")
    assert glossary.chinese("  ELDERLY ") == glossary.chinese("elderly")


def test_a_rare_or_old_word_is_left_out() -> None:
    # CC-CEDICT gives 痡 and 伤残 for "disabled"; 痡 is not written any more.
    assert "伤残" in glossary.chinese("disabled") and "痡" not in glossary.chinese("disabled")


def test_an_inflected_word_is_looked_up_as_its_lemma() -> None:
    assert glossary.chinese("volunteers") == glossary.chinese("volunteer") and "志愿者" in glossary.chinese("volunteers")
    assert "孩子" in glossary.chinese("children")


def test_one_character_only_where_the_sense_has_no_longer_word() -> None:
    # 子 is a "child" too, and part of a great many words that are not.
    assert "子" not in glossary.chinese("child") and "儿童" in glossary.chinese("child")
    assert glossary.chinese("bathing") == ("澡", "浴")


@pytest.mark.parametrize("query", ["养老", "elderly 养老", "q", "100%", "one two three four", "", "Yangtze"])
def test_nothing_for_what_is_not_an_english_word_or_short_phrase_or_is_a_name(query: str) -> None:
    assert glossary.chinese(query) == ()


def test_a_british_spelling_is_looked_up_as_the_dictionary_spells_it() -> None:
    # CC-CEDICT writes American English; the product's English is British.
    assert "邻居" in glossary.chinese("neighbours") and "中心" in glossary.chinese("centre")


def test_words_that_only_join_others_are_left_out_unless_nothing_else_is_left() -> None:
    assert glossary.content("help for the elderly") == "help elderly"
    assert glossary.content("older people who live alone") == "older people who live alone"
    assert glossary.content("the") == "the" and glossary.content("养老 for") == "养老"
