"""The linker people set up first: Splink 5 (DuckDB) with its out-of-the-box comparisons on the
raw member fields, no Chinese-aware cleansing.

The four channel tables are stacked into one table with common column names (name = POS name /
Tmall receiver name / WeChat nickname / web name; mobile as written, masked or not; email; ID
number; birthday; one raw address string), then the tutorial workflow: exact-match blocking on
name, mobile, email and ID; lambda from deterministic rules; u from random sampling; m by EM
(blocked on mobile, then on name; at most 5M pairs each); predict at match probability 0.9
(in chunks of 100k records) and connected components at the same threshold.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import pandas as pd

THRESHOLD = 0.9  # match probability for a link, in predict and in clustering
# predict in chunks of this many records on the left: Splink materialises the blocked pairs,
# and exact-name blocking on WeChat nicknames ('Sunny', '风清扬' ...) gives ~7M pairs at 100k
# records but ~700M at 1M, too many to hold at once
RECORDS_PER_PREDICT_CHUNK = 100_000
# EM trains on a sample of at most this many blocked pairs (the same nickname blocks: all of
# them would take hours at 1M records)
EM_MAX_PAIRS = 5e6
COLUMNS = ["record_id", "channel", "name", "mobile", "email", "id_number", "birthday",
           "address"]


def _text(s: pd.Series) -> pd.Series:
    """As written, but empty strings are nulls (Splink's null level)."""
    s = s.astype("string")
    return s.where(s.str.strip() != "")


def _date(s: pd.Series) -> pd.Series:
    return _text(pd.to_datetime(s, errors="coerce").dt.strftime("%Y-%m-%d"))


def stack_members(pos: pd.DataFrame, tmall: pd.DataFrame, wechat: pd.DataFrame,
                  web: pd.DataFrame) -> pd.DataFrame:
    """One table of every member record with the raw fields under common names."""
    none = pd.Series(pd.NA, dtype="string")

    def frame(channel: str, df: pd.DataFrame, **cols) -> pd.DataFrame:
        out = pd.DataFrame({"record_id": df["record_id"].astype("string").to_numpy()})
        out["channel"] = channel
        for col in COLUMNS[2:]:
            value = cols.get(col)
            out[col] = (none.reindex(range(len(df))) if value is None
                        else (_date if col == "birthday" else _text)(value).to_numpy())
        return out

    tmall_address = (tmall["receiver_province"].fillna("") + tmall["receiver_city"].fillna("")
                     + tmall["receiver_district"].fillna("")
                     + tmall["receiver_address"].fillna(""))
    return pd.concat([
        frame("pos", pos, name=pos["name"], mobile=pos["mobile"], id_number=pos["id_number"],
              birthday=pos["birthday"], address=pos["address"]),
        frame("tmall", tmall, name=tmall["receiver_name"], mobile=tmall["receiver_mobile"],
              address=tmall_address),
        frame("wechat", wechat, name=wechat["nickname"], mobile=wechat["mobile"]),
        frame("web", web, name=web["name"], mobile=web["mobile"], email=web["email"],
              birthday=web["birthday"]),
    ], ignore_index=True)


def settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("name"),
            cl.ExactMatch("mobile"),
            cl.ExactMatch("email"),
            cl.ExactMatch("id_number"),
            cl.DateOfBirthComparison("birthday", input_is_string=True),
            cl.LevenshteinAtThresholds("address", [1, 3]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name"), block_on("mobile"), block_on("email"), block_on("id_number"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def link(members: pd.DataFrame, scratch: Path | None = None, seed: int = 42) -> tuple[
        pd.DataFrame, dict]:
    """Cluster ``members`` (see :func:`stack_members`): record_id -> cluster_id, and facts."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    timings, facts = {}, {}
    t = time.perf_counter()
    con = duckdb.connect()
    if scratch is not None:  # spill to the benchmark's scratch, not the working directory
        con.execute(f"SET temp_directory = '{scratch}'")
    db_api = DuckDBAPI(connection=con)
    table = db_api.register(members, dataset_display_name="members")
    u_pairs = min(1e7, max(1e6, 10.0 * len(members)))
    linker = Linker(table, settings(), log_level=logging.WARNING)

    # lambda from rules a clerk would trust: same ID, same email, same name and mobile
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number"), block_on("email"), block_on("name", "mobile")], recall=0.7)
    timings["lambda_s"] = time.perf_counter() - t
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    timings["u_s"] = time.perf_counter() - t - timings["lambda_s"]
    for rule in (block_on("mobile"), block_on("name")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, max_pairs=EM_MAX_PAIRS)
    timings["train_s"] = time.perf_counter() - t
    timings["em_s"] = timings["train_s"] - timings["lambda_s"] - timings["u_s"]
    facts["probability_two_random_records_match"] = float(
        linker._settings_obj._probability_two_random_records_match)

    t = time.perf_counter()
    chunks = max(1, math.ceil(len(members) / RECORDS_PER_PREDICT_CHUNK))
    facts["predict_chunks"] = chunks
    predictions = linker.inference.predict(
        threshold_match_probability=THRESHOLD,
        **({"num_chunks_left": chunks, "num_chunks_right": 1} if chunks > 1 else {}))
    facts["pairs_at_threshold"] = int(
        con.execute(f"select count(*) from {predictions.physical_name}").fetchall()[0][0])
    timings["predict_s"] = time.perf_counter() - t

    t = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD)
    result = con.execute(
        f"select record_id, cluster_id from {clusters.physical_name}").df()
    timings["cluster_s"] = time.perf_counter() - t
    con.close()
    facts.update(timings)
    facts["clusters"] = int(result["cluster_id"].nunique())
    return result, facts


def run(world_dir: str, scratch: Path, out: str) -> dict:
    """The measured side of bench_identity: read the member tables, link, write the clusters
    (record_id, person_id) to ``out``."""
    world = Path(world_dir)
    tables = {name: pd.read_parquet(world / f"{name}_members.parquet")
              for name in ("pos", "tmall", "wechat", "web")}
    members = stack_members(**tables)
    del tables
    clusters, facts = link(members, scratch=scratch)
    clusters.rename(columns={"cluster_id": "person_id"}).astype(str).to_parquet(out)
    return {"records": len(members), **facts}
