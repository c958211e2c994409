"""Link standardised member records into persons: deterministic rules, a Splink
(Fellegi-Sunter, EM-trained) model over the Chinese-aware standard fields, and a constrained
clustering that refuses merges two valid ID numbers or two birth dates contradict."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

# Columns Splink sees (the rest of the standard table stays in pandas).
MODEL_COLUMNS = [
    "record_id", "source", "name_hanzi", "surname_py", "given_py", "name_py", "name_key",
    "mobile", "mobile_prefix", "mobile_suffix", "mobile_masked", "id_raw", "birth_date",
    "gender", "province", "city", "district", "address_detail", "email", "name_block",
    "mobile_shared",
]

# Settings: the ``identity`` section of conf/base/parameters_identity.yml
# (omnicrm.identity.settings). Why the fixed probabilities there:
# - m of name and gender are fixed from the cleansing engine's known error rates instead of EM:
#   pairs that share a family mobile and street address look like matches to EM, which then
#   learns that true matches often disagree on name and gender.
# - u of a masked mobile is fixed instead of random sampling: in a sample of random pairs the
#   few that share a mobile are mostly the same person's two records, so sampling overstates
#   how often strangers share one by orders of magnitude (and at a million records finds none
#   at all). A masked mobile's 3+4 visible digits agree by chance, about 1 in 40 prefixes x
#   10^4 suffixes, whatever the size of the data. null = sampled.
# - u of identifier levels (``fixed_u_per_record``) is the number of strangers a record shares
#   it with, divided by the records linked: a full mobile, ID or email is shared by a stranger
#   only through a family phone, a typo or a reused address, so the count per record stays put
#   while the pairs grow as n^2 (u = rate / n). A fixed per-pair u made a shared mobile ever
#   weaker evidence against a prior that falls as 1/n. The rates, and the worlds they were
#   measured on, are in docs/results.md (OneID).


@dataclass
class LinkResult:
    """Scored pairs (record_id_l, record_id_r, match_probability, match_weight, rule), the
    cluster of every record and the trained Splink model (settings JSON)."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame          # record_id, cluster, match_confidence
    model: dict
    linker: object | None = None


def _params(params) -> dict:
    """Settings as a plain dict: conf's ``identity`` section, or ``params`` (a full section,
    or a few keys to replace in conf's, see ``identity_settings``)."""
    from .settings import identity_settings

    return identity_settings(params).model_dump()


