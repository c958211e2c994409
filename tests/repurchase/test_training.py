"""Point in time: training rows see nothing after their cut-off; labels are the window's
observed orders; time splits never mix periods; the model's reasons and the audience rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.features import source_tables
from omnicrm.identity.golden import member_registrations
from omnicrm.repurchase.labels import label_cutoffs
from omnicrm.repurchase.model import RepurchaseModel, fit_booster
from omnicrm.repurchase.targeting import select_audience
from omnicrm.repurchase.training import (
    TimeSplit,
    data_end,
    features_at_cutoffs,
    make_pruner,
    model_feature_names,
    person_orders,
    stratified_sample,
    tune,
)


def _tables_of(world) -> dict:
    regs = member_registrations(world["pos_members"], world["tmall_members"],
                                world["wechat_members"], world["web_members"])
    return source_tables(world["orders"], world["order_items"], world["events"],
                         world["campaign_members"], world["coupon_redemptions"], regs,
                         world["truth_records"])


@pytest.fixture(scope="module")
def stacked(world):
    split = TimeSplit.schedule(data_end(world["orders"]), 4, 1, 1, 7, 7)
    frame = features_at_cutoffs(_tables_of(world), world["products"], split.cutoffs, {},
                                "pandas")
    names = model_feature_names(frame, ["months_since_last_purchase"])
    po = person_orders(world["orders"], world["truth_records"])
    return split, label_cutoffs(frame, po, 7, "label"), names


def _shuffle_after(frame: pd.DataFrame, column: str, cutoff: pd.Timestamp, rng) -> pd.DataFrame:
    """Scramble every row at or after the cut-off: times, values and owners."""
    out = frame.copy()
    late = out[column] >= cutoff
    if not late.any():
        return out
    idx = np.flatnonzero(late.to_numpy())
    for col in out.columns:
        if col != column:
            out.iloc[idx, out.columns.get_loc(col)] = out.iloc[rng.permutation(idx),
                                                              out.columns.get_loc(col)].to_numpy()
    span = (out[column].max() - cutoff).total_seconds()
    seconds = rng.integers(0, max(int(span), 1), late.sum())
    out.loc[late, column] = (cutoff + pd.to_timedelta(seconds, "s")).astype(out[column].dtype)
    return out


def test_shuffling_post_cutoff_data_changes_no_feature(world, stacked):
    split, frame, names = stacked
    cutoff = split.train[0]  # weeks of data after it, so the shuffle moves labels too
    rng = np.random.default_rng(0)
    tables = _tables_of(world)
    shuffled = dict(tables)
    shuffled["orders"] = _shuffle_after(tables["orders"], "ordered_at", cutoff, rng)
    shuffled["events"] = _shuffle_after(tables["events"], "event_at", cutoff, rng)
    shuffled["campaign_members"] = _shuffle_after(tables["campaign_members"], "assigned_at",
                                                  cutoff, rng)
    shuffled["coupon_redemptions"] = _shuffle_after(tables["coupon_redemptions"],
                                                    "redeemed_at", cutoff, rng)
    assert not shuffled["orders"].equals(tables["orders"])  # the shuffle did something
    again = features_at_cutoffs(shuffled, world["products"], [cutoff], {}, "pandas")
    before = frame[frame["cutoff_date"] == cutoff].drop(columns="label").reset_index(drop=True)
    pd.testing.assert_frame_equal(before[again.columns], again, check_dtype=False)
    # ... while the labels (which live after the cut-off) do change
    po = person_orders(shuffled["orders"], world["truth_records"])
    relabelled = label_cutoffs(again, po, 7, "label")["label"].to_numpy()
    assert (relabelled != frame.loc[frame["cutoff_date"] == cutoff, "label"].to_numpy()).any()


def test_labels_are_orders_in_the_window(world, stacked):
    split, frame, _ = stacked
    cutoff = split.test[0]
    po = person_orders(world["orders"], world["truth_records"])
    inside = po[(po["ordered_at"] >= cutoff) & (po["ordered_at"] < cutoff + pd.Timedelta(days=7))]
    labelled = frame[(frame["cutoff_date"] == cutoff) & (frame["label"] == 1)]
    assert set(labelled["person_id"]) == set(inside["person_id"]) & set(
        frame.loc[frame["cutoff_date"] == cutoff, "person_id"])
    assert 0.005 < frame["label"].mean() < 0.05


def test_time_split_is_ordered_with_horizon_gaps():
    end = pd.Timestamp("2026-11-01")
    split = TimeSplit.schedule(end, 5, 2, 2, 7, 45)
    assert max(split.train) + pd.Timedelta(days=45) <= min(split.valid)
    assert max(split.valid) + pd.Timedelta(days=45) <= min(split.test)
    assert max(split.test) + pd.Timedelta(days=45) <= end
    assert (len(split.train), len(split.valid), len(split.test)) == (5, 2, 2)


def test_reasons_name_the_strongest_features_and_sum_to_the_score(stacked):
    split, frame, names = stacked
    train = frame[split.mask(frame, "train")]
    booster = fit_booster(train[names].astype("float32").to_numpy(), train["label"].to_numpy(),
                          {"max_depth": 3, "learning_rate": 0.1}, 60, names)
    model = RepurchaseModel(booster, names)
    test = frame[split.mask(frame, "test")].head(300)
    p = model.predict_proba(test)
    contrib = model.shap_values(test)
    base = booster.predict(__import__("xgboost").DMatrix(
        test[names].astype("float32").to_numpy(), feature_names=names), pred_contribs=True)[:, -1]
    # SHAP contributions + bias reproduce the log-odds of the probability
    assert np.allclose(contrib.sum(axis=1) + base, np.log(p / (1 - p)), atol=1e-4)
    reasons = model.reasons(test, top_k=2)
    first = reasons["reason_1"].str.extract(r"^(\w+)=(\S+) \(([+-][\d.]+)\)$")
    top = np.asarray(names)[np.abs(contrib).argmax(axis=1)]
    assert (first[0].to_numpy() == top).all()
    assert np.allclose(first[2].astype(float), contrib[np.arange(len(test)),
                                                       np.abs(contrib).argmax(axis=1)],
                       atol=0.006)


def test_audience_takes_the_middle_band_of_30_to_90_day_buyers(stacked):
    split, frame, names = stacked
    train = frame[split.mask(frame, "train")]
    booster = fit_booster(train[names].astype("float32").to_numpy(), train["label"].to_numpy(),
                          {"max_depth": 3}, 40, names)
    model = RepurchaseModel(booster, names)
    today = frame[split.mask(frame, "test")]
    audience = select_audience(today, model, 30, 90, 0.25, 0.75)
    pool = today[today["recency_days"].between(30, 90)]
    scores = pd.Series(model.predict_proba(pool), index=pool["person_id"].to_numpy())
    lo, hi = scores.quantile(0.25), scores.quantile(0.75)
    assert set(audience["person_id"]) == set(scores[(scores >= lo) & (scores < hi)].index)
    fixed = select_audience(today, model, 30, 90, 0.0, 0.02, band_by="probability")
    assert (fixed["score"] < 0.02).all()


def test_stratified_sample_keeps_the_buy_rate():
    y = (np.arange(100_000) % 50 == 0).astype(int)  # 2% buyers
    rows = stratified_sample(y, 10_000, seed=1)
    assert len(rows) == 10_000 and len(np.unique(rows)) == 10_000
    assert y[rows].sum() == 200
    assert (stratified_sample(y, 200_000) == np.arange(len(y))).all()  # small: every row


def test_tuning_on_a_sample_refits_the_best_on_every_row(stacked):
    split, frame, names = stacked
    train, valid = frame[split.mask(frame, "train")], frame[split.mask(frame, "valid")]
    x, y = train[names].astype("float32").to_numpy(), train["label"].to_numpy()
    result = tune(x, y, valid[names].astype("float32").to_numpy(), valid["label"].to_numpy(),
                  names, n_trials=8, max_estimators=60, early_stopping_rounds=10,
                  sample_rows=len(y) // 2, pruner="median")
    assert abs(result.tuned_rows - len(y) // 2) <= 1  # class shares rounded
    # the returned booster is the refit on all rows: its tree count is its own early stop
    assert result.booster is not None
    assert result.booster.num_boosted_rounds() >= result.n_estimators
    assert 0.5 < result.valid_auc <= 1.0
    assert set(result.trials["state"]) <= {"COMPLETE", "PRUNED"}
    full = tune(x, y, valid[names].astype("float32").to_numpy(), valid["label"].to_numpy(),
                names, n_trials=2, max_estimators=30, sample_rows=None, pruner="none")
    assert full.booster is None and full.tuned_rows == len(y)
    with pytest.raises(ValueError, match="unknown pruner"):
        make_pruner("sometimes")
