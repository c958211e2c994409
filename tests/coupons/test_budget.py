"""Budget allocation against brute force on small instances."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from omnicrm.coupons.budget import allocate_budget


def _candidates(n=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n):
        for o in range(k):
            cost = rng.uniform(1, 10)
            rows.append({"person_id": f"P{p}", "coupon_threshold": 99.0 + 50 * o,
                         "discount": 10.0 * (o + 1), "expected_cost": cost,
                         "expected_incremental_margin": cost * rng.uniform(-0.5, 2.0)})
    return pd.DataFrame(rows)


def _brute(c, budget):
    persons = sorted(c["person_id"].unique())
    opts = {p: [None] + list(c[c["person_id"] == p].itertuples()) for p in persons}
    best = 0.0
    for combo in itertools.product(*opts.values()):
        chosen = [r for r in combo if r is not None]
        cost = sum(r.expected_cost for r in chosen)
        if cost <= budget:
            best = max(best, sum(r.expected_incremental_margin for r in chosen))
    return best


def test_unconstrained_takes_each_persons_best_positive_offer():
    c = _candidates()
    chosen, s = allocate_budget(c)
    best = c.loc[c.groupby("person_id")["expected_incremental_margin"].idxmax()]
    best = best[best["expected_incremental_margin"] > 0]
    assert set(chosen["person_id"]) == set(best["person_id"])
    assert s["expected_incremental_margin"] == pytest.approx(
        best["expected_incremental_margin"].sum())
    assert s["marginal_return_per_yuan"] == 0.0


@pytest.mark.parametrize("seed", range(4))
def test_budget_is_respected_and_near_the_exact_optimum(seed):
    c = _candidates(seed=seed)
    free, s_free = allocate_budget(c)
    budget = 0.4 * s_free["expected_cost"]
    chosen, s = allocate_budget(c, budget)
    assert s["expected_cost"] <= budget + 1e-6
    assert chosen["person_id"].is_unique
    exact = _brute(c, budget)
    assert s["expected_incremental_margin"] >= 0.7 * exact
    assert s["marginal_return_per_yuan"] > 0  # the budget binds: the last yuan has a price
    # the price of the last yuan is below what the best chosen offers return per yuan
    ratio = chosen["expected_incremental_margin"] / chosen["expected_cost"]
    assert s["marginal_return_per_yuan"] <= ratio.max()
    # a bigger budget never earns less
    _, s_more = allocate_budget(c, 0.6 * s_free["expected_cost"])
    assert s_more["expected_incremental_margin"] >= s["expected_incremental_margin"] - 1e-9


def test_per_customer_limit_on_the_discount():
    c = _candidates()
    chosen, _ = allocate_budget(c, max_discount=20)
    assert chosen["discount"].max() <= 20