# ------------------------------------------------------------------ Splink settings
def splink_settings(params: dict | None = None) -> dict:
    """The Splink model: one comparison per standardised field, each level a piece of
    evidence a clerk would accept (same sound, masked mobile compatible, transposed ID...)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    p = _params(params)
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_hanzi", term_frequency_adjustments=True)
            .configure(label_for_charts="same characters"),
            cll.ExactMatchLevel("name_key", term_frequency_adjustments=True)
            .configure(label_for_charts="same pinyin (homophone, order, traditional)"),
            cll.And(cll.ExactMatchLevel("surname_py"), cll.JaroWinklerLevel("given_py", 0.88))
            .configure(label_for_charts="same surname, given name similar"),
            cll.ElseLevel(),
        ],
    )
    mobile = cl.CustomComparison(
        output_column_name="mobile",
        comparison_levels=[
            cll.CustomLevel("mobile_prefix_l IS NULL OR mobile_prefix_r IS NULL")
            .configure(is_null_level=True),
            cll.CustomLevel("mobile_l = mobile_r AND NOT mobile_shared_l",
                            label_for_charts="same mobile, one name uses it"),
            cll.CustomLevel("mobile_l = mobile_r",
                            label_for_charts="same mobile, several names (family phone)"),
            cll.CustomLevel("mobile_prefix_l = mobile_prefix_r AND mobile_suffix_l = "
                            "mobile_suffix_r AND (mobile_masked_l OR mobile_masked_r) "
                            "AND NOT mobile_shared_l AND NOT mobile_shared_r",
                            label_for_charts="masked mobile compatible, one name"),
            cll.CustomLevel("mobile_prefix_l = mobile_prefix_r AND mobile_suffix_l = "
                            "mobile_suffix_r AND (mobile_masked_l OR mobile_masked_r)",
                            label_for_charts="masked mobile compatible, several names"),
            cll.DamerauLevenshteinLevel("mobile", 1).configure(label_for_charts="one digit off"),
            cll.ElseLevel(),
        ],
    )
    id_number = cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.NullLevel("id_raw"),
            cll.ExactMatchLevel("id_raw").configure(label_for_charts="same ID number"),
            cll.DamerauLevenshteinLevel("id_raw", 2)
            .configure(label_for_charts="transposed / mistyped digits"),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.DamerauLevenshteinLevel("birth_date", 1).configure(
                label_for_charts="one digit off"),
            cll.ElseLevel(),
        ],
    )
    gender = cl.CustomComparison(
        output_column_name="gender",
        comparison_levels=[cll.NullLevel("gender"), cll.ExactMatchLevel("gender"),
                           cll.ElseLevel()],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel("city_l IS NULL OR city_r IS NULL").configure(is_null_level=True),
            cll.And(cll.ExactMatchLevel("district"), cll.ExactMatchLevel("address_detail"))
            .configure(label_for_charts="same street address"),
            cll.And(cll.ExactMatchLevel("district"),
                    cll.JaroWinklerLevel("address_detail", 0.85))
            .configure(label_for_charts="same district, similar street"),
            cll.ExactMatchLevel("district").configure(label_for_charts="same district"),
            cll.ExactMatchLevel("city").configure(label_for_charts="same city"),
            cll.ExactMatchLevel("province").configure(label_for_charts="same province"),
            cll.ElseLevel(),
        ],
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[cll.NullLevel("email"), cll.ExactMatchLevel("email"),
                           cll.ElseLevel()],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[name, mobile, id_number, birth, gender, address, email],
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in p["blocking"]],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        additional_columns_to_retain=["source"],
    )


def _db_api(engine: str):
    if engine == "spark":
        import tempfile

        from splink import SparkAPI

        from omnicrm.features.engine import spark_session

        spark = spark_session()
        # Splink breaks Spark's lineage by writing its big intermediate tables under the
        # checkpoint directory: use the cluster's if it has one, else a local scratch folder
        if spark.sparkContext._jsc.sc().getCheckpointDir().isEmpty():
            spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="omnicrm-splink-"))
        return SparkAPI(spark_session=spark)
    from splink import DuckDBAPI

    return DuckDBAPI()


def model_for_engine(model: dict, params: dict) -> dict:
    """A saved Splink model for ``params['engine']``'s SQL: our comparisons written in that
    dialect with the saved model's trained numbers (a model trained on DuckDB quotes its
    columns "so" and calls jaro_winkler_similarity; Spark reads the first as strings and
    knows the second as jaro_winkler)."""
    target = "spark" if params["engine"] == "spark" else "duckdb"
    if model.get("sql_dialect", "duckdb") == target:
        return model
    fresh = splink_settings(params).create_settings_dict(target)
    saved = {c["output_column_name"]: c["comparison_levels"] for c in model["comparisons"]}
    for comparison in fresh["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        if name not in saved or len(saved[name]) != len(levels):
            raise ValueError(f"the saved OneID model's '{name}' comparison does not match "
                             "this version's: re-train it (kedro run --pipeline identity)")
        for level, trained in zip(levels, saved[name], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in trained:
                    level[key] = trained[key]
    fresh["probability_two_random_records_match"] = model[
        "probability_two_random_records_match"]
    return fresh


def model_frame(std: pd.DataFrame, rare_name_max: int = 30) -> pd.DataFrame:
    """The standard table as Splink wants it: strings, dates as ISO text, no NaN, plus
    ``name_block``: the name sound where it is rare enough to block on alone (a rare name is
    evidence even without a shared city; 张伟 is not)."""
    std = std.assign(name_block=std["name_key"].where(
        std.groupby("name_key")["record_id"].transform("size") <= rare_name_max))
    # a mobile (or masked mobile's visible digits) that records with different names carry
    # is a family phone: weaker evidence than a number only one name uses (a typo'd or
    # reordered name is the same name: 廖轩宁 / 廖轩国)
    phone = std["mobile_prefix"] + "*" + std["mobile_suffix"]
    by_phone = std.groupby(phone)
    several = by_phone["name_key"].nunique()
    several = several[several > 1].index
    named = std[phone.isin(several) & std["surname_py"].notna() & std["given_py"].notna()]
    names = pd.Series(list(zip(named["surname_py"], named["given_py"], strict=True)),
                      index=named.index)
    names = names.groupby(phone[named.index]).agg(set)
    shared = pd.Series(False, index=by_phone.size().index)
    if len(names):
        shared[names.index] = [not _one_name(n) for n in names]
    # ... and so is one that a man's and a woman's record carry, or two ID numbers or birth
    # dates: the nameless WeChat follower on mum's number is not mum
    for col in ("gender", "id_number", "birth_date"):
        shared |= by_phone[col].nunique() > 1
    std["mobile_shared"] = phone.map(shared).fillna(False).to_numpy(dtype=bool)
    df = std[MODEL_COLUMNS].copy()
    df["birth_date"] = pd.to_datetime(df["birth_date"]).dt.strftime("%Y-%m-%d")
    df["mobile_masked"] = df["mobile_masked"].fillna(False).astype(bool)
    for c in df.columns:
        if c not in ("mobile_masked", "mobile_shared"):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def name_frequencies(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """How often a stranger carries each name: the term-frequency tables (``tf_name_key``,
    ``tf_name_hanzi``) Splink uses for the name levels instead of counting the input.

    A plain count overstates a rare name's frequency by counting the person's own records
    (洪勇帅 twice in 20,000 records is almost surely one man, not 2 in 20,000 people), so
    the frequency is the count less one record per channel the name occurs in, floored by
    what the name's parts predict: share of its surname x share of its given name (both
    estimated from thousands of independent people). 张伟 keeps its high count; a rare
    name's weight grows with the rarity of its parts and shrinks as the data grows."""
    named = frame.dropna(subset=["name_key", "surname_py", "given_py"])
    n = max(len(named), 1)
    p_surname = named["surname_py"].value_counts() / n
    p_given = named["given_py"].value_counts() / n
    per_name = named.groupby("name_key").agg(
        records=("record_id", "size"), sources=("source", "nunique"),
        surname=("surname_py", "first"), given=("given_py", "first"))
    parts = (p_surname.reindex(per_name["surname"]).to_numpy()
             * p_given.reindex(per_name["given"]).to_numpy())
    others = (per_name["records"] - per_name["sources"]).to_numpy() / n
    tf_key = pd.DataFrame({"name_key": per_name.index,
                           "tf_name_key": np.maximum(parts, others)})
    hanzi = named.dropna(subset=["name_hanzi"]).drop_duplicates("name_hanzi")
    tf_hanzi = hanzi[["name_hanzi", "name_key"]].merge(tf_key, on="name_key")
    tf_hanzi = tf_hanzi.rename(columns={"tf_name_key": "tf_name_hanzi"})
    return {"name_key": tf_key, "name_hanzi": tf_hanzi[["name_hanzi", "tf_name_hanzi"]]}


