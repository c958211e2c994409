"""The next best category: never a category the person bought, the peers' scores, and the
ranking metrics on a hand example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.crosssell.evaluation import hit_rate_at_k, ndcg_at_k
from omnicrm.crosssell.nextbest import (
    CategoryPeers,
    NextBestCategoryModel,
    fit_classifier,
    ranked,
    training_rows,
)

CATS = ["a", "b", "c", "d"]


def _features(shares: list[list[float]]) -> pd.DataFrame:
    shares = np.asarray(shares, float)
    bought = shares.sum(axis=1) > 0
    f = pd.DataFrame({"person_id": [f"P{i}" for i in range(len(shares))],
                      "cutoff_date": pd.Timestamp("2026-01-01"),
                      "frequency": np.where(bought, 2.0, 0.0),
                      "orders_per_year": np.where(bought, 1.5, 0.0),
                      "recency_days": np.where(bought, 40.0, np.nan),
                      "spend_year": np.where(bought, 300.0, 0.0),
                      "items_year": np.where(bought, 3.0, 0.0),
                      "avg_order_value": np.where(bought, 150.0, 0.0)})
    for j, c in enumerate(CATS):
        f[f"category_share_{c}"] = shares[:, j]
    return f


@pytest.fixture(scope="module")
def model() -> NextBestCategoryModel:
    history = _features([[1, 0, 0, 0], [.5, .5, 0, 0], [.5, .5, 0, 0], [0, 0, 1, 0],
                         [0, 0, .5, .5], [0, 0, 0, 0]])
    rules = pd.DataFrame({"antecedent": ["c"], "consequent": ["d"], "confidence": [0.6]})
    peers = CategoryPeers.fit(history, rules, pd.Series({"a": 100.0, "b": 80.0, "c": 50.0,
                                                         "d": 200.0}))
    labels = np.zeros((6, 4), dtype=bool)
    labels[0, 1] = labels[3, 3] = True
    X, y = training_rows(peers, history, labels, 1000, 0)
    return NextBestCategoryModel(peers, fit_classifier(X, y, 1.0, 0), top_k=3)


def test_peers_learn_popularity_similarity_and_rules(model):
    peers = model.peers
    assert peers.popularity.tolist() == pytest.approx([3 / 5, 2 / 5, 2 / 5, 1 / 5])
    # a and b are bought by persons {0,1,2} and {1,2}: cosine 2 / sqrt(3 * 2)
    assert peers.similarity[0, 1] == pytest.approx(2 / np.sqrt(6))
    assert peers.similarity[0, 2] == 0 and np.diag(peers.similarity).tolist() == [0] * 4
    bought = np.array([[False, False, True, False]])
    assert peers.rule_confidence(bought).tolist() == [[0, 0, 0, 0.6]]


def test_next_best_never_recommends_a_bought_category(model):
    today = _features([[1, 0, 0, 0], [0, 1, 1, 0], [.25, .25, .25, .25], [0, 0, 0, 0]])
    for method in ("propensity", "item_item", "most_popular", "rules"):
        recs = model.recommend(today, method=method)
        shares = today.set_index("person_id")
        for row in recs.itertuples():
            assert shares.loc[row.person_id, f"category_share_{row.category}"] == 0, method
        counts = recs.groupby("person_id").size()
        assert counts.to_dict() == {"P0": 3, "P1": 2, "P3": 3}   # P2 bought everything
    top = model.top(today)
    assert top["next_best_category"].iloc[2] == ""
    assert top["next_best_categories"].tolist()[2] == ""
    assert top["next_best_categories"].str.split(", ").str[0].tolist()[:2] == \
        top["next_best_category"].tolist()[:2]
    # item-item: the buyer of a is sent to b (the only category bought with it)
    assert model.recommend(today, k=1, method="item_item")["category"].iloc[0] == "b"


def test_hit_rate_and_ndcg_on_a_hand_example():
    order = np.array([[2, 0, 1], [0, 1, 2]])
    relevant = np.array([[False, True, True], [False, False, True]])
    assert hit_rate_at_k(order, relevant, 1) == 0.5
    assert hit_rate_at_k(order, relevant, 3) == 1.0
    # person 0: hits at ranks 1 and 3 -> (1 + 1/2) / (1 + 1/log2(3)); person 1: 1/2 / 1
    expected = ((1 + 0.5) / (1 + 1 / np.log2(3)) + 0.5) / 2
    assert ndcg_at_k(order, relevant, 3) == pytest.approx(expected)
    assert ndcg_at_k(order, relevant, 1) == 0.5


def test_ranked_marks_missing_places():
    scores = np.array([[0.2, -np.inf, 0.5], [-np.inf, -np.inf, 0.1]])
    assert ranked(scores, 3).tolist() == [[2, 0, -1], [2, -1, -1]]
