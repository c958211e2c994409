"""Labels from observed orders (no truth needed): who bought, who bought again, who bought which
category or brand in the window [cutoff, cutoff + horizon)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.features.person_features import slug

from .training import bought_in_window, person_orders

__all__ = ["bought_in_window", "item_purchases", "label_cutoffs", "person_orders",
           "top_values"]


def item_purchases(orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame,
                   person_index: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """person_id, ordered_at, value (the slugged category or brand of each item bought)."""
    po = person_orders(orders, person_index)
    items = order_items[["order_id", "sku"]].merge(
        products[["sku", attribute]], on="sku", how="inner")
    items["value"] = items[attribute].map(slug)
    return items.merge(po, on="order_id", how="inner")[["person_id", "ordered_at", "value"]]


def top_values(purchases: pd.DataFrame, before: pd.Timestamp, n: int, days: int = 365
               ) -> list[str]:
    """The ``n`` values (categories, brands) bought by most persons in the ``days`` before
    ``before``."""
    recent = purchases[(purchases["ordered_at"] < before)
                       & (purchases["ordered_at"] >= before - pd.Timedelta(days=days))]
    counts = recent.groupby("value")["person_id"].nunique().sort_values(ascending=False)
    return counts.index[:n].tolist()


def label_cutoffs(frame: pd.DataFrame, purchases: pd.DataFrame, horizon_days: int,
                  name: str = "label") -> pd.DataFrame:
    """``frame`` (person_id, cutoff_date, ...) with ``name`` = 1 if the person has a row in
    ``purchases`` within [cutoff, cutoff + horizon)."""
    out = frame.copy()
    out[name] = np.zeros(len(out), dtype=np.int8)
    for cutoff, rows in out.groupby("cutoff_date").groups.items():
        out.loc[rows, name] = bought_in_window(purchases, out.loc[rows, "person_id"],
                                               pd.Timestamp(cutoff), horizon_days)
    return out
