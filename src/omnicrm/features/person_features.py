"""The feature store: one row per person at a cut-off date, from orders, order items, online
events, campaign assignments, coupon redemptions and channel registrations.

The heavy part (filter, join, group-by over tens of millions of rows) is narwhals lazy
expressions, so it runs unchanged on DuckDB, PySpark or pandas; what comes back is one row per
person with sums, counts and first/last times, and :func:`finalise` turns those into rates,
shares and day counts in pandas (a per-person table fits in memory).

Point in time: every timed table is filtered to ``time < cutoff`` before anything else, so no
feature can see the cut-off day or later. Product attributes are static catalogue data.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from omnicrm.contracts import CHANNELS

from .settings import FeatureSettings, feature_settings

EVENT_TYPES = ("view", "collect", "cart", "purchase")


def feature_domain(name: str) -> tuple[float, float]:
    """The values a feature of :func:`person_features` can take, [low, high]: shares and rates
    lie in [0, 1], the purchase trend in [-1, 1], everything else (counts, days, money, the
    log basket of a basket clipped at 1 CNY) is >= 0. A value outside cannot come from the
    feature store: a scorer refuses it instead of scoring nonsense."""
    if "_share" in name or name.endswith("_rate"):
        return 0.0, 1.0
    if name == "purchase_trend":
        return -1.0, 1.0
    return 0.0, float("inf")


def source_tables(orders, order_items, events, campaign_members, coupon_redemptions,
                  registrations, person_index) -> dict[str, Any]:
    """The tables :func:`person_features` reads, by name (``person_index`` cut to record_id,
    person_id): the one place the pipelines that build features assemble them."""
    return {"orders": orders, "order_items": order_items, "events": events,
            "campaign_members": campaign_members, "coupon_redemptions": coupon_redemptions,
            "registrations": registrations,
            "person_index": person_index[["record_id", "person_id"]]}


def slug(value: str) -> str:
    """'Maison Lin' -> 'maison_lin': a value as part of a column name."""
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_")


def resolve_cutoff(cutoff_date: str | None, orders: Any) -> pd.Timestamp:
    """The cut-off as a midnight timestamp: the configured date, or by default the day after
    the last order (the data's 'today'). ``orders`` may be any frame narwhals understands."""
    if cutoff_date:
        return pd.Timestamp(cutoff_date).normalize()
    frame = nw.from_native(orders)
    if isinstance(frame, nw.DataFrame):
        frame = frame.lazy()
    last = frame.select(nw.col("ordered_at").max()).collect(backend="pandas").to_native()
    return pd.Timestamp(last.iloc[0, 0]).normalize() + pd.Timedelta(days=1)


def product_attributes(products: pd.DataFrame, new_arrival_days: int) -> pd.DataFrame:
    """The small catalogue, enriched eagerly: slugged attribute values and the time until
    which a SKU counts as a new arrival."""
    launched = pd.to_datetime(products["launched_on"])
    return pd.DataFrame({
        "sku": products["sku"].astype(str),
        "category": products["category"].map(slug),
        "brand": products["brand"].map(slug),
        "colour": products["colour"].map(slug),
        "style": products["style"].map(slug),
        "imported": products["imported"].astype(bool),
        "new_until": (launched + pd.Timedelta(days=new_arrival_days)).astype("datetime64[us]"),
    })


def attribute_values(attrs: pd.DataFrame) -> dict[str, list[str]]:
    """The category, brand, colour and style values that get a share column."""
    return {a: sorted(attrs[a].unique()) for a in ("category", "brand", "colour", "style")}


def _if(cond, value=None):
    """value where cond, else 0 (1/0 when value is None): a column to sum per person."""
    then = nw.lit(1) if value is None else value
    return nw.when(cond).then(then).otherwise(nw.lit(0))


def _per_person(frame: nw.LazyFrame, sums: dict, *aggs) -> nw.LazyFrame:
    """Group by person: the conditional columns ``sums`` are computed row-wise first and then
    summed with plain aggregations (which every backend, pandas included, supports)."""
    return (frame.with_columns(**sums).group_by("person_id")
            .agg(*aggs, *[nw.col(name).sum() for name in sums]))


def aggregate(tables: dict[str, nw.LazyFrame], cutoff: pd.Timestamp,
              values: dict[str, list[str]], params: FeatureSettings | dict | None = None
              ) -> nw.LazyFrame:
    """The engine part: one row per person with raw sums, counts and times.

    ``tables``: orders, order_items, events, campaign_members, coupon_redemptions,
    registrations (record_id, channel, registered_at), person_index (record_id, person_id) and
    products (as :func:`product_attributes`), all narwhals LazyFrames of one engine."""
    p = feature_settings(params)
    cut = cutoff.to_pydatetime()

    def since(days: int) -> datetime:
        return cut - timedelta(days=days)

    ids = tables["person_index"].select("record_id", "person_id")

    regs = _per_person(
        tables["registrations"].filter(nw.col("registered_at") < nw.lit(cut))
        .join(ids, on="record_id", how="inner"),
        {f"records_{c}": _if(nw.col("channel") == c) for c in CHANNELS},
        nw.col("registered_at").min().alias("first_registered_at"),
        nw.col("record_id").count().alias("n_records"))

    orders = (tables["orders"].filter(nw.col("ordered_at") < nw.lit(cut))
              .join(ids, on="record_id", how="inner")
              .with_columns(basket=nw.col("paid_amount") + nw.col("coupon_discount"),
                            hour=nw.col("ordered_at").dt.hour()))
    spend_w, trend_w = p.spend_window_days, p.trend_window_days
    in_year = nw.col("ordered_at") >= nw.lit(since(spend_w))
    in_recent = nw.col("ordered_at") >= nw.lit(since(trend_w))
    in_prior = (nw.col("ordered_at") >= nw.lit(since(2 * trend_w))) & ~in_recent
    order_sums = {
        "log_basket_sum": nw.col("basket").clip(lower_bound=1.0).log(),
        "spend_year": _if(in_year, nw.col("paid_amount")),
        "items_year": _if(in_year, nw.col("item_count")),
        "baskets_year": _if(in_year),
        "spend_recent": _if(in_recent, nw.col("paid_amount")),
        "spend_prior": _if(in_prior, nw.col("paid_amount")),
        "promo_orders": _if(nw.col("discount_amount") > 0),
        **{f"orders_{c}": _if(nw.col("channel") == c) for c in CHANNELS},
        **{f"orders_{name}": _if((nw.col("hour") >= lo) & (nw.col("hour") < hi))
           for name, (lo, hi) in p.hour_buckets.items()},
    }
    order_aggs = _per_person(
        orders, order_sums,
        nw.col("order_id").count().alias("orders"),
        nw.col("paid_amount").sum().alias("spend_total"),
        nw.col("list_amount").sum().alias("list_total"),
        nw.col("discount_amount").sum().alias("discount_total"),
        nw.col("coupon_discount").sum().alias("coupon_discount_total"),
        nw.col("item_count").sum().alias("items_total"),
        nw.col("ordered_at").min().alias("first_order_at"),
        nw.col("ordered_at").max().alias("last_order_at"))

    items = (tables["order_items"]
             .join(orders.select("order_id", "person_id", "ordered_at"), on="order_id",
                   how="inner")
             .join(tables["products"], on="sku", how="left"))
    qty = nw.col("quantity")
    item_aggs = _per_person(
        items,
        {"qty_imported": _if(nw.col("imported"), qty),
         "qty_new_arrival": _if(nw.col("ordered_at") < nw.col("new_until"), qty),
         **{f"qty_{attr}_{v}": _if(nw.col(attr) == v, qty)
            for attr, vals in values.items() for v in vals}},
        qty.sum().alias("qty_total"))

    windows = sorted(p.event_windows_days)
    events = (tables["events"]
              .filter((nw.col("event_at") < nw.lit(cut))
                      & (nw.col("event_at") >= nw.lit(since(windows[-1]))))
              .join(ids, on="record_id", how="inner"))
    event_aggs = _per_person(
        events, {f"{t}s_{w}d": _if((nw.col("event_type") == t)
                                   & (nw.col("event_at") >= nw.lit(since(w))))
                 for t in EVENT_TYPES for w in windows})

    assigned = _per_person(
        tables["campaign_members"].filter(nw.col("assigned_at") < nw.lit(cut))
        .join(ids, on="record_id", how="inner"),
        {"campaigns_treated": _if(nw.col("group") == "treatment"),
         "campaigns_control": _if(nw.col("group") == "control")})
    redeemed = (tables["coupon_redemptions"].filter(nw.col("redeemed_at") < nw.lit(cut))
                .join(ids, on="record_id", how="inner")
                .group_by("person_id")
                .agg(nw.col("coupon_id").count().alias("coupons_redeemed"),
                     nw.col("discount").sum().alias("coupon_value_redeemed")))

    out = regs
    for part in (order_aggs, item_aggs, event_aggs, assigned, redeemed):
        out = out.join(part, on="person_id", how="left")
    return out


def finalise(raw: pd.DataFrame, cutoff: pd.Timestamp, values: dict[str, list[str]],
             params: FeatureSettings | dict | None = None) -> pd.DataFrame:
    """Per-person sums -> the feature table (rates, shares, day counts), sorted by person."""
    p = feature_settings(params)
    raw = raw.sort_values("person_id").reset_index(drop=True)
    times = ("first_registered_at", "first_order_at", "last_order_at")
    counts = raw.drop(columns=["person_id", *times]).astype("float64").fillna(0.0)
    t = {c: pd.to_datetime(raw[c]).astype("datetime64[us]") for c in times}
    day = pd.Timedelta(days=1)

    def ratio(num, den) -> np.ndarray:
        num, den = np.asarray(num, float), np.asarray(den, float)
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    orders = counts["orders"]
    buyer = orders > 0
    recency = (cutoff - t["last_order_at"]) / day
    tenure = (cutoff - t["first_order_at"]) / day
    f = pd.DataFrame({"person_id": raw["person_id"].astype(str)})
    f["cutoff_date"] = cutoff
    # RFM and the deck's buying-behaviour variables
    f["recency_days"] = recency.to_numpy(dtype=float)             # NaN: never bought
    f["frequency"] = orders.to_numpy()
    f["monetary"] = counts["spend_total"].to_numpy()
    f["spend_year"] = counts["spend_year"].to_numpy()
    f["items_year"] = counts["items_year"].to_numpy()
    f["baskets_year"] = counts["baskets_year"].to_numpy()
    # orders a year since the first one (at least a quarter, so one early order is not 4/yr)
    f["orders_per_year"] = ratio(orders, np.maximum(tenure.fillna(0).to_numpy(), 91.0) / 365.0)
    f["avg_order_value"] = ratio(counts["spend_total"], orders)
    f["avg_basket_log"] = np.where(buyer, ratio(counts["log_basket_sum"], orders), np.nan)
    f["months_since_last_purchase"] = recency.to_numpy(dtype=float) / (365.25 / 12)
    f["tenure_days"] = tenure.to_numpy(dtype=float)
    f["imported_share"] = ratio(counts["qty_imported"], counts["qty_total"])
    f["new_arrival_share"] = ratio(counts["qty_new_arrival"], counts["qty_total"])
    recent, prior = counts["spend_recent"], counts["spend_prior"]
    f[f"spend_last_{p.trend_window_days}d"] = recent.to_numpy()
    f[f"spend_prior_{p.trend_window_days}d"] = prior.to_numpy()
    # -1 (stopped) .. +1 (only recently): last window vs the one before
    f["purchase_trend"] = ratio(recent - prior, recent + prior)
    for attr, vals in values.items():
        for v in vals:
            f[f"{attr}_share_{v}"] = ratio(counts[f"qty_{attr}_{v}"], counts["qty_total"])
    for c in CHANNELS:
        f[f"channel_share_{c}"] = ratio(counts[f"orders_{c}"], orders)
    for name in p.hour_buckets:
        f[f"hour_share_{name}"] = ratio(counts[f"orders_{name}"], orders)
    for tpe in EVENT_TYPES:
        for w in sorted(p.event_windows_days):
            f[f"{tpe}s_{w}d"] = counts[f"{tpe}s_{w}d"].to_numpy()
    f["discount_share"] = ratio(counts["discount_total"] + counts["coupon_discount_total"],
                                counts["list_total"])
    f["promo_order_share"] = ratio(counts["promo_orders"], orders)
    f["campaigns_treated"] = counts["campaigns_treated"].to_numpy()
    f["campaigns_control"] = counts["campaigns_control"].to_numpy()
    f["coupons_redeemed"] = counts["coupons_redeemed"].to_numpy()
    f["coupon_value_redeemed"] = counts["coupon_value_redeemed"].to_numpy()
    f["coupon_redemption_rate"] = ratio(counts["coupons_redeemed"], counts["campaigns_treated"])
    f["days_since_registration"] = ((cutoff - t["first_registered_at"]) / day).to_numpy(float)
    f["n_records"] = counts["n_records"].to_numpy()
    for c in CHANNELS:
        f[f"has_{c}"] = counts[f"records_{c}"].to_numpy() > 0
    return f


def feature_columns(features: pd.DataFrame) -> list[str]:
    """The numeric feature columns (everything but the keys)."""
    return [c for c in features.columns if c not in ("person_id", "cutoff_date")]


def person_features(tables: dict[str, Any], products: pd.DataFrame, cutoff: pd.Timestamp,
                    params: FeatureSettings | dict | None = None, engine: str = "duckdb",
                    engine_options: dict | None = None) -> pd.DataFrame:
    """The feature table for every person with a member record registered before ``cutoff``.

    ``tables`` as in :func:`aggregate` but without products, as pandas frames or native lazy
    frames of ``engine``; ``products`` is the raw catalogue (small, enriched in pandas)."""
    from .engine import lazy_tables

    p = feature_settings(params)
    attrs = product_attributes(products, p.new_arrival_days)
    values = attribute_values(attrs)
    lazy = lazy_tables({**tables, "products": attrs}, engine, engine_options)
    raw = aggregate(lazy, cutoff, values, p)
    return finalise(raw.collect(backend="pandas").to_native(), cutoff, values, p)