def _register(db_api, frame: pd.DataFrame) -> tuple:
    """The model frame and its name frequencies, registered with the Splink backend."""
    records = db_api.register(frame, dataset_display_name="records")
    tf = {col: db_api.register(table, dataset_display_name=f"tf_{col}")
          for col, table in name_frequencies(frame).items()}
    return records, tf


def _linker(registered: tuple, settings: dict):
    """A Splink linker over the registered records that uses our name frequencies."""
    from splink import Linker

    records, tf = registered
    linker = Linker(records, settings)
    for col, table in tf.items():
        linker.table_management.register_term_frequency_lookup(table, col)
    return linker


# ------------------------------------------------------------------ deterministic rules
def _pairs_on(std: pd.DataFrame, keys: list[str], rule: str, extra=None) -> pd.DataFrame:
    sub = std.dropna(subset=keys)
    if extra is not None:
        sub = sub[extra(sub)]
    groups = sub.groupby(keys, sort=False)["record_id"]
    first = groups.transform("first")
    pairs = pd.DataFrame({"record_id_l": first, "record_id_r": sub["record_id"]})
    pairs = pairs[pairs["record_id_l"] != pairs["record_id_r"]]
    return pairs.assign(rule=rule)


IDENTITY_RULES = ("same valid ID", "same unionid")


def deterministic_pairs(std: pd.DataFrame) -> pd.DataFrame:
    """Pairs no probabilistic evidence is needed for: the same valid resident ID, the same
    WeChat unionid, the same full mobile with the same name sound, the same email with the
    same name sound. A shared family mobile alone never links (the names differ)."""
    parts = [
        _pairs_on(std, ["id_number"], "same valid ID"),
        _pairs_on(std, ["unionid"], "same unionid"),
        _pairs_on(std, ["mobile", "name_key"], "same mobile and name"),
        _pairs_on(std, ["email", "name_key"], "same email and name"),
    ]
    pairs = pd.concat(parts, ignore_index=True)
    pairs["match_probability"] = 1.0
    pairs["match_weight"] = np.inf
    return pairs


