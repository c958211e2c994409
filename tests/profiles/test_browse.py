"""Browse interests on hand-made events whose decayed scores are worked out by hand, on
DuckDB and pandas alike; the typology from browsing and buying in the lookback."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from omnicrm.profiles.browse import browse_interests, browse_profile
from omnicrm.profiles.settings import BrowseSettings

S = BrowseSettings(lookback_days=365, half_life_days=90,
                   weights={"view": 1.0, "collect": 3.0, "cart": 5.0}, threshold=3.0)
CUT = pd.Timestamp("2026-06-01")


def _events() -> pd.DataFrame:
    day = pd.Timedelta(days=1)
    rows = [  # record, sku, kind, when
        ("r1", "D1", "view", CUT - 90 * day),      # a: dresses 1 x 0.5
        ("r2", "D2", "cart", CUT - 180 * day),     # a, other record: dresses 5 x 0.25
        ("r1", "S1", "collect", CUT - 90 * day),   # a: shoes 3 x 0.5
        ("r1", "T1", "view", CUT - 400 * day),     # before the lookback: left out
        ("r1", "D1", "purchase", CUT - 2 * day),   # a purchase is not browsing
        ("r1", "D1", "view", CUT),                 # the cut-off day itself: not seen
        ("r3", "T1", "cart", CUT - 1 * day),       # b: tops 5 x 0.5 ** (1 / 90)
        ("r3", "S1", "view", CUT - pd.Timedelta(hours=36, seconds=36)),  # b: shoes 1.5004 days
    ]
    ev = pd.DataFrame(rows, columns=["record_id", "sku", "event_type", "event_at"])
    return ev.assign(event_id=[f"E{i}" for i in range(len(ev))], channel="tmall")


PRODUCTS = pd.DataFrame({"sku": ["D1", "D2", "S1", "T1"],
                         "category": ["dresses", "dresses", "shoes", "tops"]})
INDEX = pd.DataFrame({"record_id": ["r1", "r2", "r3", "r4"],
                      "person_id": ["a", "a", "b", "c"]})


def _spark_available() -> bool:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return False
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True


SPARK = pytest.param("spark", marks=pytest.mark.skipif(not _spark_available(),
                                                       reason="Spark needs pyspark and Java"))


@pytest.mark.parametrize("engine", ["duckdb", "pandas", SPARK])
def test_decayed_scores_worked_by_hand(engine):
    options = {"master": "local[1]", "conf": {"spark.sql.shuffle.partitions": 1}} \
        if engine == "spark" else None
    out = browse_interests(_events(), INDEX, PRODUCTS, CUT, S, engine, options)
    got = out.set_index(["person_id", "category"])
    assert list(got.index) == [("a", "dresses"), ("a", "shoes"), ("b", "tops"), ("b", "shoes")]
    assert got["interest_score"].tolist() == pytest.approx(
        [0.5 + 1.25, 1.5, 5 * 0.5 ** (1 / 90), 0.5 ** ((1.5 + 36 / 86400) / 90)], rel=1e-12)
    assert got[["views", "collects", "carts"]].loc[("a", "dresses")].tolist() == [1, 0, 1]
    assert got["interest_rank"].tolist() == [1, 2, 1, 2]
    assert got["interested"].tolist() == [False, False, True, False]


def test_typology():
    interests = browse_interests(_events(), INDEX, PRODUCTS, CUT, S, "pandas")
    features = pd.DataFrame({"person_id": ["a", "b", "c", "d"], "cutoff_date": CUT,
                             "recency_days": [400.0, 30.0, 10.0, float("nan")]})
    prof = browse_profile(features, interests, S).set_index("person_id")
    assert prof["browse_typology"].to_dict() == {
        "a": "browses_without_buying", "b": "browses_and_buys",
        "c": "buys_without_browsing", "d": "neither"}
    assert prof["top_interest_category"]["a"] == "dresses"
    assert prof["top3_interest_categories"]["a"] == "dresses, shoes"
    assert prof["interested_categories"].tolist() == [0, 1, 0, 0]
    assert prof["top3_interest_categories"]["b"] == "tops, shoes"
    assert prof["browse_score"]["c"] == 0.0
