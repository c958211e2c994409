"""Segments as of each campaign's start: the cut a campaign report may use.

``customer_segments`` describes persons at the data's last day; for a past campaign that is
after the campaign, so a tier or stage the campaign itself moved people into would be a
post-treatment cut (biased lifts by segment). Here every campaign's members get the same
features and the same fitted tier model and rules as ``customer_segments``, computed with the
campaign's start as the cut-off."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.features import person_features

from .rules import assign_segments

log = logging.getLogger(__name__)

COLUMNS = ["campaign_id", "person_id", "cutoff_date", "value_tier", "value_tier_name",
           "lifecycle_stage", "rfm_state"]


def _for_persons(tables: dict[str, pd.DataFrame], persons: set) -> dict[str, pd.DataFrame]:
    """The feature source tables cut to the records of ``persons`` (a person's features read
    only their own records, so the cut changes nothing for them and saves the rest)."""
    index = tables["person_index"]
    index = index[index["person_id"].isin(persons)]
    records = set(index["record_id"])
    out = {"person_index": index}
    for name in ("orders", "events", "campaign_members", "coupon_redemptions",
                 "registrations"):
        frame = tables[name]
        out[name] = frame[frame["record_id"].isin(records)]
    orders = set(out["orders"]["order_id"])
    items = tables["order_items"]
    out["order_items"] = items[items["order_id"].isin(orders)]
    return out


def campaign_start_segments(tables: dict[str, pd.DataFrame], products: pd.DataFrame,
                            campaigns: pd.DataFrame, value_tier_model, feature_params,
                            segment_params: dict, engine: str = "duckdb",
                            engine_options: dict | None = None) -> pd.DataFrame:
    """One row per campaign and member person: value tier, lifecycle stage and RFM state as of
    the campaign's start (features with that cut-off, the fitted tier model, the rules).

    ``tables``: the feature source tables (omnicrm.features.source_tables)."""
    index = tables["person_index"].drop_duplicates("record_id").set_index("record_id")
    members = tables["campaign_members"]
    parts = []
    for c in campaigns.sort_values("start_date").itertuples(index=False):
        start = pd.Timestamp(c.start_date).normalize()
        recs = members.loc[members["campaign_id"] == c.campaign_id, "record_id"]
        persons = set(index["person_id"].reindex(recs).dropna())
        if not persons:
            continue
        sub = _for_persons(tables, persons)
        features = person_features(sub, products, start, feature_params, engine,
                                   engine_options)
        features = features[features["person_id"].isin(persons)]
        if features.empty:  # nobody had registered before the start
            continue
        seg = assign_segments(features, value_tier_model, segment_params)
        parts.append(seg.assign(campaign_id=c.campaign_id)[COLUMNS])
        log.info("segments as of %s for campaign %s: %d persons", start.date(),
                 c.campaign_id, len(seg))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return pd.concat(parts, ignore_index=True)

