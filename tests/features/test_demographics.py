"""Demographics from hand-made golden records: ages to bands at the cut-off, city tiers from
the store table, unknowns where the golden record has nothing, and no personal data out."""

from __future__ import annotations

import pandas as pd

from omnicrm.features.demographics import age_band_labels, person_demographics

PARAMS = {"age_band_edges": [18, 25, 35, 45, 55, 65], "min_age": 10, "max_age": 100}


def test_age_bands_cities_and_unknowns():
    cutoff = pd.Timestamp("2026-06-01")
    features = pd.DataFrame({"person_id": ["a", "b", "c", "d", "e", "f"],
                             "cutoff_date": cutoff})
    golden = pd.DataFrame({
        "person_id": ["a", "b", "c", "d", "e", "f"],
        "gender": ["F", "M", None, "F", "M", "F"],
        # a: 25 on the cut-off day; b: 24 (birthday the day after); c: 65; d: 17;
        # e: no birth date; f: a mistyped year (age 126)
        "birth_date": pd.to_datetime(["2001-06-01", "2001-06-02", "1961-01-15", "2008-12-31",
                                      None, "1900-01-01"]),
        "province": ["上海市", "广东省", "广东省", None, "四川省", "上海市"],
        "city": ["上海市", "广州市", "佛山市", None, "成都市", "上海市"],
        "address_detail": ["x路1号"] * 6, "mobile": ["13800000000"] * 6,
    })
    stores = pd.DataFrame({"store_id": ["S1", "S2", "S3"], "city": ["上海市", "广州市", "成都市"],
                           "city_tier": [1, 1, 2]})
    demo = person_demographics(features, golden, stores, PARAMS).set_index("person_id")
    assert list(demo.columns) == ["cutoff_date", "gender", "age_band", "province", "city_tier"]
    assert demo["age_band"].to_dict() == {"a": "25-34", "b": "18-24", "c": "65+", "d": "<18",
                                          "e": "unknown", "f": "unknown"}
    assert demo["gender"].tolist() == ["F", "M", "unknown", "F", "M", "F"]
    assert demo["province"]["d"] == "unknown"
    # 佛山 has no store: its tier is unknown, not guessed
    assert demo["city_tier"].tolist()[:2] == [1, 1] and demo["city_tier"].isna()["c"]
    assert demo["city_tier"]["e"] == 2


def test_band_labels_follow_the_edges():
    assert age_band_labels([18, 25, 35]) == ["<18", "18-24", "25-34", "35+"]
