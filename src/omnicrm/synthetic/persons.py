"""Hidden persons: households, names, birth dates, addresses, mobiles, emails, resident IDs and
the latent traits that drive their shopping."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.chinese.divisions import admin_divisions
from omnicrm.chinese.names import COMMON_FULL_NAMES, GIVEN_CHARS, SURNAME_FREQ
from omnicrm.chinese.resident_id import check_digits

from .common import fmt_ids, rng_for, unique_ints

# Valid mainland mobile prefixes (China Mobile, Unicom, Telecom, virtual operators).
MOBILE_PREFIXES = np.array([
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
])
EMAIL_DOMAINS = np.array(["qq.com", "163.com", "126.com", "gmail.com", "sina.com", "outlook.com",
                          "foxmail.com", "hotmail.com"])
EMAIL_DOMAIN_P = np.array([0.38, 0.22, 0.1, 0.06, 0.06, 0.06, 0.07, 0.05])
STREETS = np.array(["人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "南京路", "新华路",
                    "胜利路", "文化路", "延安路", "淮海路", "学院路", "光明路", "青年路", "东风路",
                    "朝阳路", "花园路", "滨江路", "世纪大道"])
ESTATES = np.array(["阳光花园", "锦绣家园", "翠苑", "金色家园", "华府", "绿城小区", "幸福里",
                    "东方明珠苑", "万科城", "碧桂园", "融创府", "龙湖天街公寓"])
COLOURS = ("black", "white", "grey", "navy", "red", "beige", "green", "pink")


def _choose(rng, values, p, size):
    return np.asarray(values)[rng.choice(len(values), size=size, p=np.asarray(p) / np.sum(p))]


def households(n: int, size_p: list[float], rng) -> tuple[np.ndarray, np.ndarray]:
    """Household index and rank within household for n persons (rank 0 = head, 1 = spouse,
    2+ = child or parent)."""
    sizes = rng.choice(np.arange(1, len(size_p) + 1), size=n, p=np.asarray(size_p) / sum(size_p))
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    hh = np.repeat(np.arange(len(sizes)), sizes)[:n]
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    rank = np.arange(n) - np.repeat(starts, sizes)[:n]
    return hh, rank


def make_persons(params: dict, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Draw ``params['persons']`` people with everything a CRM could know about them, and
    everything it cannot (their latent traits)."""
    n = int(params["persons"])
    seed = int(params["seed"])
    rng = rng_for(seed, "persons")

    hh, rank = households(n, params["household_size_p"], rng)
    n_hh = hh.max() + 1
    head = np.r_[0, np.flatnonzero(np.diff(hh)) + 1][hh]  # index of each person's household head

    # --- gender and age: spouses of opposite gender, children ~28 years younger ---
    gender_head = rng.choice(np.array(["M", "F"]), size=n_hh)[hh]
    gender = np.where(rank == 1, np.where(gender_head == "M", "F", "M"),
                      np.where(rank == 0, gender_head, rng.choice(np.array(["M", "F"]), size=n)))
    age_head = np.clip(rng.gamma(9.0, 4.2, size=n_hh) + 5, 20, 75)[hh]
    age = np.where(rank == 0, age_head,
                   np.where(rank == 1, age_head + rng.normal(0, 3, n),
                            np.where(age_head > 50, age_head - 27 + rng.normal(0, 3, n),
                                     age_head + 27 + rng.normal(0, 3, n))))
    age = np.clip(age, 18, 85)
    birth = (end - pd.to_timedelta(age * 365.25, unit="D")).normalize()

    # --- names ---
    surnames = np.array(list(SURNAME_FREQ))
    sur = _choose(rng, surnames, list(SURNAME_FREQ.values()), n)
    sur = np.where(rank >= 2, sur[head], sur)  # children (and parents, by simplification)
    n_given = np.where(rng.random(n) < params["two_char_given_name_share"], 2, 1)
    given = np.empty(n, dtype=object)
    for g in ("M", "F"):
        pool = np.array(list(GIVEN_CHARS[g]))
        idx = np.flatnonzero(gender == g)
        c1 = pool[rng.integers(0, len(pool), len(idx))]
        c2 = pool[rng.integers(0, len(pool), len(idx))]
        given[idx] = np.where(n_given[idx] == 2, np.char.add(c1, c2), c1)
    name = np.char.add(sur.astype(str), given.astype(str))
    # The very common full names go to people who already carry their surname, so the
    # surname shares stay at the census values.
    common_pool = {g: pd.Series(COMMON_FULL_NAMES[g]) for g in ("M", "F")}
    with_common = np.isin(sur, [nm[0] for g in common_pool for nm in common_pool[g]])
    share_with = max(with_common.mean(), 1e-9)
    common = with_common & (rng.random(n) < min(params["common_name_share"] / share_with, 1.0))
    for g in ("M", "F"):
        for s in pd.unique(sur[common & (gender == g)]):
            pool = common_pool[g][common_pool[g].str[0] == s].to_numpy()
            idx = np.flatnonzero(common & (gender == g) & (sur == s))
            if len(pool):
                name[idx] = pool[rng.integers(0, len(pool), len(idx))]
    common_names = set(COMMON_FULL_NAMES["M"]) | set(COMMON_FULL_NAMES["F"])
    common = np.isin(name, list(common_names))

    # --- where they live: households share an address ---
    div = admin_divisions()
    weight = div["city_tier"].map({1: 3.0, 2: 2.0, 3: 1.0}).to_numpy()
    d_idx = rng.choice(len(div), size=n_hh, p=weight / weight.sum())[hh]
    street = np.char.add(np.char.add(STREETS[rng.integers(0, len(STREETS), n_hh)],
                                     rng.integers(1, 999, n_hh).astype(str)), "号")
    estate_form = rng.random(n_hh) < 0.5
    flat = np.char.add(np.char.add(rng.integers(1, 30, n_hh).astype(str), "栋"),
                       np.char.add(rng.integers(101, 2999, n_hh).astype(str), "室"))
    estate = np.char.add(ESTATES[rng.integers(0, len(ESTATES), n_hh)], flat)
    street_address = np.where(estate_form, np.char.add(street, estate), np.char.add(street, flat))
    street_address = street_address[hh]

    # --- mobiles (unique per person), emails, resident IDs ---
    mobile = np.char.add(MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)],
                         np.char.zfill(unique_ints(rng, 10**8, n).astype(str), 8))
    code = div["code"].to_numpy()[d_idx]
    seq = rng.integers(0, 500, n) * 2 + np.where(gender == "M", 1, 0)  # odd: male
    first17 = np.char.add(np.char.add(code.astype(str), birth.strftime("%Y%m%d").to_numpy()
                                      .astype(str)), np.char.zfill(seq.astype(str), 3))
    id_number = np.char.add(first17, check_digits(first17))

    # --- latent traits ---
    tiers = np.arange(6)
    tier = rng.choice(tiers, size=n, p=np.asarray(params["value_tier_share"]))
    # buying power runs in families a little
    tier = np.where((rank == 1) & (rng.random(n) < 0.5), tier[head], tier)
    lat = params["latent"]  # the segments oracle reads the same numbers
    shape = float(lat["rate_shape"])
    rate = np.asarray(params["purchases_per_year"])[tier] * rng.gamma(shape, 1 / shape, n)
    basket_mu = (np.log(np.asarray(params["basket_median"])[tier])
                 + rng.normal(0, lat["basket_person_sd"], n))
    basket_sigma = rng.uniform(*lat["basket_sigma"], n)
    price_sens = np.clip(rng.beta(*lat["sensitivity_beta"], n)
                         + lat["sensitivity_slope"] * (tier - 2.5), *lat["sensitivity_clip"])
    a, b = lat["dropout_scale"]
    dropout = np.clip(rng.beta(*lat["dropout_beta"], n) * (a + b * tier), *lat["dropout_clip"])
    topup_range = 0.10 + 0.30 * price_sens
    open_prob = rng.beta(2.0, 4.0, n)
    cats = list(params["categories"])
    pref = rng.dirichlet(np.full(len(cats), 0.6), size=n)
    first_seen_day = np.where(rng.random(n) < params["existing_base_share"],
                              rng.integers(0, 60, n),
                              rng.integers(0, max(1, (end - start).days - 7), n))

    persons = pd.DataFrame({
        "person_id": fmt_ids("P", n),
        "household_id": np.char.add("H", np.char.zfill(hh.astype(str), 7)),
        "name": name,
        "gender": gender,
        "birth_date": birth.to_numpy(),
        "province": div["province"].to_numpy()[d_idx],
        "city": div["city"].to_numpy()[d_idx],
        "district": div["district"].to_numpy()[d_idx],
        "division_code": code,
        "city_tier": div["city_tier"].to_numpy()[d_idx],
        "street_address": street_address,
        "mobile": mobile,
        "email": "",  # filled in below, needs pinyin
        "id_number": id_number,
        "common_name": common,
        "value_tier": tier,
        "price_sensitivity": price_sens,
        "purchase_rate": rate,
        "dropout_prob": dropout,
        "basket_mu": basket_mu,
        "basket_sigma": basket_sigma,
        "topup_range": topup_range,
        "open_prob": open_prob,
        "favourite_category": np.asarray(cats)[pref.argmax(axis=1)],
        "favourite_colour": np.asarray(COLOURS)[rng.integers(0, len(COLOURS), n)],
        "trend_chaser": rng.random(n) < lat["trend_chaser"][0] + lat["trend_chaser"][1] * tier,
        "first_seen": (start + pd.to_timedelta(first_seen_day, unit="D")).to_numpy(),
        "dropout_date": pd.NaT,
    })
    for i, c in enumerate(cats):
        persons[f"pref_{c}"] = pref[:, i]
    persons["household_rank"] = rank  # 0 head, 1 spouse, 2+ child or parent
    persons["email"] = _emails(persons, rng)
    return persons


