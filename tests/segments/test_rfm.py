"""RFM scores and cells on hand-made buyers whose quintiles are known, and with edges from
conf."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.segments.rfm import fm_score, rfm_profile, rfm_table, score
from omnicrm.segments.settings import segment_settings

GRID = segment_settings().rfm_grid


def _features(recency, frequency, monetary) -> pd.DataFrame:
    n = len(recency)
    return pd.DataFrame({"person_id": [f"p{i:02d}" for i in range(n)],
                         "cutoff_date": pd.Timestamp("2026-06-01"),
                         "recency_days": recency, "frequency": frequency,
                         "monetary": monetary})


def test_scores_are_quintiles_with_ties_kept_together():
    edges = [2.0, 4.0, 6.0, 8.0]   # the quintiles of 1..10
    values = pd.Series(np.arange(1, 11, dtype=float))
    assert score(values, edges).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert score(values, edges, higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2,
                                                                     1, 1]
    assert fm_score(np.array([1, 4, 5, 2]), np.array([2, 5, 5, 2])).tolist() == [2, 5, 5, 2]


def test_cells_on_hand_made_buyers():
    # ten buyers: p00 bought yesterday, often and big; p09 long ago, once, small; p10 never
    recency = [1, 10, 20, 30, 40, 300, 400, 500, 600, 700, np.nan]
    frequency = [20, 10, 1, 2, 3, 12, 9, 2, 1, 1, 0]
    monetary = [9000, 5000, 50, 300, 400, 8000, 6000, 200, 100, 60, 0]
    segments = pd.DataFrame({"person_id": [f"p{i:02d}" for i in range(11)],
                             "lifecycle_stage": ["loyal"] * 5 + ["dormant"] * 5 + ["aware"]})
    rfm = rfm_table(_features(recency, frequency, monetary), segments, GRID).set_index(
        "person_id")
    # R quintile edges of the buyers' recency: 18, 38, 340, 520 -> 5 5 4 4 3 3 2 2 1 1
    assert rfm["r_score"].tolist()[:10] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # F edges 1, 2, 5.4, 10.4: one order (three buyers tied) -> 1, 2 -> 2, 3 -> 3, 9 and
    # 10 -> 4, 12 and 20 -> 5
    assert rfm["f_score"].tolist()[:10] == [5, 4, 1, 2, 3, 5, 4, 2, 1, 1]
    # M edges 92, 260, 2240, 6400
    assert rfm["m_score"].tolist()[:10] == [5, 4, 1, 3, 3, 5, 4, 2, 2, 1]
    # FM = (F + M) / 2, halves up: p03 (2, 3) -> 3, p08 (1, 2) -> 2
    assert rfm["fm_score"].tolist()[:10] == [5, 4, 1, 3, 3, 5, 4, 2, 2, 1]
    assert rfm.loc["p00", "rfm_code"] == "555"
    assert rfm["rfm_cell"].to_dict() == {
        "p00": "champions", "p01": "champions", "p02": "promising",
        "p03": "potential_loyalist", "p04": "need_attention", "p05": "loyal",
        "p06": "at_risk", "p07": "hibernating", "p08": "hibernating", "p09": "lost",
        "p10": "no_purchase"}
    assert rfm["r_score"].isna()["p10"] and rfm["lifecycle_stage"]["p05"] == "dormant"
    prof = rfm_profile(rfm.reset_index(), GRID).set_index("rfm_cell")
    assert prof["persons"].sum() == 11 and prof.loc["champions", "persons"] == 2
    assert prof.loc["champions", "spend_share"] == np.float64(14000 / 29110)
    assert prof.loc["cant_lose", "persons"] == 0


def test_edges_from_conf():
    grid = GRID.model_copy(update={"edges": {"recency_days": [30, 90, 180, 365],
                                             "frequency": [1, 2, 3, 5], "monetary": None}})
    rfm = rfm_table(_features([10, 100, 1000], [1, 4, 9], [10, 20, 30]),
                    pd.DataFrame({"person_id": ["p00", "p01", "p02"],
                                  "lifecycle_stage": "loyal"}), grid)
    assert rfm["r_score"].tolist() == [5, 3, 1]
    assert rfm["f_score"].tolist() == [1, 4, 5]


def test_a_base_without_buyers_is_all_no_purchase():
    rfm = rfm_table(_features([np.nan, np.nan], [0, 0], [0.0, 0.0]),
                    pd.DataFrame({"person_id": ["p00", "p01"], "lifecycle_stage": "aware"}), GRID)
    assert rfm["rfm_cell"].tolist() == ["no_purchase"] * 2 and rfm["r_score"].isna().all()
    assert rfm_profile(rfm, GRID).set_index("rfm_cell").loc["no_purchase", "share"] == 1.0
