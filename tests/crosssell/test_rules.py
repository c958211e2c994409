"""Association rules and bundles on hand-made baskets whose numbers are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from omnicrm.crosssell.rules import (
    basket_matrix,
    bundle_table,
    frequent_itemsets,
    mine_rules,
    rules_overall_and_by_segment,
)
from omnicrm.crosssell.settings import RuleSettings

PRICE = {"A": 100.0, "B": 50.0, "C": 10.0}
BASKETS = {"O1": "AB", "O2": "ABC", "O3": "AC", "O4": "B", "O5": "AB"}
CHANNEL = {"O1": "pos", "O2": "pos", "O3": "pos", "O4": "tmall", "O5": "tmall"}


def _items() -> pd.DataFrame:
    rows = [{"order_id": o, "channel": CHANNEL[o], "person_id": "P" + o, "sku": i,
             "category": i, "paid_price": PRICE[i]} for o, s in BASKETS.items() for i in s]
    return pd.DataFrame(rows)


def _rule(rules: pd.DataFrame, antecedent: str, consequent: str) -> pd.Series:
    hit = rules[(rules["antecedent"] == antecedent) & (rules["consequent"] == consequent)]
    assert len(hit) == 1, (antecedent, consequent)
    return hit.iloc[0]


def test_support_confidence_and_lift_of_hand_made_baskets():
    # supports: A .8, B .8, C .4, AB .6, AC .4, BC .2, ABC .2
    rules, itemsets = mine_rules(_items(), "sku", 0.3, 0.5, 1.0, 3)
    support = {"".join(sorted(s)): v for s, v in zip(itemsets["itemsets"],
                                                     itemsets["support"], strict=True)}
    assert support == pytest.approx({"A": .8, "B": .8, "C": .4, "AB": .6, "AC": .4})
    # A -> B has confidence .75 but lift .9375 (< 1): left out; only A <-> C remain
    pairs = sorted(zip(rules["antecedent"], rules["consequent"], strict=True))
    assert pairs == [("A", "C"), ("C", "A")]
    ac, ca = _rule(rules, "A", "C"), _rule(rules, "C", "A")
    assert (ac["support"], ac["confidence"], ac["lift"]) == pytest.approx((.4, .5, 1.25))
    assert (ca["support"], ca["confidence"], ca["lift"]) == pytest.approx((.4, 1.0, 1.25))
    assert ca["baskets"] == 2 and ca["n_baskets"] == 5
    assert ca["antecedent_support"] == pytest.approx(.4)
    assert ca["consequent_support"] == pytest.approx(.8)
    loose, _ = mine_rules(_items(), "sku", 0.3, 0.5, 0.0, 3)
    ab = _rule(loose, "A", "B")
    assert (ab["confidence"], ab["lift"]) == pytest.approx((.75, .9375))


def test_rules_per_segment_use_the_segment_baskets_only():
    settings = RuleSettings(window_days=365, min_support={"sku": 0.3}, min_baskets=1,
                            min_confidence=0.5,
                            min_lift=1.0, max_len=3, segments=["channel"],
                            min_segment_baskets=2)
    rules, _ = rules_overall_and_by_segment(_items(), "sku", settings)
    assert set(rules["segment"]) == {"all", "channel"}
    # tmall has one multi-item basket (< 2): no rules of its own
    assert set(rules.loc[rules["segment"] == "channel", "segment_value"]) == {"pos"}
    pos = rules[rules["segment_value"] == "pos"]
    ab = _rule(pos, "A", "B")   # pos: A 1, B 2/3, AB 2/3
    assert (ab["support"], ab["confidence"], ab["lift"]) == pytest.approx((2 / 3, 2 / 3, 1.0))
    assert ab["n_baskets"] == 3
    assert (rules["level"] == "sku").all()


def test_bundle_table_margins():
    items = _items()
    _, itemsets = mine_rules(items, "sku", 0.2, 0.5, 1.0, 3)
    table = bundle_table(items, itemsets, 5, "sku", 0.45, 10)
    assert table["bundle"].tolist() == ["A + B", "A + C", "A + B + C", "B + C"]
    assert table["joint_margin"].tolist() == pytest.approx([0.45 * 150 * 3, 0.45 * 110 * 2,
                                                            0.45 * 160, 0.45 * 60])
    first = table.iloc[0]
    assert (first["size"], first["baskets"], first["unit_margin"]) == (2, 3, 67.5)
    assert first["lift"] == pytest.approx(.6 / (.8 * .8))
    assert table.iloc[2]["lift"] == pytest.approx(.2 / (.8 * .8 * .4))


def test_pruned_fpgrowth_gives_the_itemsets_of_the_full_table():
    from mlxtend.frequent_patterns import fpgrowth

    rng = np.random.default_rng(0)
    dense = rng.random((400, 12)) < np.linspace(0.02, 0.4, 12)
    names = np.array([f"i{k:02d}" for k in range(12)], dtype=object)
    ours = frequent_itemsets(sp.csr_matrix(dense), names, 0.03, 3)
    full = fpgrowth(pd.DataFrame(dense, columns=names), min_support=0.03,
                    use_colnames=True, max_len=3)
    assert dict(zip(ours["itemsets"], ours["support"], strict=True)) == pytest.approx(
        dict(zip(full["itemsets"], full["support"], strict=True)))


def test_basket_matrix_counts_an_item_once_per_basket():
    items = pd.DataFrame({"order_id": ["O1", "O1", "O2"], "sku": ["A", "A", "B"]})
    matrix, names = basket_matrix(items, "sku")
    assert names.tolist() == ["A", "B"]
    assert matrix.toarray().tolist() == [[True, False], [False, True]]
