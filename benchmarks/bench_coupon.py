"""Coupons: our uplift choice (T-/X-/DR-learner and transformed outcome over XGBoost, picked
by Qini on the two latest campaigns) vs causalml's uplift random forest and a plain T-learner
on the same split; and the plan's true incremental profit vs the oracle and the best
baseline, from the world's potential outcomes (perfect identity, so OneID errors are not
counted here; the pipeline's evaluation node counts them).

causalml runs in its own virtualenv (``OMNICRM_CAUSALML_PYTHON``, default
``.venv-causalml/bin/python``; see benchmarks/peers/causalml_uplift.py); without it that row
is skipped with a message.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import tempfile
from pathlib import Path

from .common import ROOT, Options, Row, fmt_int, measure, progress

NAME = "coupon"
PERSONS, PERSONS_QUICK = 20_000, 3_000
HOLDOUT = 2


def _params() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "conf/base/parameters_coupon.yml").read_text())["coupon"]


def prepare(scratch: Path, data: str, persons: int) -> dict:
    import numpy as np

    from omnicrm.coupon.basket import basket_training_rows
    from omnicrm.coupon.training import (
        as_matrix,
        campaign_training_set,
        features_function,
        model_columns,
        non_member_rows,
    )
    from omnicrm.features import resolve_cutoff
    from omnicrm.identity.golden import member_registrations
    from omnicrm.synthetic.world import generate_world

    w = generate_world(persons=persons, seed=42)
    index = w["truth_records"][["record_id", "person_id"]]
    tables = {"orders": w["orders"], "order_items": w["order_items"], "events": w["events"],
              "campaign_members": w["campaign_members"],
              "coupon_redemptions": w["coupon_redemptions"],
              "registrations": member_registrations(w["pos_members"], w["tmall_members"],
                                             w["wechat_members"], w["web_members"]),
              "person_index": index}
    params = _params()
    features_at = features_function(tables, w["products"], {}, "duckdb", {"threads": 2})
    train, by_cutoff = campaign_training_set(w["campaigns"], w["campaign_offers"],
                                             w["campaign_members"], w["orders"], index,
                                             features_at, params["gross_margin"])
    baskets = basket_training_rows(by_cutoff, w["orders"], index,
                                   params["basket"]["horizon_days"])
    untreated = non_member_rows(by_cutoff, train, w["campaigns"], w["orders"], index,
                                params["gross_margin"],
                                params["purchase"]["non_member_sample"], params["seed"])
    plan_features = features_at(resolve_cutoff(None, w["orders"]))
    with open(Path(data) / "inputs.pkl", "wb") as fh:
        pickle.dump({"train": train, "baskets": baskets, "untreated": untreated,
                     "features": plan_features,
                     "orders": w["orders"], "campaigns": w["campaigns"], "index": index,
                     "truth": w["truth_offer_outcomes"]}, fh)
    # the peers' split: the same held-out campaigns as ours
    cols = model_columns(plan_features)
    order = train.groupby("campaign_id")["window_start"].min().sort_values().index
    held = train["campaign_id"].isin(order[-HOLDOUT:])
    np.savez(Path(data) / "split.npz", X_fit=as_matrix(train[~held], cols),
             treated_fit=train.loc[~held, "treated"].to_numpy(float),
             y_fit=train.loc[~held, "bought"].to_numpy(float),
             X_held=as_matrix(train[held], cols),
             treated_held=train.loc[held, "treated"].to_numpy(float),
             y_held=train.loc[held, "bought"].to_numpy(float))
    return {"persons": persons, "members": len(train), "held_out": int(held.sum())}


def ours(scratch: Path, data: str) -> dict:
    """Our uplift selection, offer policy and plan, judged by the pipeline's own evaluation
    node (``evaluate_plan``: oracle, baselines, the budgeted comparison) with a perfect
    identity: every person is one OneID person."""
    import pandas as pd

    from omnicrm.pipelines.coupon import nodes

    with open(Path(data) / "inputs.pkl", "rb") as fh:
        d = pickle.load(fh)
    params = _params()
    train, _ = nodes.check_training_campaigns(d["train"], params)
    learner, name, table, fig, _ = nodes.select_uplift_model(train, d["features"], params)
    policy, *_ = nodes.fit_policy(train, d["baskets"], d["untreated"], d["features"],
                                  learner, name,
                                  d["orders"], d["campaigns"], d["index"], params)
    f = d["features"]
    plan, _ = policy.plan(f)
    ids = f["person_id"].astype(str)
    identity = pd.DataFrame({"record_id": ids, "person_id": ids})
    judged, _ = nodes.evaluate_plan(plan, policy, f, train, identity, identity, d["truth"],
                                    params)
    judged = judged.set_index("policy")
    margin = judged["true_incremental_margin"]
    baselines = margin[margin.index.str.startswith(("no_targeting", "propensity_top",
                                                    "heuristic"))]
    top = baselines.idxmax()
    best = table.iloc[0]
    return {"learner": name, "qini": float(best["qini"]), "auuc": float(best["auuc"]),
            "share": float(judged.loc["ours", "share_of_oracle"]), "baseline": top,
            "baseline_share": float(judged.loc[top, "share_of_oracle"]),
            "profit": float(margin["ours"]), "oracle": float(margin["oracle"]),
            "budget": float(judged.loc["ours_budget", "budget"]),
            "budget_share": float(judged.loc["ours_budget", "share_of_oracle"]),
            "budget_true_cost": float(judged.loc["ours_budget", "true_cost"]),
            "learners": {r.learner: float(r.qini) for r in table.itertuples()}}


def plain_t_learner(scratch: Path, data: str) -> dict:
    """What one writes first: two scikit-learn gradient-boosting classifiers, defaults."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from omnicrm.coupon.uplift import auuc, qini_coefficient

    d = np.load(Path(data) / "split.npz")
    t = d["treated_fit"] > 0
    m1 = HistGradientBoostingClassifier(random_state=0).fit(d["X_fit"][t], d["y_fit"][t])
    m0 = HistGradientBoostingClassifier(random_state=0).fit(d["X_fit"][~t], d["y_fit"][~t])
    s = m1.predict_proba(d["X_held"])[:, 1] - m0.predict_proba(d["X_held"])[:, 1]
    return {"qini": qini_coefficient(d["y_held"], d["treated_held"], s),
            "auuc": auuc(d["y_held"], d["treated_held"], s)}


