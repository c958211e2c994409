"""The cleansing engine: turn the ways people write mobiles, names, ID numbers, addresses and
emails into comparable standard values. Each function works on a pandas Series, computes every
distinct value once, and returns the standard columns plus a ``*_status`` column (missing,
valid, repaired, masked, invalid) that the data-quality table counts."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from .divisions import admin_divisions, short_name
from .names import COMPOUND_SURNAMES, SURNAME_FREQ
from .resident_id import is_valid as id_is_valid

MISSING, VALID, REPAIRED, MASKED, INVALID = "missing", "valid", "repaired", "masked", "invalid"
_MASKED = re.compile(r"^(1\d{2})\*{4}(\d{4})$")
_EMAIL = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}$")
_HAN = re.compile(r"^[\u4e00-\u9fff\u3400-\u4dbf]+$")
_LATIN = re.compile(r"^[a-z][a-z .'\-]*$")


def _per_unique(series: pd.Series, fn, columns: list[str]) -> pd.DataFrame:
    """Apply ``fn(value) -> tuple`` once per distinct non-null value."""
    s = series.astype(object).where(series.notna(), None)
    uniq = pd.unique(s.dropna())
    table = {v: fn(v) for v in uniq}
    empty = fn(None)
    rows = [table.get(v, empty) if v is not None else empty for v in s]
    return pd.DataFrame(rows, columns=columns, index=series.index)


def _clean_text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


# ---------------------------------------------------------------- mobiles
def _mobile(value) -> tuple:
    text = _clean_text(value)
    if text is None:
        return None, None, None, False, MISSING
    m = _MASKED.match(text.replace(" ", ""))
    if m:
        return None, m.group(1), m.group(2), True, MASKED
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not (digits.isdigit() and len(digits) == 11 and _valid_cn_mobile(digits)):
        return None, None, None, False, INVALID
    status = VALID if text == digits else REPAIRED
    return digits, digits[:3], digits[7:], False, status


@cache
def _valid_prefix(prefix: str) -> bool:
    import phonenumbers

    probe = phonenumbers.parse(prefix + "00000000", "CN")
    return phonenumbers.is_valid_number(probe)


def _valid_cn_mobile(digits: str) -> bool:
    # phonenumbers' validity for CN mobiles is decided by the operator prefix
    return digits[0] == "1" and _valid_prefix(digits[:3])


def standardise_mobile(series: pd.Series) -> pd.DataFrame:
    """mobile (11 digits or null), mobile_prefix, mobile_suffix (also kept for masked
    '138****5678' values: partial evidence, never equal to a full number), mobile_masked,
    mobile_status."""
    return _per_unique(series, _mobile, ["mobile", "mobile_prefix", "mobile_suffix",
                                         "mobile_masked", "mobile_status"])


# ---------------------------------------------------------------- resident IDs
def _resident_id(value) -> tuple:
    text = _clean_text(value)
    if text is None:
        return None, None, False, None, None, None, MISSING
    norm = re.sub(r"\s", "", text).upper()
    if len(norm) != 18 or not norm[:17].isdigit():
        return None, norm, False, None, None, None, INVALID
    if not id_is_valid(norm):
        return None, norm, False, None, None, None, INVALID
    try:
        birth = pd.Timestamp(f"{norm[6:10]}-{norm[10:12]}-{norm[12:14]}")
    except ValueError:
        return None, norm, False, None, None, None, INVALID
    gender = "M" if int(norm[16]) % 2 else "F"
    return norm, norm, True, birth, gender, norm[:6], (VALID if norm == text else REPAIRED)


def standardise_id_number(series: pd.Series) -> pd.DataFrame:
    """id_number (valid only), id_raw (normalised even when invalid: kept, flagged, and still
    comparable for near-misses), id_valid, id_birth_date, id_gender, id_region, id_status."""
    out = _per_unique(series, _resident_id, ["id_number", "id_raw", "id_valid", "id_birth_date",
                                             "id_gender", "id_region", "id_status"])
    out["id_birth_date"] = pd.to_datetime(out["id_birth_date"])
    return out


# ---------------------------------------------------------------- names
@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (from pypinyin's dictionary)."""
    from pypinyin.constants import PINYIN_DICT
    from pypinyin.contrib.tone_convert import to_normal

    out = set()
    for readings in PINYIN_DICT.values():
        for r in readings.split(","):
            out.add(to_normal(r).replace("ü", "v"))
    return frozenset(s for s in out if s.isalpha())


def split_pinyin(text: str) -> list[str] | None:
    """'zhangxiuying' -> ['zhang', 'xiu', 'ying'] (fewest syllables), or None."""
    syl = pinyin_syllables()
    n = len(text)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(min(n, i + 6), i, -1):
            piece = text[i:j]
            if piece in syl and (best[j] is None or len(best[j]) > len(best[i]) + 1):
                best[j] = best[i] + [piece]
    return best[n]