# ------------------------------------------------------------------ constrained clustering
@lru_cache(maxsize=100_000)
def _syllables(given_py: str) -> tuple[str, ...] | None:
    """'xuanning' -> ('xuan', 'ning'); None for a given name that is not pinyin ('eric')."""
    from omnicrm.chinese.standardise import split_pinyin

    parts = split_pinyin(given_py)
    return tuple(parts) if parts else None


def _one_name(names: set) -> bool:
    """Every two of these (surname, given) pinyin names can be one person's."""
    names = list(names)
    return all(names_compatible({a}, {b}) for i, a in enumerate(names) for b in names[i + 1:])


def names_compatible(a: set, b: set) -> bool:
    """Two clusters' names can be one person's: some pair of (surname, given) pinyin agrees
    in sound (either order), or shares the surname with a given name that is similar, one
    character of two off (a clerk's typo: 廖轩宁 / 廖轩国) or a Latin first name (Eric
    Zhang)."""
    from rapidfuzz.distance import JaroWinkler

    for sa, ga in a:
        for sb, gb in b:
            if {sa, ga} == {sb, gb}:
                return True
            if sa != sb:
                continue
            if JaroWinkler.similarity(ga, gb) >= 0.88:
                return True
            pa, pb = _syllables(ga), _syllables(gb)
            if pa is None or pb is None:
                return True
            # one of two or more characters: a single-character given name that changed
            # is another person (王强 / 王磊, father and son on one phone)
            if len(pa) == len(pb) >= 2 and sum(x != y for x, y in zip(pa, pb, strict=True)) == 1:
                return True
    return False


