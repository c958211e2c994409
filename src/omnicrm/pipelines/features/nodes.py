"""Nodes of the features pipeline: raw tables + OneID person index -> ``person_features``."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.features import person_features, resolve_cutoff

log = logging.getLogger(__name__)

MEMBER_TABLES = ("pos", "tmall", "wechat", "web")


def member_registrations(pos_members: pd.DataFrame, tmall_members: pd.DataFrame,
                         wechat_members: pd.DataFrame, web_members: pd.DataFrame
                         ) -> pd.DataFrame:
    """When each member record registered, in which channel: the only member columns the
    features need (no personal data goes further)."""
    parts = [df[["record_id", "registered_at"]].assign(channel=channel)
             for channel, df in zip(MEMBER_TABLES,
                                    (pos_members, tmall_members, wechat_members, web_members))]
    return pd.concat(parts, ignore_index=True)[["record_id", "channel", "registered_at"]]


def build_person_features(orders: pd.DataFrame, order_items: pd.DataFrame,
                          products: pd.DataFrame, events: pd.DataFrame,
                          campaign_members: pd.DataFrame, coupon_redemptions: pd.DataFrame,
                          registrations: pd.DataFrame, person_index: pd.DataFrame,
                          params: dict, engine: dict | None = None) -> pd.DataFrame:
    """One row per person at ``params['cutoff_date']`` (default: the day after the last order),
    aggregated on ``engine['name']`` (duckdb, spark or pandas) with ``engine['options']``."""
    engine = engine or {}
    options = dict(engine.get("options") or {})
    engine = engine.get("name", "duckdb")
    cutoff = resolve_cutoff(params.get("cutoff_date"), orders)
    tables = {"orders": orders, "order_items": order_items, "events": events,
              "campaign_members": campaign_members, "coupon_redemptions": coupon_redemptions,
              "registrations": registrations,
              "person_index": person_index[["record_id", "person_id"]]}
    features = person_features(tables, products, cutoff, params, engine, options)
    log.info("person_features: %d persons x %d columns at cut-off %s on %s", len(features),
             features.shape[1], cutoff.date(), engine)
    return features
