"""Resident ID numbers (GB 11643-1999): the check digit, against hand-computed examples and
against every ID of the synthetic world, which must encode its person's district, birth date and
gender."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.chinese.resident_id import check_digit, check_digits, is_valid

# Hand-computed with the standard weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 and the map
# total mod 11 -> '10X98765432':
#   11010519491231002: 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167, 167 mod 11 = 2 -> 'X'
#   44052418800101001: 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195, mod 11 = 8 -> '4'
#   31010120000101001: 21+9+0+5+0+4+4+0+0+0+0+9+0+5+0+0+2 = 59,   mod 11 = 4 -> '8'
#   11010519491231007: 167 - 2*2 + 7*2 = 177,                      mod 11 = 1 -> '0'
#   11010519491231001: 167 - 2*2 + 1*2 = 165,                      mod 11 = 0 -> '1'
KNOWN_VALID = ["11010519491231002X", "440524188001010014", "310101200001010018",
               "110105194912310070", "110105194912310011"]


def reference_check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


@pytest.mark.parametrize("id_number", KNOWN_VALID)
def test_known_valid_ids(id_number):
    assert check_digit(id_number[:17]) == id_number[17]
    assert is_valid(id_number)
    assert check_digits(np.array([id_number[:17]])).tolist() == [id_number[17]]


def test_lowercase_x_is_accepted():
    assert is_valid("11010519491231002x")


@pytest.mark.parametrize("wrong", ["11010519491231002", "11010519491231002X1", "", "X" * 18,
                                   "1101051949123100AX", "A1010519491231002X",
                                   "11010519491231002Y", "110105 19491231002", None, 110105,
                                   "11010519491231002X\n"])
def test_malformed_ids_are_invalid(wrong):
    assert is_valid(wrong) is False


def test_every_other_check_character_is_rejected():
    for ok in KNOWN_VALID:
        others = set("0123456789X") - {ok[17]}
        assert not any(is_valid(ok[:17] + c) for c in others), ok


def test_one_wrong_digit_is_always_caught():
    ok = "11010519491231002X"
    for i in range(17):
        for d in "0123456789":
            if d != ok[i]:
                assert not is_valid(ok[:i] + d + ok[i + 1:]), (i, d)


def test_non_ascii_digits_do_not_crash_the_check():
    # str.isdigit() is True for superscripts, but int('²') raises
    assert is_valid("²1010519491231002X") is False


def test_vectorised_and_scalar_check_digits_agree_on_the_worlds_ids(world):
    ids = world["truth_persons"]["id_number"]
    typed = world["pos_members"]["id_number"].dropna()
    first17 = pd.concat([ids, typed]).str[:17]
    first17 = first17[first17.str.fullmatch(r"\d{17}")].to_numpy(dtype=str)
    assert len(first17) > len(ids)

    vec = check_digits(first17)

    assert vec.tolist() == [check_digit(f) for f in first17]
    assert vec.tolist() == [reference_check_digit(f) for f in first17]
    assert {"X", "0", "1"} <= set(vec.tolist())  # the rare characters are exercised too
    assert check_digits(np.array([], dtype=str)).tolist() == []


def test_every_person_has_a_valid_id_encoding_district_birth_date_and_gender(world):
    persons = world["truth_persons"]
    ids = persons["id_number"]
    assert ids.str.len().eq(18).all()
    assert ids.map(is_valid).all()
    assert ids.is_unique
    assert (ids.str[:6] == persons["division_code"]).all()
    assert (ids.str[6:14] == pd.to_datetime(persons["birth_date"]).dt.strftime("%Y%m%d")).all()
    male = ids.str[16].astype(int) % 2 == 1
    assert (male == (persons["gender"] == "M")).all()