def constrained_clusters(record_ids: pd.Series, std: pd.DataFrame, pairs: pd.DataFrame,
                         threshold: float, frozen: pd.Series | None = None,
                         nameless_threshold: float | None = None) -> pd.DataFrame:
    """Greedy agglomeration over pairs from the most to the least certain: a pair joins two
    clusters unless that would put two different valid ID numbers, two different birth
    dates or two unrelated names in one person. So a chain through a shared family mobile
    (the nameless WeChat follower on dad's number) or a common name cannot merge a father
    with his son, or two different 张伟. A pair of one valid ID or unionid skips the name
    check (a typo'd name on the card is still the card holder).

    ``frozen`` (record_id -> person_id) seeds the clusters of an existing index; two of them
    are never merged (incremental mode).

    ``nameless_threshold``: a scored pair in which one record carries no name needs at least
    this probability (and ``threshold``). The model treats a missing name as no evidence, but
    a nameless record on a family phone is as often the spouse as the card holder: the name
    is what would have told them apart.

    Returns record_id, cluster (the smallest record id of the cluster) and match_confidence:
    the strongest accepted link of the record, or for a record left alone one minus its
    strongest candidate link."""
    ids = record_ids.astype(str).to_numpy()
    index = {r: i for i, r in enumerate(ids)}
    n = len(ids)
    parent = np.arange(n)
    by_id = std.set_index("record_id")
    valid_id = by_id["id_number"].reindex(ids).to_numpy(dtype=object)
    birth = pd.to_datetime(by_id["birth_date"].reindex(ids)).to_numpy()
    name = by_id[["surname_py", "given_py"]].reindex(ids).to_numpy(dtype=object)
    ids_of: dict[int, set] = {}
    births_of: dict[int, set] = {}
    names_of: dict[int, set] = {}
    named = np.array([isinstance(a, str) and isinstance(b, str) for a, b in name], dtype=bool)
    for i in range(n):
        if isinstance(valid_id[i], str):
            ids_of[i] = {valid_id[i]}
        if not pd.isna(birth[i]):
            births_of[i] = {birth[i]}
        if named[i]:
            names_of[i] = {(name[i][0], name[i][1])}

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    is_frozen = np.zeros(n, dtype=bool)
    if frozen is not None and len(frozen):
        f = frozen.reindex(ids)
        for _, members in pd.Series(np.arange(n))[f.notna().to_numpy()].groupby(
                f.dropna().to_numpy()):
            m = members.to_numpy()
            parent[m] = m.min()
            is_frozen[m.min()] = True
            for i in m[1:]:
                for store in (ids_of, births_of, names_of):
                    if i in store:
                        store[m.min()] = store.get(m.min(), set()) | store.pop(i)
    strongest = np.zeros(n)
    candidate = np.zeros(n)
    usable = pairs[pairs["match_probability"] >= 0]
    # most certain first; ties (pairs with the same evidence) in record-id order, so the
    # clustering does not depend on the order the backend returned the pairs in
    lo = np.minimum(usable["record_id_l"].astype(str), usable["record_id_r"].astype(str))
    hi = np.maximum(usable["record_id_l"].astype(str), usable["record_id_r"].astype(str))
    order = np.lexsort((hi.to_numpy(), lo.to_numpy(), -usable["match_probability"].to_numpy()))
    left = usable["record_id_l"].astype(str).map(index).to_numpy()[order]
    right = usable["record_id_r"].astype(str).map(index).to_numpy()[order]
    prob = usable["match_probability"].to_numpy()[order]
    # one valid ID number or WeChat unionid is one person whatever the names say (a typo'd
    # or nick name); only conflicting IDs or birth dates still refuse such a pair
    rule = usable["rule"] if "rule" in usable else pd.Series("", index=usable.index)
    certain = rule.isin(IDENTITY_RULES).to_numpy()[order]
    nameless_at = max(threshold, nameless_threshold or 0.0)
    blocked = 0
    for a, b, p, sure in zip(left, right, prob, certain, strict=True):
        if np.isnan(a) or np.isnan(b):
            continue
        a, b = int(a), int(b)
        candidate[a] = max(candidate[a], p)
        candidate[b] = max(candidate[b], p)
        if p < threshold or (p < nameless_at and not (named[a] and named[b])):
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            strongest[a] = max(strongest[a], p)
            strongest[b] = max(strongest[b], p)
            continue
        ia, ib = ids_of.get(ra, set()), ids_of.get(rb, set())
        ba, bb = births_of.get(ra, set()), births_of.get(rb, set())
        na, nb = names_of.get(ra, set()), names_of.get(rb, set())
        if (ia and ib and ia != ib) or (ba and bb and ba != bb) or \
                (is_frozen[ra] and is_frozen[rb]) or \
                (not sure and na and nb and not names_compatible(na, nb)):
            blocked += 1
            continue
        if ra > rb:
            ra, rb = rb, ra
        parent[rb] = ra
        if ia or ib:
            ids_of[ra] = ia | ib
        if ba or bb:
            births_of[ra] = ba | bb
        if na or nb:
            names_of[ra] = na | nb
        is_frozen[ra] = is_frozen[ra] or is_frozen[rb]
        strongest[a] = max(strongest[a], p)
        strongest[b] = max(strongest[b], p)
    roots = np.array([find(i) for i in range(n)])
    size = np.bincount(roots, minlength=n)
    # the cluster label is its smallest record id (stable whatever the input order)
    label = pd.Series(ids).groupby(roots).transform("min").to_numpy()
    confidence = np.where(size[roots] > 1, strongest, 1.0 - candidate)
    log.info("clustered %d records into %d persons; %d merges refused by ID/birth-date "
             "conflicts", n, len(np.unique(roots)), blocked)
    return pd.DataFrame({"record_id": ids, "cluster": label,
                         "match_confidence": np.round(confidence, 6)})


def fix_probabilities(model: dict, fixed: dict[str, list[float | None]], kind: str) -> dict:
    """Set the ``kind`` ('m' or 'u') probabilities of the named comparisons' non-null levels,
    in level order; None keeps the trained value."""
    for comparison in model["comparisons"]:
        values = fixed.get(comparison["output_column_name"])
        if values is None:
            continue
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        if len(levels) != len(values):
            raise ValueError(f"identity.fixed_{kind}.{comparison['output_column_name']}: "
                             f"{len(values)} values for {len(levels)} levels")
        for level, value in zip(levels, values, strict=True):
            if value is not None:
                level[f"{kind}_probability"] = float(value)
    return model


