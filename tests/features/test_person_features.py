"""The feature store: values hand-checked against the raw orders, point-in-time correctness,
and the same answer from DuckDB, narwhals-on-pandas and a plain pandas implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.features import resolve_cutoff
from omnicrm.features.reference import person_features_pandas
from omnicrm.pipelines.features.nodes import build_person_features

MID_CUTOFF = "2026-03-01"  # inside the data: there is plenty on both sides of it


def _run(inputs: dict, engine: str = "duckdb", **params) -> pd.DataFrame:
    return build_person_features(**inputs, params=params, engine={"name": engine})


@pytest.fixture(scope="module")
def features(feature_inputs) -> pd.DataFrame:
    return _run(feature_inputs)


def test_default_cutoff_is_the_day_after_the_last_order(feature_inputs, features):
    last = feature_inputs["orders"]["ordered_at"].max()
    assert features["cutoff_date"].iloc[0] == last.normalize() + pd.Timedelta(days=1)
    assert resolve_cutoff("2025-06-30", feature_inputs["orders"]) == pd.Timestamp("2025-06-30")


def test_one_row_per_person_with_a_record(feature_inputs, features, world):
    assert features["person_id"].is_unique
    assert set(features["person_id"]) == set(world["truth_persons"]["person_id"])
    # persons who never bought have no orders, zero spend and an undefined recency
    never = features["frequency"] == 0
    assert never.any() and features.loc[never, "recency_days"].isna().all()
    assert (features.loc[never, "monetary"] == 0).all()


def test_rfm_and_yearly_spend_match_a_hand_computation(feature_inputs, world):
    cutoff = pd.Timestamp(MID_CUTOFF)
    feats = _run(feature_inputs, cutoff_date=MID_CUTOFF).set_index("person_id")
    owner = world["truth_records"].set_index("record_id")["person_id"]
    orders = world["orders"].assign(person_id=lambda d: d["record_id"].map(owner))
    before = orders[orders["ordered_at"] < cutoff]
    busy = before["person_id"].value_counts()
    for person in (busy.index[0], busy.index[len(busy) // 2]):  # a heavy and a typical buyer
        own = before[before["person_id"] == person]
        row = feats.loc[person]
        assert row["frequency"] == len(own)
        assert row["monetary"] == pytest.approx(own["paid_amount"].sum())
        assert row["recency_days"] == pytest.approx(
            (cutoff - own["ordered_at"].max()).total_seconds() / 86400)
        year = own[own["ordered_at"] >= cutoff - pd.Timedelta(days=365)]
        assert row["spend_year"] == pytest.approx(year["paid_amount"].sum())
        assert row["baskets_year"] == len(year)
        assert row["items_year"] == year["item_count"].sum()
        assert row["avg_order_value"] == pytest.approx(own["paid_amount"].mean())
        shares = own["channel"].value_counts(normalize=True)
        for channel, share in shares.items():
            assert row[f"channel_share_{channel}"] == pytest.approx(share)
    # totals over everyone: nothing lost or double counted in the joins
    assert feats["frequency"].sum() == len(before)
    assert feats["monetary"].sum() == pytest.approx(before["paid_amount"].sum())


def _scrambled_after(inputs: dict, cutoff: pd.Timestamp, seed: int = 0) -> dict:
    """Every row at or after the cut-off changed: amounts, owners, types, groups, times."""
    rng = np.random.default_rng(seed)
    out = {k: v.copy() for k, v in inputs.items()}
    records = inputs["person_index"]["record_id"].to_numpy()

    def scramble(table: str, time_col: str, changes) -> None:
        df = out[table]
        late = df[time_col] >= cutoff
        for col, make in changes.items():
            df.loc[late, col] = make(int(late.sum()))
        # and one more row exactly at the cut-off
        extra = df[late].head(1).copy()
        extra[time_col] = cutoff
        out[table] = pd.concat([df, extra], ignore_index=True)

    scramble("orders", "ordered_at", {
        "paid_amount": lambda n: rng.uniform(1, 5000, n),
        "record_id": lambda n: rng.choice(records, n),
        "item_count": lambda n: rng.integers(1, 9, n)})
    late_orders = out["orders"].loc[out["orders"]["ordered_at"] >= cutoff, "order_id"]
    items = out["order_items"]
    late_items = items["order_id"].isin(late_orders)
    items.loc[late_items, "sku"] = rng.choice(inputs["products"]["sku"], int(late_items.sum()))
    scramble("events", "event_at", {
        "event_type": lambda n: rng.choice(["view", "collect", "cart", "purchase"], n),
        "record_id": lambda n: rng.choice(records, n)})
    scramble("campaign_members", "assigned_at", {
        "group": lambda n: rng.choice(["treatment", "control"], n),
        "record_id": lambda n: rng.choice(records, n)})
    scramble("coupon_redemptions", "redeemed_at", {
        "discount": lambda n: rng.uniform(1, 100, n),
        "record_id": lambda n: rng.choice(records, n)})
    scramble("registrations", "registered_at", {
        "channel": lambda n: rng.choice(["pos", "tmall", "wechat", "web"], n)})
    for table, col in (("orders", "order_id"), ("events", "event_id"),
                       ("coupon_redemptions", "coupon_id")):  # keep keys unique
        out[table][col] = out[table][col].astype(str) + np.where(
            out[table].index >= len(inputs[table]), "-x", "")
    return out


def test_no_feature_sees_the_cutoff_day_or_later(feature_inputs):
    cutoff = pd.Timestamp(MID_CUTOFF)
    clean = _run(feature_inputs, cutoff_date=MID_CUTOFF)
    scrambled = _run(_scrambled_after(feature_inputs, cutoff), cutoff_date=MID_CUTOFF)
    pd.testing.assert_frame_equal(clean, scrambled)
    # and the same as if the future had never been recorded at all
    times = {"orders": "ordered_at", "events": "event_at", "campaign_members": "assigned_at",
             "coupon_redemptions": "redeemed_at", "registrations": "registered_at"}
    past = {k: (v[v[times[k]] < cutoff] if k in times else v) for k, v in feature_inputs.items()}
    pd.testing.assert_frame_equal(clean, _run(past, cutoff_date=MID_CUTOFF))
    assert clean["frequency"].sum() < _run(feature_inputs)["frequency"].sum()


def test_duckdb_and_narwhals_pandas_equal_the_plain_pandas_version(feature_inputs, features):
    cutoff = features["cutoff_date"].iloc[0]
    plain = person_features_pandas(**feature_inputs, cutoff=cutoff)
    pd.testing.assert_frame_equal(features, plain, check_dtype=False, rtol=1e-9)
    on_pandas = _run(feature_inputs, engine="pandas")
    pd.testing.assert_frame_equal(features, on_pandas, check_dtype=False, rtol=1e-9)


def test_features_carry_the_behaviour_the_world_was_built_with(features, world):
    truth = world["truth_persons"].set_index("person_id")
    f = features.set_index("person_id").join(truth[["value_tier", "price_sensitivity",
                                                     "favourite_category"]])
    buyers = f[f["frequency"] > 0]
    # basket size rises with the latent value tier
    by_tier = buyers.groupby("value_tier")["avg_basket_log"].mean()
    assert by_tier.is_monotonic_increasing
    # promotion buying follows price sensitivity
    assert buyers["promo_order_share"].corr(buyers["price_sensitivity"]) > 0.3
    # the favourite category is the one bought most often, for most frequent buyers
    frequent = buyers[buyers["frequency"] >= 4]
    cats = [c for c in f.columns if c.startswith("category_share_")]
    top = frequent[cats].idxmax(axis=1).str.removeprefix("category_share_")
    assert (top == frequent["favourite_category"]).mean() > 0.5  # chance: 1/8
