"""The plan judged against the synthetic world's potential outcomes (evaluation only): true
incremental profit of our plan, of the oracle and of three baselines, in one table.

OneID persons are mapped to true persons by majority vote over their records
(person_index: record -> OneID person; truth_records: record -> true person). A true person
split over several OneID persons is counted once: they get the offer of the OneID person
whose plan row promises the highest expected incremental margin, and every further offer sent
to them only adds its sending cost. A true person that OneID merged into someone else's
person gets whatever that person's offer is only if they are the majority; otherwise none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.evaluation.persons import oneid_to_true  # noqa: F401  (re-exported)

from .budget import allocate_budget


def true_profit(plan: pd.DataFrame, mapping: pd.DataFrame, truth: pd.DataFrame,
                cost_per_offer: float) -> dict:
    """True incremental margin, revenue and cost of a plan (person_id, coupon_threshold,
    discount; rows with threshold 0 are no offer), counted per true person as above."""
    p = plan[plan["coupon_threshold"] > 0]
    rank = p["expected_incremental_margin"] if "expected_incremental_margin" in p else 0.0
    p = p[["person_id", "coupon_threshold", "discount"]].assign(_rank=rank)
    p = p.merge(mapping, on="person_id", how="inner").sort_values("_rank", ascending=False,
                                                                  kind="stable")
    extra = int(p.duplicated("true_person_id").sum())
    p = p.drop_duplicates("true_person_id")
    t = truth.rename(columns={"person_id": "true_person_id"})
    none = t[t["coupon_threshold"] == 0][["true_person_id", "expected_revenue"]]
    v = p.merge(t, on=["true_person_id", "coupon_threshold", "discount"], how="left")
    v = v.merge(none.rename(columns={"expected_revenue": "revenue_none"}), on="true_person_id")
    return {"offers": int(len(p)) + extra,
            "true_incremental_margin": float(v["incremental_margin"].sum()
                                             - extra * cost_per_offer),
            "true_incremental_revenue": float((v["expected_revenue"] - v["revenue_none"]).sum()),
            "true_cost": float(v["expected_cost"].sum() + extra * cost_per_offer)}


def oracle_plan(truth: pd.DataFrame, persons: pd.Index | None = None,
                budget: float | None = None, max_discount: float | None = None
                ) -> pd.DataFrame:
    """Best offer or none per true person from the potential outcomes (under the budget when
    one is given). Keyed by ``person_id`` = true person id."""
    t = truth[truth["coupon_threshold"] > 0]
    if persons is not None:
        t = t[t["person_id"].isin(persons)]
    chosen, _ = allocate_budget(t, budget, max_discount, 0.0,
                                margin_col="incremental_margin", cost_col="expected_cost")
    return chosen.rename(columns={"incremental_margin": "expected_incremental_margin"})


def global_best_offer(train: pd.DataFrame) -> tuple[float, float]:
    """The arm with the highest observed incremental margin per member in the campaigns
    (treated arm mean minus its campaign's control mean): what one would send everyone."""
    ctrl = train[train["treated"] == 0].groupby("campaign_id")["margin"].mean()
    t = train[train["treated"] == 1]
    arm = t.groupby(["campaign_id", "coupon_threshold", "discount"])["margin"].mean().reset_index()
    arm["lift"] = arm["margin"] - arm["campaign_id"].map(ctrl)
    by_offer = arm.groupby(["coupon_threshold", "discount"])["lift"].mean()
    x, y = by_offer.idxmax()
    return float(x), float(y)


def heuristic_offers(features: pd.DataFrame, thresholds, discounts, discount_rate: float
                     ) -> pd.DataFrame:
    """The source material's rule: X = the smallest menu threshold at or above the person's
    average spend per order (the population's for non-buyers), Y = the menu discount closest
    to ``discount_rate`` x X. Everyone gets it."""
    aov = features["avg_order_value"].astype(float)
    aov = aov.where(aov > 0, aov[aov > 0].mean() if (aov > 0).any() else thresholds[0])
    th = np.sort(np.asarray(thresholds, float))
    x = th[np.minimum(np.searchsorted(th, aov.to_numpy()), len(th) - 1)]
    ds = np.asarray(discounts, float)
    y = np.array([ds[ds < xi][np.argmin(np.abs(ds[ds < xi] - discount_rate * xi))] for xi in x])
    return pd.DataFrame({"person_id": features["person_id"].to_numpy(), "coupon_threshold": x,
                         "discount": y})