# ------------------------------------------------------------------ the whole linkage
def train_model(linker, params: dict) -> None:
    """u by random sampling, the prior from the deterministic rules, m by EM."""
    from splink import block_on
    from splink.internals.exceptions import SplinkException

    deterministic = ["l.id_raw = r.id_raw", "l.mobile = r.mobile AND l.name_key = r.name_key",
                     "l.email = r.email AND l.name_key = r.name_key"]
    steps = [("prior", lambda: linker.training.estimate_probability_two_random_records_match(
                 deterministic, recall=params["prior_recall"])),
             ("u", lambda: linker.training.estimate_u_using_random_sampling(
                 max_pairs=params["u_max_pairs"], seed=params["seed"]))]
    for cols in params["em_blocking"]:
        steps.append((f"EM on {cols}", lambda cols=cols:
                      linker.training.estimate_parameters_using_expectation_maximisation(
                          block_on(*cols), estimate_without_term_frequencies=True)))
    for name, step in steps:
        try:
            step()
        except (SplinkException, ValueError, ZeroDivisionError) as exc:
            # small or sparse inputs (a few hundred records, no shared mobiles): keep the
            # defaults for this step rather than fail; the fixed m/u still apply
            log.warning("OneID training step '%s' skipped: %s", name,
                        str(exc).splitlines()[0])


def _predict(linker, threshold: float) -> pd.DataFrame:
    predictions = linker.inference.predict(
        threshold_match_probability=threshold).as_pandas_dataframe()
    scored = predictions[["record_id_l", "record_id_r", "match_probability", "match_weight"]]
    return scored.assign(rule="splink")


def score_pairs(std: pd.DataFrame, model: dict, params: dict | None = None,
                only_new: bool = False) -> pd.DataFrame:
    """Score the blocked pairs of ``std`` with a saved model. ``only_new``: ``std`` has a
    boolean ``is_new`` column and only pairs with a new record are generated (incremental)."""
    import copy

    p = _params(params)
    model = copy.deepcopy(model_for_engine(model, p))
    frame = model_frame(std, p["rare_name_max"])
    if only_new:
        frame["is_new"] = std["is_new"].to_numpy(dtype=bool)
        for rule in model["blocking_rules_to_generate_predictions"]:
            rule["blocking_rule"] = f"({rule['blocking_rule']}) AND (l.is_new OR r.is_new)"
        model["additional_columns_to_retain"] = ["source", "is_new"]
    db_api = _db_api(p["engine"])
    linker = _linker(_register(db_api, frame), model)
    return _predict(linker, p["predict_threshold"])


def link_records(std: pd.DataFrame, params: dict | None = None,
                 model: dict | None = None, keep_linker: bool = False) -> LinkResult:
    """Link a standardised table (``omnicrm.identity.standardise``): train a Splink model (or
    use ``model``, a saved one), score the blocked pairs, add the deterministic pairs and
    cluster under constraints."""
    p = _params(params)
    if std["record_id"].duplicated().any():
        dup = std.loc[std["record_id"].duplicated(), "record_id"].head(3).tolist()
        raise ValueError(f"record ids must be unique across the input; repeated: {dup}")
    det = deterministic_pairs(std)
    scored = pd.DataFrame(columns=["record_id_l", "record_id_r", "match_probability",
                                   "match_weight", "rule"])
    linker, saved = None, {}
    if len(std) >= 2:
        db_api = _db_api(p["engine"])
        frame = model_frame(std, p["rare_name_max"])
        registered = _register(db_api, frame)
        settings = model_for_engine(model, p) if model is not None else splink_settings(p)
        linker = _linker(registered, settings)
        if model is None:
            train_model(linker, p)
            settings = fix_probabilities(linker.misc.save_model_to_json(), p["fixed_m"], "m")
            settings = fix_probabilities(settings, p["fixed_u"], "u")
            per_pair = {name: [None if r is None else r / len(std) for r in rates]
                        for name, rates in p["fixed_u_per_record"].items()}
            settings = fix_probabilities(settings, per_pair, "u")
            prior = settings.get("probability_two_random_records_match") or 0.0
            if not 0.0 < prior < 1.0:  # no deterministic pair to estimate it from
                settings["probability_two_random_records_match"] = 1.0 / max(len(std), 2)
            linker = _linker(registered, settings)
        scored = _predict(linker, p["predict_threshold"])
        saved = linker.misc.save_model_to_json()
    pairs = pd.concat([det, scored], ignore_index=True)
    clusters = constrained_clusters(std["record_id"], std, pairs, p["match_threshold"],
                                    nameless_threshold=p["nameless_match_threshold"])
    return LinkResult(pairs=pairs, clusters=clusters, model=saved,
                      linker=linker if keep_linker else None)
