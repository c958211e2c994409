"""Channel member records (POS, Tmall, WeChat, web) written from the hidden persons, each with
its channel's quirks and the noise that makes identity matching hard."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.chinese.divisions import admin_divisions, short_name
from omnicrm.chinese.names import GIVEN_CHARS, homophones
from omnicrm.contracts import CHANNELS

from .common import DAY_NS, rng_for, unique_ints
from .persons import pinyin_of

NICKNAMES = np.array(["小猫咪", "阳光", "Sunny", "快乐每一天", "静待花开", "Lucky", "追风少年",
                      "岁月静好", "Amy", "简单", "微笑", "一路向北", "花开半夏", "Tina", "Kevin",
                      "平安是福", "心想事成", "浅笑", "Lemon", "海阔天空", "A小太阳", "Coco",
                      "晴天", "木子", "风清扬", "Grace"])
ENGLISH_NAMES = {"M": np.array(["David", "Kevin", "Jason", "Eric", "Leo", "Tony", "Jack"]),
                 "F": np.array(["Vivian", "Amy", "Grace", "Cindy", "Lily", "Tina", "Coco"])}
FULLWIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")


def _pick(rng, kinds: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(kinds))
    p = np.array(list(kinds.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


# ---------------------------------------------------------------- names
def _homophone(name: str, rng) -> str:
    table = homophones()
    positions = [i for i in range(len(name) - 1, -1, -1) if name[i] in table]
    if not positions:
        return name
    i = positions[0] if rng.random() < 0.7 else positions[-1]
    alts = table[name[i]]
    return name[:i] + alts[rng.integers(0, len(alts))] + name[i + 1:]


def _typo(name: str, gender: str, rng) -> str:
    pool = GIVEN_CHARS[gender]
    i = len(name) - 1
    return name[:i] + pool[rng.integers(0, len(pool))]


def _traditional(names: pd.Series) -> pd.Series:
    import opencc

    conv = opencc.OpenCC("s2t")
    table = {u: conv.convert(u) for u in pd.unique(names)}
    return names.map(table)


def noisy_names(names: pd.Series, genders: np.ndarray, kinds: np.ndarray, rng
                ) -> tuple[pd.Series, np.ndarray]:
    """Apply the per-record name noise ``kinds`` (none, homophone, traditional, typo,
    missing). Returns the written names and the noise that really happened: a name with no
    traditional form, no sound-alike character or a typo that drew the same character is
    written as it is and labelled 'none', so the truth never promises a hard case that
    is not there."""
    out = names.astype(object).copy()
    for i in np.flatnonzero(kinds == "homophone"):
        out.iat[i] = _homophone(out.iat[i], rng)
    for i in np.flatnonzero(kinds == "typo"):
        out.iat[i] = _typo(out.iat[i], genders[i], rng)
    trad = kinds == "traditional"
    if trad.any():
        out[trad] = _traditional(out[trad]).to_numpy()
    out[kinds == "missing"] = None
    unchanged = np.isin(kinds, ["homophone", "typo", "traditional"]) \
        & (out.to_numpy() == names.to_numpy())
    return out, np.where(unchanged, "none", kinds)


def pinyin_names(names: pd.Series, kinds: np.ndarray) -> pd.Series:
    """Latin forms: 'Zhang Wei', 'Wei Zhang', 'ZHANG WEI', 'zhangwei'."""
    py = pinyin_of(names)
    sur, giv = py["surname_py"].str.capitalize(), py["given_py"].str.capitalize()
    forms = {
        "pinyin": sur + " " + giv,
        "pinyin_reversed": giv + " " + sur,
        "pinyin_upper": (sur + " " + giv).str.upper(),
        "pinyin_joined": (sur + giv).str.lower(),
    }
    out = pd.Series(None, index=names.index, dtype=object)
    for k, v in forms.items():
        m = kinds == k
        out[m] = v[m].to_numpy()
    return out


# ---------------------------------------------------------------- mobiles
def written_mobiles(mobiles: np.ndarray, forms: np.ndarray, rng) -> np.ndarray:
    """The many ways people write the same mobile."""
    m = pd.Series(mobiles, dtype=object)
    a, b, c = m.str[:3], m.str[3:7], m.str[7:]
    variants = {
        "spaced": a + " " + b + " " + c,
        "dashed": a + "-" + b + "-" + c,
        "plus86": "+86 " + m,
        "plus86_dashed": "+86 " + a + "-" + b + "-" + c,
        "86_dash": "86-" + m,
        "plus86_joined": "+86" + m,
        "fullwidth": m.str.translate(FULLWIDTH),
        "masked": a + "****" + c,
    }
    out = m.copy()
    for k, v in variants.items():
        sel = forms == k
        out[sel] = v[sel]
    typo = forms == "typo"
    if typo.any():
        pos = rng.integers(3, 11, typo.sum())
        digit = rng.integers(0, 10, typo.sum()).astype(str)
        vals = m[typo].to_numpy()
        out[typo] = [v[:p] + (d if d != v[p] else str((int(d) + 1) % 10)) + v[p + 1:]
                     for v, p, d in zip(vals, pos, digit, strict=True)]
    out[forms == "missing"] = None
    return out.to_numpy()


# ---------------------------------------------------------------- addresses
def _addr_free_text(p: pd.DataFrame, forms: np.ndarray) -> np.ndarray:
    prov, city, dist, street = p["province"], p["city"], p["district"], p["street_address"]
    muni = prov == city
    full_head = prov.where(muni, prov + city)
    sprov = prov.map(short_name)
    scity, sdist = city.map(short_name), dist.map(short_name)
    variants = {
        "none": full_head + dist + street,
        "no_province": city + dist + street,
        "abbreviated": scity.where(muni, sprov + scity) + sdist + street,
        "spaced": prov.where(muni, prov + " " + city) + " " + dist + " " + street,
        "city_only": scity + street,
    }
    out = variants["none"].copy()
    for k, v in variants.items():
        sel = forms == k
        out[sel] = v[sel]
    out[forms == "missing"] = None
    return out.to_numpy()


# ---------------------------------------------------------------- ID numbers
def written_ids(ids: np.ndarray, forms: np.ndarray, rng) -> np.ndarray:
    out = pd.Series(ids, dtype=object)
    for i in np.flatnonzero(forms == "transposed"):
        v = out.iat[i]
        j = int(rng.integers(6, 16))
        while v[j] == v[j + 1] and j > 6:
            j -= 1
        out.iat[i] = v[:j] + v[j + 1] + v[j] + v[j + 2:]
    for i in np.flatnonzero(forms == "typo"):
        v = out.iat[i]
        j = int(rng.integers(6, 17))
        out.iat[i] = v[:j] + str((int(v[j]) + 1 + int(rng.integers(0, 8))) % 10) + v[j + 1:]
    lower_x = forms == "lowercase_x"
    out[lower_x] = out[lower_x].str.lower()
    out[forms == "missing"] = None
    return out.to_numpy()


# ---------------------------------------------------------------- records
def membership(persons: pd.DataFrame, params: dict, end: pd.Timestamp) -> pd.DataFrame:
    """Which channels each person joined (at least one), when, and duplicate registrations."""
    rng = rng_for(params["seed"], "membership")
    n = len(persons)
    age = ((end - pd.to_datetime(persons["birth_date"])).dt.days / 365.25).to_numpy()
    young = np.clip((50 - age) / 30, 0, 1)  # 1 for 20-year-olds, 0 for 50+
    p = params["channel_join_p"]
    probs = {
        "pos": np.clip(p["pos"] * (1.3 - 0.6 * young), 0, 0.95),
        "tmall": np.clip(p["tmall"] * (0.6 + 0.8 * young), 0, 0.95),
        "wechat": np.full(n, p["wechat"]),
        "web": np.clip(p["web"] * (0.7 + 0.6 * young), 0, 0.95),
    }
    joined = np.column_stack([rng.random(n) < probs[c] for c in probs])
    none = ~joined.any(axis=1)
    first = rng.choice(4, size=n, p=np.array([p[c] for c in probs]) / sum(p.values()))
    joined[none, first[none]] = True
    pi, ci = np.nonzero(joined)
    recs = pd.DataFrame({"p": pi, "channel": np.array(list(probs))[ci]})
    dup = recs.sample(frac=params["duplicate_registration_share"], random_state=rng.integers(2**31))
    recs["duplicate_registration"] = False
    dup = dup.assign(duplicate_registration=True)
    recs = pd.concat([recs, dup], ignore_index=True)
    first_seen = pd.to_datetime(persons["first_seen"]).to_numpy()[recs["p"].to_numpy()]
    lag = rng.exponential(90, len(recs)) * (rng.random(len(recs)) < 0.6)
    lag = np.where(recs["duplicate_registration"], lag + rng.exponential(200, len(recs)), lag)
    # the person met the brand by registering somewhere: their earliest card is from that day
    first_lag = pd.Series(np.where(recs["duplicate_registration"], np.inf, lag)) \
        .groupby(recs["p"].to_numpy()).transform("min").to_numpy()
    lag = np.maximum(lag - np.where(np.isfinite(first_lag), first_lag, 0.0), 0.0)
    reg = first_seen + (lag * DAY_NS).astype("timedelta64[ns]")
    reg = np.minimum(reg, np.datetime64(end, "ns"))
    recs["registered_at"] = pd.Series(reg + (rng.integers(9 * 3600, 22 * 3600, len(recs))
                                             * 10**9).astype("timedelta64[ns]")).dt.floor("s")
    return recs


def make_records(persons: pd.DataFrame, stores: pd.DataFrame, params: dict,
                 end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """All four channels' member tables plus ``truth_records`` (record -> person, noise)."""
    rng = rng_for(params["seed"], "records")
    noise = params["noise"]
    recs = membership(persons, params, end)
    recs = recs.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(drop=True)
    P = persons.iloc[recs["p"].to_numpy()].reset_index(drop=True)
    n = len(recs)
    rank = P["household_rank"].to_numpy()
    hh_first = persons.reset_index(drop=True).reset_index().groupby("household_id")["index"]
    head = hh_first.transform("min").to_numpy()[recs["p"].to_numpy()]

    # Households that share one mobile: family members' cards carry the head's number.
    shared_hh = rng.random(len(persons)) < noise["family_shared_mobile_share"]
    shares = shared_hh[head] & (rank > 0) & (rng.random(n) < 0.8)
    own_mobile = P["mobile"].to_numpy()
    mobile_used = np.where(shares, persons["mobile"].to_numpy()[head], own_mobile)

    tables: dict[str, pd.DataFrame] = {}
    truth_parts = []
    for ch in CHANNELS:
        sel = np.flatnonzero(recs["channel"].to_numpy() == ch)
        if len(sel) == 0:
            continue
        sub, r = P.iloc[sel].reset_index(drop=True), recs.iloc[sel].reset_index(drop=True)
        m = len(sel)
        g = sub["gender"].to_numpy()
        ids = np.char.add(f"{ch.upper()}-", np.char.zfill(np.arange(1, m + 1).astype(str), 8))
        name_kind = _pick(rng, noise["name"][ch], m)
        mob_kind = _pick(rng, noise["mobile"][ch], m)
        mob_src = mobile_used[sel]
        mob_note = np.where(shares[sel] & (mob_kind != "missing"), "family_shared", mob_kind)
        id_kind = np.full(m, "missing")
        addr_kind = np.full(m, "missing")
        if ch == "pos":
            written_name, name_kind = noisy_names(sub["name"], g, name_kind, rng)
            id_kind = _pick(rng, noise["id_number"], m)
            addr_kind = _pick(rng, noise["address"]["pos"], m)
            bday = sub["birth_date"].where(rng.random(m) < noise["birthday_present"]["pos"])
            city_stores = stores.groupby("city")["store_id"].apply(np.array).to_dict()
            store = np.array([
                (lambda s: s[rng.integers(0, len(s))])(city_stores.get(c, stores["store_id"]
                                                                        .to_numpy()))
                for c in sub["city"]])
            df = pd.DataFrame({
                "record_id": ids,
                "member_card_no": np.char.add("8800", np.char.zfill(
                    unique_ints(rng, 10**9, m).astype(str), 9)),
                "name": written_name,
                "mobile": written_mobiles(mob_src, mob_kind, rng),
                "id_number": written_ids(sub["id_number"].to_numpy(), id_kind, rng),
                "gender": np.where(rng.random(m) < 0.95, g, None),
                "birthday": bday,
                "address": _addr_free_text(sub, addr_kind),
                "store_id": store,
                "registered_at": r["registered_at"],
            })
        elif ch == "tmall":
            addr_kind = _pick(rng, noise["address"]["tmall"], m)
            other = addr_kind == "other_address"
            div = admin_divisions()
            alt = div.iloc[rng.integers(0, len(div), m)].reset_index(drop=True)
            prov = sub["province"].where(~other, alt["province"])
            city = sub["city"].where(~other, alt["city"])
            dist = sub["district"].where(~other, alt["district"])
            street = sub["street_address"].where(
                ~other, pd.Series(np.char.add("创业路", rng.integers(1, 300, m).astype(str)))
                + "号办公楼")
            abbreviated = addr_kind == "abbreviated"
            written_name, name_kind = noisy_names(sub["name"], g, name_kind, rng)
            py = pinyin_of(sub["name"])
            df = pd.DataFrame({
                "record_id": ids,
                "buyer_nick": np.where(rng.random(m) < 0.5,
                                       np.char.add("tb", rng.integers(10**8, 10**10, m)
                                                   .astype(str)),
                                       (py["surname_py"] + py["given_py"]).to_numpy(dtype=str)
                                       + rng.integers(1, 999, m).astype(str)),
                "receiver_name": written_name,
                "receiver_mobile": written_mobiles(mob_src, mob_kind, rng),
                "receiver_province": prov.where(~abbreviated, prov.map(short_name)),
                "receiver_city": city.where(~abbreviated, city.map(short_name)),
                "receiver_district": dist,
                "receiver_address": street,
                "registered_at": r["registered_at"],
            })
        elif ch == "wechat":
            real = name_kind != "nickname"
            nick, real_kind = noisy_names(sub["name"], g, np.where(real, name_kind, "none"), rng)
            name_kind = np.where(real, real_kind, name_kind)
            nick[~real] = NICKNAMES[rng.integers(0, len(NICKNAMES), (~real).sum())]
            py = pinyin_of(sub["name"])
            pyn = name_kind == "pinyin"
            nick[pyn] = (py["given_py"].str.capitalize() + " " + py["surname_py"]
                         .str.capitalize())[pyn].to_numpy()
            region = rng.random(m)
            english = region < 0.15
            prov = sub["province"].map(short_name).where(region < 0.75)
            city = sub["city"].map(short_name).where(region < 0.75)
            prov_en = pinyin_of(prov.fillna("")).sum(axis=1).str.capitalize()
            city_en = pinyin_of(city.fillna("")).sum(axis=1).str.capitalize()
            unionid_person = _random_tokens(len(persons), rng, "u")
            has_union = rng.random(m) < 0.9
            gender = np.where(rng.random(m) < 0.85, g, None)
            flip = rng.random(m) < 0.02
            gender = np.where(flip & (gender != None), np.where(g == "M", "F", "M"), gender)  # noqa: E711
            df = pd.DataFrame({
                "record_id": ids,
                "openid": _random_tokens(m, rng, "o"),
                "unionid": np.where(has_union, unionid_person[r["p"].to_numpy()], None),
                "nickname": nick,
                "gender": gender,
                "province": prov.where(~english, prov_en),
                "city": city.where(~english, city_en),
                "mobile": written_mobiles(mob_src, mob_kind, rng),
                "registered_at": r["registered_at"],
            })
        else:  # web
            latin = np.isin(name_kind, ["pinyin", "pinyin_reversed", "pinyin_upper",
                                        "pinyin_joined"])
            hanzi_kind = np.where(latin | (name_kind == "english"), "none", name_kind)
            name, hanzi_kind = noisy_names(sub["name"], g, hanzi_kind, rng)
            name_kind = np.where(latin | (name_kind == "english"), name_kind, hanzi_kind)
            name[latin] = pinyin_names(sub["name"], name_kind)[latin].to_numpy()
            eng = name_kind == "english"
            if eng.any():
                py = pinyin_of(sub["name"][eng])
                first = np.where(g[eng] == "M", ENGLISH_NAMES["M"][rng.integers(0, 7, eng.sum())],
                                 ENGLISH_NAMES["F"][rng.integers(0, 7, eng.sum())])
                name[eng] = (pd.Series(first, index=py.index) + " "
                             + py["surname_py"].str.capitalize()).to_numpy()
            email = sub["email"].where(rng.random(m) < noise["email_present"])
            shout = rng.random(m) < 0.05
            email = email.where(~shout, " " + email.str.upper() + " ")
            df = pd.DataFrame({
                "record_id": ids,
                "account_id": np.char.add("U", unique_ints(rng, 10**9, m).astype(str)),
                "name": name,
                "email": email,
                "mobile": written_mobiles(mob_src, mob_kind, rng),
                "birthday": sub["birth_date"].where(rng.random(m) <
                                                    noise["birthday_present"]["web"]),
                "registered_at": r["registered_at"],
            })
        tables[f"{ch}_members"] = df
        truth_parts.append(pd.DataFrame({
            "channel": ch,
            "record_id": ids,
            "person_id": sub["person_id"].to_numpy(),
            "duplicate_registration": r["duplicate_registration"].to_numpy(),
            "name_noise": name_kind,
            "mobile_noise": mob_note,
            "id_noise": id_kind,
            "address_noise": addr_kind,
        }))
    tables["truth_records"] = pd.concat(truth_parts, ignore_index=True)
    return tables


def _random_tokens(n: int, rng, prefix: str) -> np.ndarray:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))
    codes = alphabet[rng.integers(0, len(alphabet), (n, 27))]
    return np.char.add(prefix, codes.view("<U27").ravel())
