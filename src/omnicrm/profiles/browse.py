"""Browse interests: a score per person x category from the views, collects and add-to-carts
of that category's SKUs, each event weighted by its kind and decayed exponentially with its
age (weights and half-life in conf), over the lookback window before the cut-off; a flag at
the interest threshold (the source material acts on a "dimension card" above a threshold);
and a browse typology per person (browses without buying, browses and buys, buys without
browsing, neither).

The event scan is narwhals over DuckDB (or Spark, pandas) like the feature store, the decay
included (an event's age from its calendar parts, exact to the second): what comes back is
one row per person x category; ranks and the typology are pandas on that.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from omnicrm.features import lazy_tables
from omnicrm.features.person_features import slug

from .settings import BrowseSettings

TYPOLOGY = ("browses_and_buys", "browses_without_buying", "buys_without_browsing", "neither")
INTEREST_COLUMNS = ["person_id", "cutoff_date", "category", "views", "collects", "carts",
                    "interest_score", "interest_rank", "interested"]


def day_number(column: str) -> nw.Expr:
    """Days since 1970-01-01 (with the time of day as a fraction) of a timestamp column,
    from its calendar parts: the same on DuckDB, Spark and pandas, which do not share a
    duration-to-seconds operation (Spark's narwhals backend lacks ``total_seconds``)."""
    t = nw.col(column).dt
    y = t.year()
    # days before 1 January of year y (Gregorian leap years), then the day of the year
    days = (365 * (y - 1970) + (y - 1969) // 4 - (y - 1901) // 100 + (y - 1601) // 400
            + t.ordinal_day() - 1)
    return days + (t.hour() * 3600 + t.minute() * 60 + t.second()) / 86400.0


def decay_weight(age_days, half_life_days: float):
    """0.5 ** (age / half-life): 1 today, 0.5 one half-life ago."""
    return np.exp(-math.log(2) * np.asarray(age_days, float) / half_life_days)


def browse_interests(events: Any, person_index: Any, products: pd.DataFrame,
                     cutoff: pd.Timestamp, s: BrowseSettings, engine: str = "duckdb",
                     engine_options: dict | None = None) -> pd.DataFrame:
    """One row per person x category browsed in the lookback: event counts, the decayed
    interest score ``sum(weight[kind] * 0.5 ** (age_days / half_life))``, its rank within
    the person (1 = strongest; ties by category name) and ``interested`` (score >=
    threshold)."""
    cut = cutoff.to_pydatetime()
    catalogue = pd.DataFrame({"sku": products["sku"].astype(str),
                              "category": products["category"].map(slug)})
    lazy = lazy_tables({"events": events, "person_index": person_index[["record_id",
                                                                          "person_id"]],
                        "products": catalogue}, engine, engine_options)
    rate = math.log(2) / s.half_life_days
    kinds = dict(s.weights)
    weight = nw.lit(0.0)
    for kind, w in kinds.items():
        weight = nw.when(nw.col("event_type") == kind).then(nw.lit(w)).otherwise(weight)
    cut_day = (cutoff - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    age_days = nw.lit(cut_day) - day_number("event_at")
    scored = (lazy["events"]
              .filter((nw.col("event_at") < nw.lit(cut))
                      & (nw.col("event_at") >= nw.lit(cut - timedelta(days=s.lookback_days)))
                      & nw.col("event_type").is_in(list(kinds)))
              .join(lazy["person_index"], on="record_id", how="inner")
              .join(lazy["products"], on="sku", how="inner")
              .with_columns(score=weight * (age_days * -rate).exp(),
                            **{f"{k}s": nw.when(nw.col("event_type") == k).then(nw.lit(1))
                               .otherwise(nw.lit(0)) for k in ("view", "collect", "cart")})
              .group_by("person_id", "category")
              .agg(nw.col("views").sum(), nw.col("collects").sum(), nw.col("carts").sum(),
                   nw.col("score").sum().alias("interest_score")))
    out = scored.collect(backend="pandas").to_native()
    out = out.sort_values(["person_id", "interest_score", "category"],
                          ascending=[True, False, True], kind="stable").reset_index(drop=True)
    out["person_id"] = out["person_id"].astype(str)
    for c in ("views", "collects", "carts"):
        out[c] = out[c].astype("int64")
    out["interest_score"] = out["interest_score"].astype(float)
    out["interest_rank"] = out.groupby("person_id").cumcount() + 1
    out["interested"] = out["interest_score"] >= s.threshold
    out["cutoff_date"] = cutoff
    return out[INTEREST_COLUMNS]


def browse_profile(person_features: pd.DataFrame, interests: pd.DataFrame,
                   s: BrowseSettings) -> pd.DataFrame:
    """One row per person of ``person_features``: browse typology over the lookback (browsed
    = any scored event, bought = an order in the lookback), the top interest category, the
    top three, the number of categories above the threshold and the total score."""
    f = person_features[["person_id", "cutoff_date", "recency_days"]].reset_index(drop=True)
    by_person = interests.groupby("person_id")
    top3 = interests[interests["interest_rank"] <= 3].groupby("person_id")["category"] \
        .agg(", ".join)
    summary = pd.DataFrame({
        "browse_score": by_person["interest_score"].sum(),
        "interested_categories": by_person["interested"].sum(),
        "top_interest_category": interests[interests["interest_rank"] == 1]
        .set_index("person_id")["category"],
        "top3_interest_categories": top3}).reindex(f["person_id"])
    browsed = summary["browse_score"].fillna(0).to_numpy() > 0
    bought = (f["recency_days"] <= s.lookback_days).to_numpy()
    out = f[["person_id", "cutoff_date"]].copy()
    out["browse_typology"] = np.select(
        [browsed & bought, browsed, bought], list(TYPOLOGY[:3]), TYPOLOGY[3])
    out["browse_score"] = summary["browse_score"].fillna(0.0).to_numpy()
    out["interested_categories"] = summary["interested_categories"].fillna(0) \
        .astype("int64").to_numpy()
    out["top_interest_category"] = summary["top_interest_category"].to_numpy()
    out["top3_interest_categories"] = summary["top3_interest_categories"].to_numpy()
    return out