def pinyin_of(names: pd.Series) -> pd.DataFrame:
    """Toneless pinyin of each name's surname and given name, via a per-character table
    (a few hundred distinct characters, so millions of names cost one dict lookup each)."""
    from pypinyin import Style, lazy_pinyin

    from omnicrm.chinese.names import COMPOUND_SURNAMES

    names = names.astype(str)
    compound = names.str[:2].isin(COMPOUND_SURNAMES) & (names.str.len() >= 3)
    sur = names.str[:1].where(~compound, names.str[:2])
    given = names.str[1:].where(~compound, names.str[2:])
    chars = set("".join(pd.unique(names)))
    table = {c: lazy_pinyin(c, style=Style.NORMAL)[0] for c in chars}

    def spell(s: pd.Series) -> pd.Series:
        out = pd.Series("", index=s.index)
        for k in range(int(s.str.len().max())):
            out = out + s.str[k].map(table).fillna("")
        return out

    return pd.DataFrame({"surname_py": spell(sur), "given_py": spell(given)})


def _emails(persons: pd.DataFrame, rng) -> np.ndarray:
    n = len(persons)
    py = pinyin_of(persons["name"])
    style = rng.integers(0, 4, n)
    digits = rng.integers(1, 9999, n).astype(str)
    birth_year = pd.to_datetime(persons["birth_date"]).dt.year.astype(str).to_numpy()
    local = np.select(
        [style == 0, style == 1, style == 2],
        [(py["given_py"] + "." + py["surname_py"]).to_numpy(dtype=str),
         np.char.add((py["surname_py"] + py["given_py"]).to_numpy(dtype=str), birth_year),
         np.char.add(py["surname_py"].str[:1].to_numpy(dtype=str) +
                     py["given_py"].to_numpy(dtype=str), digits)],
        default=np.char.add(rng.integers(10**5, 10**10, n).astype(str), ""),  # QQ number
    )
    domain = np.where(style == 3, "qq.com", _choose(rng, EMAIL_DOMAINS, EMAIL_DOMAIN_P, n))
    return _unique_addresses(pd.Series(local.astype(str)), pd.Series(domain.astype(str)))


def _unique_addresses(local: pd.Series, domain: pd.Series) -> np.ndarray:
    """local@domain, with a number after the local part of an address someone already has
    (bin.li@qq.com, bin.li2@qq.com ...), as a mail provider would: two people never share
    an address (the second 李斌 in a million would otherwise be linked to the first)."""
    email = local + "@" + domain
    suffix = pd.Series(1, index=email.index)
    while True:
        taken = email.duplicated(keep="first")
        if not taken.any():
            return email.to_numpy(dtype=object).astype(str)
        suffix[taken] += 1
        email[taken] = local[taken] + suffix[taken].astype(str) + "@" + domain[taken]
