"""Chinese names: compound surnames, sound-alike characters and pinyin forms."""

from __future__ import annotations

import pytest
from pypinyin import Style, lazy_pinyin

from omnicrm.chinese.names import (
    COMMON_FULL_NAMES,
    COMPOUND_SURNAMES,
    SURNAME_FREQ,
    homophones,
    pinyin_parts,
    split_name,
)


def toneless(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL))


@pytest.mark.parametrize("name,expected", [
    ("欧阳娜", ("欧阳", "娜")),
    ("司马光明", ("司马", "光明")),
    ("诸葛亮", ("诸葛", "亮")),
    ("张伟", ("张", "伟")),
    ("王秀英", ("王", "秀英")),
    ("欧娜", ("欧", "娜")),       # 欧 alone is a surname too
    ("欧阳", ("欧", "阳")),       # two characters: surname 欧, given name 阳
    (" 李娜 ", ("李", "娜")),
])
def test_split_name(name, expected):
    assert split_name(name) == expected


def test_compound_surnames_are_the_two_character_ones():
    assert {"欧阳", "司马", "上官", "诸葛", "司徒"} <= set(COMPOUND_SURNAMES)
    assert all(len(s) == 2 for s in COMPOUND_SURNAMES)
    assert "王" not in COMPOUND_SURNAMES


def test_homophones_of_zhang_include_its_sound_alikes():
    table = homophones()
    assert "章" in table["张"]
    assert {"彰", "樟"} <= set(table["张"])
    assert "张" in table["章"]


def test_every_homophone_sounds_the_same_and_is_a_different_character():
    table = homophones()
    assert len(table) > 100
    for char, alternatives in table.items():
        assert alternatives, char
        assert char not in alternatives
        for alt in alternatives:
            assert len(alt) == 1
            assert toneless(alt) == toneless(char), (char, alt)
            assert char in table[alt]  # the relation is symmetric


def test_common_names_have_homophones_to_draw_from():
    table = homophones()
    names = COMMON_FULL_NAMES["M"] + COMMON_FULL_NAMES["F"]
    assert all(any(c in table for c in n) for n in names)


@pytest.mark.parametrize("name,expected", [
    ("张秀英", ("Zhang", "Xiuying")),
    ("王伟", ("Wang", "Wei")),
    ("欧阳娜", ("Ouyang", "Na")),
    ("司马光明", ("Sima", "Guangming")),
])
def test_pinyin_parts(name, expected):
    assert pinyin_parts(name) == expected


def test_surname_table_is_led_by_wang_li_zhang():
    top = sorted(SURNAME_FREQ, key=SURNAME_FREQ.get, reverse=True)[:3]
    assert top == ["王", "李", "张"]