def causalml_forest(scratch: Path, data: str, python: str) -> dict:
    import numpy as np

    from omnicrm.coupon.uplift import auuc, qini_coefficient

    out = Path(scratch) / "scores.npy"
    subprocess.run([python, str(ROOT / "benchmarks/peers/causalml_uplift.py"),
                    str(Path(data) / "split.npz"), str(out)], check=True)
    d = np.load(Path(data) / "split.npz")
    s = np.load(out)
    return {"qini": qini_coefficient(d["y_held"], d["treated_held"], s),
            "auuc": auuc(d["y_held"], d["treated_held"], s)}


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    python = os.environ.get("OMNICRM_CAUSALML_PYTHON",
                            str(ROOT / ".venv-causalml" / "bin" / "python"))
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-coupon-") as data:
        progress(f"{NAME}: a {fmt_int(n)}-person world, campaign training set")
        prep = measure("benchmarks.bench_coupon:prepare", {"data": data, "persons": n},
                       label=f"{NAME} prepare", max_rss_gb=opts.max_rss_gb)
        size = (f"{fmt_int(n)} persons, {fmt_int(prep.info['members'])} members "
                f"({fmt_int(prep.info['held_out'])} held out)")
        o = measure("benchmarks.bench_coupon:ours", {"data": data}, label=f"{NAME} ours",
                    preload=("omnicrm.pipelines.coupon.nodes",), max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: ours took {o.seconds:.1f} s ({o.info['learner']})")
        t = measure("benchmarks.bench_coupon:plain_t_learner", {"data": data},
                    label=f"{NAME} plain T-learner", preload=("sklearn.ensemble",))
        c = None
        if Path(python).exists():
            c = measure("benchmarks.bench_coupon:causalml_forest",
                        {"data": data, "python": python}, label=f"{NAME} causalml",
                        max_rss_gb=opts.max_rss_gb)
            progress(f"{NAME}: causalml took {c.seconds:.1f} s")
        else:
            progress(f"{NAME}: causalml peer skipped: no virtualenv at {python} (set "
                     "OMNICRM_CAUSALML_PYTHON; see benchmarks/peers/causalml_uplift.py)")
    i = o.info
    learners = ", ".join(f"{k} {v:.4f}" for k, v in i["learners"].items())
    rows = [
        Row(NAME, size, "Qini, held-out campaigns", i["qini"], t.info["qini"],
            "plain T-learner (sklearn HGB)", "buyers/treated",
            f"ours = {i['learner']}, chosen on the same held-out campaigns ({learners})",
            higher_is_better=True),
        Row(NAME, size, "true profit, share of oracle", i["share"], i["baseline_share"],
            i["baseline"], "",
            f"ours {i['profit']:,.0f} CNY vs oracle {i['oracle']:,.0f} CNY (planning window)",
            higher_is_better=True),
        Row(NAME, size, "true profit at a budget, share of oracle", i["budget_share"], 1.0,
            "oracle at the same budget", "",
            f"budget {i['budget']:,.0f} CNY (half our plan's expected cost); our plan's true "
            f"cost {i['budget_true_cost']:,.0f} CNY", higher_is_better=True),
    ]
    if c is not None:
        rows += [
            Row(NAME, size, "Qini, held-out campaigns", i["qini"], c.info["qini"],
                "causalml UpliftRandomForest", "buyers/treated", "100 trees, KL, depth 6",
                higher_is_better=True),
            Row(NAME, size, "AUUC, held-out campaigns", i["auuc"], c.info["auuc"],
                "causalml UpliftRandomForest", "", "", higher_is_better=True),
            Row(NAME, size, "wall time", o.seconds, c.seconds, "causalml UpliftRandomForest",
                "s", "ours: 4 uplift learners + offer policy + plan; peer: one forest"),
        ]
    return rows
