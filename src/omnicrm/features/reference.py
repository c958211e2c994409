"""The same per-person aggregation written as plain in-memory pandas: the benchmark's peer and
an independent oracle for the narwhals version in the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .person_features import (
    CHANNELS,
    EVENT_TYPES,
    attribute_values,
    finalise,
    product_attributes,
)
from .settings import FeatureSettings, feature_settings


def person_features_pandas(orders: pd.DataFrame, order_items: pd.DataFrame,
                           products: pd.DataFrame, events: pd.DataFrame,
                           campaign_members: pd.DataFrame, coupon_redemptions: pd.DataFrame,
                           registrations: pd.DataFrame, person_index: pd.DataFrame,
                           cutoff: pd.Timestamp, params: FeatureSettings | dict | None = None
                           ) -> pd.DataFrame:
    p = feature_settings(params)
    attrs = product_attributes(products, p.new_arrival_days)
    values = attribute_values(attrs)
    ids = person_index[["record_id", "person_id"]]
    day = pd.Timedelta(days=1)

    r = registrations[registrations["registered_at"] < cutoff].merge(ids, on="record_id")
    regs = r.groupby("person_id").agg(first_registered_at=("registered_at", "min"),
                                      n_records=("record_id", "size"))
    for c in CHANNELS:
        regs[f"records_{c}"] = (r["channel"] == c).groupby(r["person_id"]).sum()

    o = orders[orders["ordered_at"] < cutoff].merge(ids, on="record_id")
    o["basket"] = o["paid_amount"] + o["coupon_discount"]
    o["log_basket"] = np.log(o["basket"].clip(lower=1.0))
    hour = o["ordered_at"].dt.hour
    in_year = o["ordered_at"] >= cutoff - p.spend_window_days * day
    tw = p.trend_window_days
    recent = o["ordered_at"] >= cutoff - tw * day
    prior = (o["ordered_at"] >= cutoff - 2 * tw * day) & ~recent
    o["spend_year"] = o["paid_amount"].where(in_year, 0.0)
    o["items_year"] = o["item_count"].where(in_year, 0)
    o["baskets_year"] = in_year.astype(int)
    o["spend_recent"] = o["paid_amount"].where(recent, 0.0)
    o["spend_prior"] = o["paid_amount"].where(prior, 0.0)
    o["promo_orders"] = (o["discount_amount"] > 0).astype(int)
    for c in CHANNELS:
        o[f"orders_{c}"] = (o["channel"] == c).astype(int)
    for name, (lo, hi) in p.hour_buckets.items():
        o[f"orders_{name}"] = ((hour >= lo) & (hour < hi)).astype(int)
    g = o.groupby("person_id")
    order_aggs = g.agg(orders=("order_id", "size"), spend_total=("paid_amount", "sum"),
                       list_total=("list_amount", "sum"),
                       discount_total=("discount_amount", "sum"),
                       coupon_discount_total=("coupon_discount", "sum"),
                       log_basket_sum=("log_basket", "sum"), items_total=("item_count", "sum"),
                       first_order_at=("ordered_at", "min"), last_order_at=("ordered_at", "max"))
    sums = ["spend_year", "items_year", "baskets_year", "spend_recent", "spend_prior",
            "promo_orders", *[f"orders_{c}" for c in CHANNELS],
            *[f"orders_{n}" for n in p.hour_buckets]]
    order_aggs = order_aggs.join(g[sums].sum())

    it = (order_items.merge(o[["order_id", "person_id", "ordered_at"]], on="order_id")
          .merge(attrs, on="sku", how="left"))
    q = it["quantity"]
    cols = {"qty_total": q, "qty_imported": q.where(it["imported"].fillna(False).astype(bool), 0),
            "qty_new_arrival": q.where(it["ordered_at"] < it["new_until"], 0)}
    for attr, vals in values.items():
        for v in vals:
            cols[f"qty_{attr}_{v}"] = q.where(it[attr] == v, 0)
    item_aggs = pd.DataFrame(cols).groupby(it["person_id"]).sum()

    windows = sorted(p.event_windows_days)
    e = events[(events["event_at"] < cutoff) & (events["event_at"] >= cutoff - windows[-1] * day)]
    e = e.merge(ids, on="record_id")
    ecols = {f"{t}s_{w}d": ((e["event_type"] == t) & (e["event_at"] >= cutoff - w * day))
             .astype(int) for t in EVENT_TYPES for w in windows}
    event_aggs = pd.DataFrame(ecols).groupby(e["person_id"]).sum()

    cm = campaign_members[campaign_members["assigned_at"] < cutoff].merge(ids, on="record_id")
    assigned = pd.DataFrame({"campaigns_treated": (cm["group"] == "treatment").astype(int),
                             "campaigns_control": (cm["group"] == "control").astype(int)}
                            ).groupby(cm["person_id"]).sum()
    cr = coupon_redemptions[coupon_redemptions["redeemed_at"] < cutoff].merge(ids, on="record_id")
    redeemed = cr.groupby("person_id").agg(coupons_redeemed=("coupon_id", "size"),
                                           coupon_value_redeemed=("discount", "sum"))

    raw = regs
    for part in (order_aggs, item_aggs, event_aggs, assigned, redeemed):
        raw = raw.join(part, how="left")
    return finalise(raw.reset_index(), cutoff, values, p)

