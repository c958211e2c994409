"""Repurchase: the 7-day model's 50-trial Optuna study (XGBoost hist, early stopping and median
pruning on a later cut-off's AUC, trials on a stratified 200k-row sample, the best refitted on
every row) on 1M person-rows vs one default fit of scikit-learn's HistGradientBoosting on the
same rows; wall time, peak memory and test AUC on the later cut-off.

The training rows are the person features of a generated world (20,000 persons, DuckDB) at
weekly cut-offs with 7-day labels from observed orders, tiled with a little jitter on the
continuous columns until the train cut-offs hold ``persons`` rows; validation and test are the
world's own later cut-offs (untiled, so the AUC is honest).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .common import GB, Options, Row, fmt_int, measure, progress

NAME = "repurchase"
PEER = "sklearn HistGradientBoosting (default)"
PERSONS, PERSONS_QUICK = 1_000_000, 20_000
BASE, BASE_QUICK = 20_000, 2_000
TRIALS, TRIALS_QUICK = 50, 3
TUNE_SAMPLE_ROWS = 200_000  # as conf/base/parameters_repurchase.yml (tune_sample_rows)


def prepare(scratch: Path, data: str, persons: int, base: int) -> dict:
    import numpy as np
    import pandas as pd

    from omnicrm.pipelines.repurchase.nodes import _tables
    from omnicrm.repurchase.labels import label_cutoffs
    from omnicrm.repurchase.training import (
        TimeSplit,
        data_end,
        features_at_cutoffs,
        model_feature_names,
        person_orders,
    )
    from omnicrm.synthetic.world import generate_world

    w = generate_world(persons=base, seed=13)
    tables = _tables(w["orders"], w["order_items"], w["events"], w["campaign_members"],
                     w["coupon_redemptions"], w["pos_members"], w["tmall_members"],
                     w["wechat_members"], w["web_members"], w["truth_records"])
    split = TimeSplit.schedule(data_end(w["orders"]), 6, 2, 2, 7, 7)
    frame = features_at_cutoffs(tables, w["products"], split.cutoffs, {}, "duckdb",
                                {"threads": 2})
    names = model_feature_names(frame, ["months_since_last_purchase"])
    frame = label_cutoffs(frame, person_orders(w["orders"], w["truth_records"]), 7, "label")
    train = frame[split.mask(frame, "train")]
    copies = max(1, int(np.ceil(persons / len(train))))
    rng = np.random.default_rng(0)
    parts = []
    for c in range(copies):
        part = train.copy()
        if c:  # near-duplicates, not identical rows
            for col in ("avg_basket_log", "orders_per_year", "spend_year", "avg_order_value",
                        "monetary", "days_since_registration", "tenure_days"):
                part[col] = part[col] * np.exp(rng.normal(0, 0.01, len(part)))
        parts.append(part)
    big = pd.concat(parts, ignore_index=True).iloc[:persons]
    big.to_parquet(Path(data) / "train.parquet", index=False)
    frame[split.mask(frame, "valid")].to_parquet(Path(data) / "valid.parquet", index=False)
    frame[split.mask(frame, "test")].to_parquet(Path(data) / "test.parquet", index=False)
    pd.Series(names).to_csv(Path(data) / "names.csv", index=False)
    return {"persons": len(big), "base": base, "features": len(names)}


def _load(data: str):
    import pandas as pd

    names = pd.read_csv(Path(data) / "names.csv").iloc[:, 0].tolist()
    return [pd.read_parquet(Path(data) / f"{p}.parquet") for p in ("train", "valid", "test")
            ], names


def ours(scratch: Path, data: str, trials: int) -> dict:
    from sklearn.metrics import roc_auc_score

    from omnicrm.repurchase.model import RepurchaseModel, feature_matrix, fit_booster
    from omnicrm.repurchase.training import tune

    (train, valid, test), names = _load(data)
    x_tr, x_va = feature_matrix(train, names), feature_matrix(valid, names)
    y_tr = train["label"].to_numpy()
    del train
    result = tune(x_tr, y_tr, x_va, valid["label"].to_numpy(), names,
                  n_trials=trials, max_estimators=200, early_stopping_rounds=20, n_jobs=2,
                  seed=0, sample_rows=TUNE_SAMPLE_ROWS, pruner="median")
    booster = result.booster  # refitted on every row when the trials saw a sample
    if booster is None:
        booster = fit_booster(x_tr, y_tr, result.params, result.n_estimators, names, n_jobs=2)
    model = RepurchaseModel(booster, names)
    pruned = int((result.trials["state"] == "PRUNED").sum()) if len(result.trials) else 0
    return {"auc": float(roc_auc_score(test["label"], model.predict_proba(test))),
            "valid_auc": result.valid_auc, "trees": result.n_estimators, "rows": len(y_tr),
            "tuned_rows": result.tuned_rows, "pruned": pruned}


def peer(scratch: Path, data: str) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    from omnicrm.repurchase.model import feature_matrix

    (train, _, test), names = _load(data)
    clf = HistGradientBoostingClassifier(random_state=0)
    clf.fit(feature_matrix(train, names), train["label"].to_numpy())
    p = clf.predict_proba(feature_matrix(test, names))[:, 1]
    return {"auc": float(roc_auc_score(test["label"], p))}


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    base = BASE_QUICK if opts.quick else BASE
    trials = TRIALS_QUICK if opts.quick else TRIALS
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-repurchase-") as data:
        progress(f"{NAME}: 7-day training rows for {fmt_int(n)} persons from a "
                 f"{fmt_int(base)}-person world")
        prep = measure("benchmarks.bench_repurchase:prepare",
                       {"data": data, "persons": n, "base": base}, label=f"{NAME} prepare",
                       max_rss_gb=opts.max_rss_gb)
        size = f"{fmt_int(prep.info['persons'])} persons"
        progress(f"{NAME}: ours = Optuna {trials} trials + refit")
        o = measure("benchmarks.bench_repurchase:ours", {"data": data, "trials": trials},
                    label=f"{NAME} ours",
                    preload=("xgboost", "optuna", "optuna_integration", "sklearn.metrics"),
                    max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: ours took {o.seconds:.1f} s")
        p = measure("benchmarks.bench_repurchase:peer", {"data": data},
                    label=f"{NAME} peer", preload=("sklearn.ensemble",),
                    max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: peer took {p.seconds:.1f} s")
    note = (f"train rows tiled (jittered) from a {fmt_int(base)}-person world's 6 weekly "
            f"cut-offs; {prep.info['features']} features; ours: {trials} Optuna trials "
            f"(<=200 trees, early stop + median pruning on the next 2 cut-offs' AUC; "
            f"{o.info['pruned']} pruned)"
            + (f" on a stratified {fmt_int(o.info['tuned_rows'])}-row sample, the best "
               "refitted on every row" if o.info["tuned_rows"] < o.info["rows"] else
               " + refit") + ", 2 threads; peer: one default fit")
    return [
        Row(NAME, size, "wall time", o.seconds, p.seconds, PEER, "s", note),
        Row(NAME, size, "peak RSS", o.peak_rss / GB, p.peak_rss / GB, PEER, "GB",
            "whole process"),
        Row(NAME, size, "7-day test AUC", o.info["auc"], p.info["auc"], PEER, "",
            f"the world's last 2 weekly cut-offs, untiled: ours {o.info['auc']:.4f} "
            f"({o.info['trees']} trees, validation {o.info['valid_auc']:.4f}), peer "
            f"{p.info['auc']:.4f}",
            higher_is_better=True),
    ]
