"""The campaign training set: one row per (campaign, OneID person) with the person's features
at the campaign's assignment date (strictly before it), the arm (treated or control, X, Y) and
the outcomes in the campaign window (bought, revenue, margin net of the coupon discount)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

KEYS = ("person_id", "cutoff_date")


def model_columns(features: pd.DataFrame) -> list[str]:
    """Columns a model reads from a ``person_features`` table: every column but the keys."""
    return [c for c in features.columns if c not in KEYS]


def as_matrix(features: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The feature matrix in a fixed column order (missing columns are NaN, booleans 0/1)."""
    out = np.full((len(features), len(columns)), np.nan)
    for j, c in enumerate(columns):
        if c in features.columns:
            out[:, j] = pd.to_numeric(features[c].astype("float64"), errors="coerce").to_numpy()
    return out


def member_persons(campaign_members: pd.DataFrame, person_index: pd.DataFrame) -> pd.DataFrame:
    """Campaign members (records) mapped to OneID persons. A person addressed twice in one
    campaign (two of their records drawn, or two true persons merged by OneID) keeps one row:
    the first treatment row, else the first control row, so no person is counted twice."""
    idx = person_index[["record_id", "person_id"]].drop_duplicates("record_id")
    m = campaign_members.merge(idx, on="record_id", how="left")
    missing = int(m["person_id"].isna().sum())
    if missing:
        log.warning("%d campaign members have no OneID person (record not in person_index); "
                    "left out", missing)
        m = m[m["person_id"].notna()]
    m = m.sort_values(["campaign_id", "person_id", "group"], ascending=[True, True, False],
                      kind="stable")
    dup = m.duplicated(["campaign_id", "person_id"])
    if dup.any():
        log.info("%d campaign members share a OneID person with another member of the same "
                 "campaign; one row per person kept", int(dup.sum()))
    return m[~dup].reset_index(drop=True)


def window_outcomes(orders: pd.DataFrame, person_index: pd.DataFrame, start: pd.Timestamp,
                    end_inclusive: pd.Timestamp, gross_margin: float) -> pd.DataFrame:
    """Per OneID person: bought, revenue (paid), basket before the coupon, discount and margin
    (gross margin on the basket before the coupon, minus the coupon) in [start, end]."""
    t0 = pd.Timestamp(start).normalize()
    t1 = pd.Timestamp(end_inclusive).normalize() + pd.Timedelta(days=1)
    o = orders[(orders["ordered_at"] >= t0) & (orders["ordered_at"] < t1)]
    o = o.merge(person_index[["record_id", "person_id"]].drop_duplicates("record_id"),
                on="record_id", how="inner")
    coupon = o["coupon_discount"].fillna(0.0).astype(float)
    paid = o["paid_amount"].astype(float)
    o = o.assign(revenue=paid, basket=paid + coupon, coupon=coupon,
                 margin=gross_margin * (paid + coupon) - coupon,
                 redeemed=(coupon > 0).astype(float))
    g = o.groupby("person_id").agg(orders=("order_id", "count"), revenue=("revenue", "sum"),
                                   basket=("basket", "sum"), coupon=("coupon", "sum"),
                                   margin=("margin", "sum"), redeemed=("redeemed", "max"))
    g["bought"] = 1.0
    return g.reset_index()