@lru_cache(maxsize=200_000)
def _char_pinyin(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL)[0].replace("ü", "v")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _name(value) -> tuple:
    """-> name_hanzi, surname_py, given_py, name_py, name_key, name_status"""
    text = _clean_text(value)
    if text is None:
        return None, None, None, None, None, MISSING
    text = re.sub(r"\s+", " ", text)
    compact = text.replace(" ", "").replace("·", "")
    if _HAN.match(compact):
        simp = _t2s().convert(compact)
        if len(simp) < 2 or len(simp) > 5:
            return None, None, None, None, None, INVALID
        sur = simp[:2] if len(simp) >= 3 and simp[:2] in COMPOUND_SURNAMES else simp[:1]
        given = simp[len(sur):]
        sur_py = "".join(_char_pinyin(c) for c in sur)
        giv_py = "".join(_char_pinyin(c) for c in given)
        key = " ".join(sorted([sur_py, giv_py]))
        status = VALID if simp == text else REPAIRED
        return simp, sur_py, giv_py, f"{sur_py} {giv_py}", key, status
    low = text.lower()
    if not _LATIN.match(low):
        return None, None, None, None, None, INVALID
    tokens = [t for t in re.split(r"[ .\-']+", low) if t]
    if len(tokens) == 1:
        parts = split_pinyin(tokens[0])
        if not parts or len(parts) < 2:
            return None, None, None, None, None, INVALID
        # a joined pinyin name is written surname first ('zhangwei')
        sur_len = 2 if len(parts) >= 3 and "".join(parts[:2]) in _compound_py() else 1
        sur_py, giv_py = "".join(parts[:sur_len]), "".join(parts[sur_len:])
    else:
        # 'Zhang Wei' or 'Wei Zhang' or 'Vivian Wang': the surname is whichever token is a
        # known surname's pinyin, preferring the first
        known = _surname_py()
        first_is = tokens[0] in known
        last_is = tokens[-1] in known
        if first_is and (not last_is or text.split()[0].isupper() or not text.split()[-1]
                         .isupper()):
            sur_py, giv_py = tokens[0], "".join(tokens[1:])
        elif last_is:
            sur_py, giv_py = tokens[-1], "".join(tokens[:-1])
        else:
            sur_py, giv_py = tokens[0], "".join(tokens[1:])
    key = " ".join(sorted([sur_py, giv_py]))
    return None, sur_py, giv_py, f"{sur_py} {giv_py}", key, REPAIRED


@lru_cache(maxsize=1)
def _surname_py() -> frozenset[str]:
    return frozenset("".join(_char_pinyin(c) for c in s) for s in SURNAME_FREQ)


@lru_cache(maxsize=1)
def _compound_py() -> frozenset[str]:
    return frozenset("".join(_char_pinyin(c) for c in s) for s in COMPOUND_SURNAMES)


def standardise_name(series: pd.Series) -> pd.DataFrame:
    """name_hanzi (simplified), surname_py, given_py, name_py ('zhang wei', surname first),
    name_key (syllable groups sorted: equal for 'Zhang Wei' and 'Wei Zhang'), name_status."""
    return _per_unique(series, _name, ["name_hanzi", "surname_py", "given_py", "name_py",
                                       "name_key", "name_status"])


def looks_like_person_name(series: pd.Series) -> pd.Series:
    """For nicknames: 2-4 hanzi starting with a known surname, or a two-part Latin name whose
    parts are pinyin. '阳光' and 'Sunny' are not names; '張偉' and 'Wei Zhang' are."""
    surnames = set(SURNAME_FREQ)
    known_py = _surname_py()

    def check(v) -> bool:
        text = _clean_text(v)
        if text is None:
            return False
        compact = text.replace(" ", "")
        if _HAN.match(compact):
            simp = _t2s().convert(compact)
            return 2 <= len(simp) <= 4 and (simp[:1] in surnames or simp[:2] in surnames)
        tokens = text.lower().split()
        return (len(tokens) == 2 and any(t in known_py for t in tokens)
                and all(split_pinyin(t) for t in tokens))

    uniq = {v: check(v) for v in pd.unique(series.dropna())}
    return series.map(uniq).fillna(False).astype(bool)


# ---------------------------------------------------------------- addresses
@lru_cache(maxsize=1)
def _division_aliases():
    """alias -> (level, canonical) for provinces, cities and districts, incl. short names and
    pinyin of short names ('上海市', '上海', 'Shanghai')."""
    div = admin_divisions()
    prov, city, dist = {}, {}, {}
    for r in div.itertuples(index=False):
        for name, table, canon in ((r.province, prov, r.province), (r.city, city, r.city)):
            s = short_name(name)
            for alias in {name, s, "".join(_char_pinyin(c) for c in s)}:
                table.setdefault(alias.lower(), canon)
        s = short_name(r.district)
        for alias in {r.district, s}:
            dist.setdefault((r.city, alias), r.district)
    city_province = dict(zip(div["city"], div["province"], strict=True))
    return prov, city, dist, city_province


