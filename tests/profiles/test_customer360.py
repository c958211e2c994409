"""The customer 360's campaign and coupon history and its joins, on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.profiles.customer360 import campaign_history, customer_360

CUT = pd.Timestamp("2026-06-01")
INDEX = pd.DataFrame({"record_id": ["r1", "r2", "r3"], "person_id": ["a", "a", "b"]})


def _history() -> pd.DataFrame:
    members = pd.DataFrame({
        "campaign_id": ["C1", "C1", "C2", "C3", "C1"],
        "record_id": ["r1", "r2", "r1", "r1", "r3"],   # a twice in C1 (two records)
        "group": ["control", "treatment", "treatment", "treatment", "control"],
        "assigned_at": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-03-01",
                                       "2026-07-01", "2026-01-01"])})  # C3: after the cut
    campaigns = pd.DataFrame({"campaign_id": ["C1", "C2", "C3"],
                              "start_date": pd.to_datetime(["2026-01-05", "2026-03-03",
                                                            "2026-07-02"])})
    redemptions = pd.DataFrame({"coupon_id": ["K1", "K2"], "record_id": ["r2", "r1"],
                                "discount": [20.0, 30.0],
                                "redeemed_at": pd.to_datetime(["2026-01-10", "2026-07-05"])})
    return campaign_history(INDEX, members, campaigns, redemptions, CUT)


def test_campaign_history():
    h = _history()
    assert h.loc["a", "campaigns_addressed"] == 2 and h.loc["a", "coupons_sent"] == 2
    assert h.loc["a", "last_campaign_id"] == "C2"
    assert h.loc["a", "last_campaign_date"] == pd.Timestamp("2026-03-03")
    assert h.loc["a", "coupons_redeemed"] == 1 and h.loc["a", "coupon_value_redeemed"] == 20.0
    assert h.loc["b", "coupons_sent"] == 0 and h.loc["b", "last_campaign_group"] == "control"
    assert h.loc["b", "coupons_redeemed"] == 0


def test_one_row_per_person_with_every_join():
    persons = ["a", "b", "c"]
    features = pd.DataFrame({"person_id": persons, "cutoff_date": CUT,
                             "recency_days": [5.0, 300.0, np.nan], "frequency": [3.0, 1, 0],
                             "monetary": [900.0, 50, 0], "spend_year": [900.0, 50, 0],
                             "has_pos": [True, False, False], "has_tmall": [True, True, False],
                             "has_wechat": [False, False, True], "has_web": False})
    segments = pd.DataFrame({"person_id": persons, "value_tier": [5, 1, 0],
                             "value_tier_name": ["very high", "low B", "low A"],
                             "lifecycle_stage": ["loyal", "purchased", "aware"],
                             "rfm_state": ["active", "at_risk", "no_purchase"],
                             "preferred_category": ["dresses", "tops", None],
                             "preferred_channel": ["pos", "tmall", None],
                             "price_sensitive_score": [0.1, 0.7, 0.0],
                             "tag_price_sensitive": [False, True, False],
                             "tag_loyal_member": [True, False, False]})
    rfm = pd.DataFrame({"person_id": persons, "rfm_cell": ["champions", "lost", "no_purchase"],
                        "rfm_code": ["555", "111", None], "r_score": [5, 1, None],
                        "f_score": [5, 1, None], "m_score": [5, 1, None]})
    demo = pd.DataFrame({"person_id": persons, "gender": ["F", "M", "unknown"],
                         "age_band": ["25-34", "unknown", "65+"],
                         "province": ["上海市", "广东省", "unknown"], "city_tier": [1, 1, None]})
    value = pd.DataFrame({"person_id": ["b", "a"], "p_alive": [0.2, 0.9],
                          "expected_purchases_90d": [0.1, 1.2], "clv_12m": [5.0, 800.0]})
    churn = pd.DataFrame({"person_id": ["a"], "churn_90d_probability": [0.15],
                          "churn_rank": [1]})
    winback = pd.DataFrame({"person_id": ["b"], "winback_rank": [1]})
    browse = pd.DataFrame({"person_id": persons,
                           "browse_typology": ["browses_and_buys", "neither", "neither"],
                           "top_interest_category": ["dresses", None, None],
                           "interested_categories": [1, 0, 0]})
    c = customer_360(features, segments, rfm, demo, value, churn, winback, browse,
                     _history()).set_index("person_id")
    assert c.index.tolist() == persons
    assert c["channels"].tolist() == ["pos,tmall", "tmall", "wechat"]
    assert c["tags"].tolist()[:2] == ["loyal_member", "price_sensitive"]
    assert pd.isna(c["tags"]["c"])   # no tag
    assert c["clv_12m"]["a"] == 800.0 and np.isnan(c["clv_12m"]["c"])
    assert c["churn_90d_probability"]["a"] == 0.15 and np.isnan(c["churn_90d_probability"]["b"])
    assert c["winback"].tolist() == [False, True, False]
    assert c["rfm_cell"]["b"] == "lost" and c["age_band"]["a"] == "25-34"
    assert c["campaigns_addressed"].tolist() == [2, 1, 0]
    assert c["last_campaign_id"]["a"] == "C2" and pd.isna(c["last_campaign_id"]["c"])
    assert "birth_date" not in c.columns and "address_detail" not in c.columns