def campaign_training_set(campaigns: pd.DataFrame, campaign_offers: pd.DataFrame,
                          campaign_members: pd.DataFrame, orders: pd.DataFrame,
                          person_index: pd.DataFrame, features_at, gross_margin: float,
                          ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The uplift training set over every campaign.

    ``features_at(cutoff) -> person_features`` computes the feature table at a cut-off (only
    data strictly before it); it is called once per distinct assignment date. Returns the
    member rows and the feature tables by cut-off (reused for the baseline models)."""
    members = member_persons(campaign_members, person_index)
    offers = campaign_offers[["campaign_id", "arm", "coupon_threshold", "discount"]]
    members = members.merge(offers, on=["campaign_id", "arm"], how="left")
    treated = members["group"].eq("treatment")
    members["treated"] = treated.astype(float)
    members["coupon_threshold"] = members["coupon_threshold"].where(treated, 0.0).fillna(0.0)
    members["discount"] = members["discount"].where(treated, 0.0).fillna(0.0)
    camp = campaigns.set_index("campaign_id")
    members["assigned_at"] = pd.to_datetime(members["assigned_at"])
    # features at the assignment day: strictly before it, so nothing of the campaign leaks in
    members["cutoff_date"] = members["assigned_at"].dt.normalize()
    parts, feature_tables = [], {}
    for (cid, cutoff), rows in members.groupby(["campaign_id", "cutoff_date"], sort=True):
        key = str(pd.Timestamp(cutoff).date())
        if key not in feature_tables:
            feature_tables[key] = features_at(pd.Timestamp(cutoff))
        f = feature_tables[key].drop(columns="cutoff_date")
        out = window_outcomes(orders, person_index, camp.loc[cid, "start_date"],
                              camp.loc[cid, "end_date"], gross_margin)
        r = (rows.merge(f, on="person_id", how="left")
             .merge(out, on="person_id", how="left"))
        r["window_start"] = pd.Timestamp(camp.loc[cid, "start_date"])
        parts.append(r)
    data = pd.concat(parts, ignore_index=True)
    for c in ("orders", "revenue", "basket", "coupon", "margin", "redeemed", "bought"):
        data[c] = data[c].fillna(0.0)
    log.info("campaign training set: %d member rows over %d campaigns (%d treated)",
             len(data), data["campaign_id"].nunique(), int(data["treated"].sum()))
    return data, feature_tables


def features_function(tables: dict[str, Any], products: pd.DataFrame, params: dict,
                      engine: str = "duckdb", options: dict | None = None):
    """A ``features_at(cutoff)`` over the feature store, for :func:`campaign_training_set`."""
    from omnicrm.features import person_features

    def features_at(cutoff: pd.Timestamp) -> pd.DataFrame:
        return person_features(tables, products, cutoff, params, engine, options)

    return features_at


def season_index(orders: pd.DataFrame, start: pd.Timestamp, window_days: int) -> float:
    """How busy the calendar days of a window are: order rate in the same days one year
    earlier over the order rate in the half-year either side of them (a centred level, so
    the base's growth cancels). 1 = an ordinary fortnight; Double 11 is well above 1."""
    t = pd.to_datetime(orders["ordered_at"]).to_numpy()
    ref = pd.Timestamp(start).normalize() - pd.Timedelta(days=365)
    same = ((t >= ref.to_datetime64())
            & (t < (ref + pd.Timedelta(days=window_days)).to_datetime64())).sum()
    lo, hi = ref - pd.Timedelta(days=182), ref + pd.Timedelta(days=182)
    level = ((t >= lo.to_datetime64()) & (t < hi.to_datetime64())).sum()
    if level == 0 or same == 0:
        return 1.0
    return float((same / window_days) / (level / 364))


def season_factor(orders: pd.DataFrame, campaigns: pd.DataFrame, plan_start: pd.Timestamp,
                  window_days: int) -> float:
    """Baseline purchase hazard of the planning window relative to the campaign windows the
    models learned from (their mean season index), over the given orders."""
    train = [season_index(orders, s, window_days) for s in campaigns["start_date"]]
    return season_index(orders, plan_start, window_days) / float(np.mean(train))


def season_factors(orders: pd.DataFrame, person_index: pd.DataFrame, campaigns: pd.DataFrame,
                   plan_start: pd.Timestamp, window_days: int) -> dict[str, float]:
    """Season factors of the planning window, apart for returning buyers (``repeat``: orders
    of a person who had ordered before) and for first purchases (``first``). A first order
    follows the person's registration more than the calendar, so pooling both dilutes the
    festival peak that returning buyers' hazard follows (on the 20,000-person worlds the
    pooled factor of Double 11 came out at 1.49-1.61, returning buyers' at 1.67-1.79)."""
    idx = person_index[["record_id", "person_id"]].drop_duplicates("record_id")
    o = orders[["record_id", "ordered_at"]].merge(idx, on="record_id", how="inner")
    o = o.sort_values("ordered_at", kind="stable")
    repeat = o.duplicated("person_id").to_numpy()
    return {"repeat": season_factor(o[repeat], campaigns, plan_start, window_days),
            "first": season_factor(o[~repeat], campaigns, plan_start, window_days)}


def non_member_rows(feature_tables: dict[str, pd.DataFrame], members: pd.DataFrame,
                    campaigns: pd.DataFrame, orders: pd.DataFrame, person_index: pd.DataFrame,
                    gross_margin: float, sample: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """Untreated rows for the purchase model: every person at a campaign's assignment date
    who was not in that campaign, with their outcomes in its window. Whether a person is
    drawn into an audience depends only on observables the features hold (recency,
    registration) and chance, so these rows teach the no-offer purchase probability with
    far more data than the control groups alone."""
    rng = np.random.default_rng(seed)
    camp = campaigns.set_index("campaign_id")
    parts = []
    for cid, rows in members.groupby("campaign_id", sort=True):
        key = str(pd.Timestamp(rows["cutoff_date"].iloc[0]).date())
        f = feature_tables[key]
        f = f[~f["person_id"].isin(rows["person_id"])]
        if sample < 1.0:
            f = f[rng.random(len(f)) < sample]
        out = window_outcomes(orders, person_index, camp.loc[cid, "start_date"],
                              camp.loc[cid, "end_date"], gross_margin)
        r = f.merge(out, on="person_id", how="left")
        r["campaign_id"] = cid
        parts.append(r)
    data = pd.concat(parts, ignore_index=True)
    for c in ("orders", "revenue", "basket", "coupon", "margin", "redeemed", "bought"):
        data[c] = data[c].fillna(0.0)
    data["treated"] = 0.0
    data["coupon_threshold"] = 0.0
    data["discount"] = 0.0
    return data