def _match_prefix(text: str, aliases: dict) -> tuple[str | None, str]:
    for alias in sorted((a for a in aliases if text.startswith(a)), key=len, reverse=True):
        return aliases[alias], text[len(alias):]
    return None, text


def _region(province, city, district) -> tuple:
    prov_a, city_a, dist_a, city_prov = _division_aliases()
    p = _clean_text(province)
    c = _clean_text(city)
    d = _clean_text(district)
    p_std = _fuzzy(p, prov_a) if p else None
    c_std = _fuzzy(c, city_a) if c else None
    if c_std and not p_std:
        p_std = city_prov.get(c_std)
    d_std = None
    if d and c_std:
        d_std = dist_a.get((c_std, d)) or dist_a.get((c_std, short_name(d)))
    return p_std, c_std, d_std


def _fuzzy(text: str, aliases: dict) -> str | None:
    key = text.lower().replace(" ", "")
    if key in aliases:
        return aliases[key]
    from rapidfuzz import fuzz, process

    hit = process.extractOne(key, list(aliases), scorer=fuzz.ratio, score_cutoff=80)
    return aliases[hit[0]] if hit else None


def _free_address(value) -> tuple:
    """'广东省广州市天河区中山路12号' / '广州天河中山路12号' / '上海 浦东新区 ...'
    -> province, city, district, detail, status."""
    text = _clean_text(value)
    if text is None:
        return None, None, None, None, MISSING
    prov_a, city_a, dist_a, city_prov = _division_aliases()
    rest = text.replace(" ", "")
    province, rest = _match_prefix(rest, prov_a)
    city, rest2 = _match_prefix(rest, city_a)
    if city is None and province is not None:
        # municipalities: '上海市浦东新区' names the province and the city at once
        same = [c for c, p in city_prov.items() if p == province and c == province]
        city = same[0] if same else None
        rest2 = rest
    rest = rest2
    if province is None and city is not None:
        province = city_prov.get(city)
    district = None
    if city is not None:
        cands = {alias: d for (c, alias), d in dist_a.items() if c == city}
        district, rest = _match_prefix(rest, cands)
    detail = rest or None
    if province is None and city is None:
        return None, None, None, detail, INVALID
    full = (province or "") + ("" if city == province else city or "") + (district or "")
    status = VALID if text.replace(" ", "") == full + (detail or "") else REPAIRED
    return province, city, district, detail, status


def standardise_address(free_text: pd.Series | None = None, province: pd.Series | None = None,
                        city: pd.Series | None = None, district: pd.Series | None = None,
                        detail: pd.Series | None = None, index=None) -> pd.DataFrame:
    """province, city, district (canonical names from the division table), address_detail,
    address_status, from a free-text address or from separate fields."""
    cols = ["province", "city", "district", "address_detail", "address_status"]
    if free_text is not None:
        return _per_unique(free_text, _free_address, cols)
    n = len(index) if index is not None else 0
    none = pd.Series([None] * n, index=index, dtype=object)
    p, c, d = (x if x is not None else none for x in (province, city, district))
    key = pd.Series(list(zip(p.astype(object), c.astype(object), d.astype(object),
                             strict=True)), index=index)
    uniq = {k: _region(*k) for k in pd.unique(key)}
    reg = pd.DataFrame([uniq[k] for k in key], columns=cols[:3], index=index)
    det = detail.map(_clean_text) if detail is not None else none
    reg["address_detail"] = det.str.replace(" ", "", regex=False) if detail is not None else det
    given = p.notna() | c.notna() | d.notna() | det.notna()
    reg["address_status"] = np.where(~given, MISSING,
                                     np.where(reg["province"].notna() | reg["city"].notna(),
                                              VALID, INVALID))
    changed = (p.astype(object) != reg["province"]) & p.notna() & reg["province"].notna()
    reg.loc[changed & (reg["address_status"] == VALID), "address_status"] = REPAIRED
    return reg


# ---------------------------------------------------------------- emails, genders, dates
def _email(value) -> tuple:
    text = _clean_text(value)
    if text is None:
        return None, MISSING
    low = text.lower().strip()
    if not _EMAIL.match(low):
        return None, INVALID
    return low, VALID if low == text else REPAIRED


def standardise_email(series: pd.Series) -> pd.DataFrame:
    return _per_unique(series, _email, ["email", "email_status"])


_GENDER = {"m": "M", "male": "M", "男": "M", "1": "M", "f": "F", "female": "F", "女": "F",
           "2": "F"}


def standardise_gender(series: pd.Series) -> pd.Series:
    return series.map(lambda v: _GENDER.get(str(_clean_text(v) or "").lower())).astype(object)


def standardise_date(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce", format="mixed").dt.normalize()
