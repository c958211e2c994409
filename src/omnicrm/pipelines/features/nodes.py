"""Nodes of the features pipeline: raw tables + OneID person index -> ``person_features``."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.features import person_features, resolve_cutoff, source_tables
from omnicrm.features.settings import engine_settings, feature_settings

log = logging.getLogger(__name__)


def build_person_features(orders: pd.DataFrame, order_items: pd.DataFrame,
                          products: pd.DataFrame, events: pd.DataFrame,
                          campaign_members: pd.DataFrame, coupon_redemptions: pd.DataFrame,
                          registrations: pd.DataFrame, person_index: pd.DataFrame,
                          params: dict, engine: dict | None = None) -> pd.DataFrame:
    """One row per person at ``cutoff_date`` (null: the day after the last order),
    aggregated on the feature engine (duckdb, spark or pandas) with its options."""
    settings, where = feature_settings(params), engine_settings(engine)
    options, engine = dict(where.options), where.name
    cutoff = resolve_cutoff(settings.cutoff_date, orders)
    tables = source_tables(orders, order_items, events, campaign_members,
                           coupon_redemptions, registrations, person_index)
    features = person_features(tables, products, cutoff, settings, engine, options)
    log.info("person_features: %d persons x %d columns at cut-off %s on %s", len(features),
             features.shape[1], cutoff.date(), engine)
    return features
