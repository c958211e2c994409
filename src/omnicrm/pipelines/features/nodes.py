"""Nodes of the features pipeline: raw tables + OneID person index -> ``person_features``."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.features import person_features, resolve_cutoff, source_tables
from omnicrm.features.demographics import person_demographics
from omnicrm.features.settings import demographic_settings, engine_settings, feature_settings

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


def build_person_demographics(person_features: pd.DataFrame, golden_records: pd.DataFrame,
                              stores: pd.DataFrame, params: dict) -> pd.DataFrame:
    """``person_demographics``: gender, age band, province and city tier per person of
    ``person_features`` (derived values only; omnicrm.features.demographics)."""
    demographics = person_demographics(person_features, golden_records, stores,
                                       demographic_settings(params))
    log.info("person_demographics: %d persons; age bands %s", len(demographics),
             demographics["age_band"].value_counts().to_dict())
    return demographics
