"""Nodes of the segments pipeline: the logic is in omnicrm.segments."""

from __future__ import annotations

import pandas as pd

from omnicrm.features import source_tables
from omnicrm.features.settings import engine_settings
from omnicrm.segments.as_of import campaign_start_segments
from omnicrm.segments.evaluation import evaluate_segments
from omnicrm.segments.profiles import (
    fit_value_tiers,
    plot_segment_map,
    plot_tier_profiles,
    profile_value_tiers,
)
from omnicrm.segments.rfm import plot_rfm_grid, rfm_profile, rfm_table
from omnicrm.segments.rules import assign_segments
from omnicrm.segments.settings import segment_settings
from omnicrm.segments.tiers import ValueTierModel

__all__ = ["assign_segments", "build_customer_rfm", "evaluate_segments", "fit_value_tiers",
           "plot_rfm", "plot_segment_map", "plot_tier_profiles", "profile_rfm",
           "profile_value_tiers", "segments_at_campaign_starts", "track_model"]


def track_model(model: ValueTierModel) -> ValueTierModel:
    """The fitted model again, for the catalog entry that logs it to the MLflow run."""
    return model


def segments_at_campaign_starts(orders: pd.DataFrame, order_items: pd.DataFrame,
                                products: pd.DataFrame, events: pd.DataFrame,
                                campaign_members: pd.DataFrame,
                                coupon_redemptions: pd.DataFrame, registrations: pd.DataFrame,
                                person_index: pd.DataFrame, campaigns: pd.DataFrame,
                                value_tier_model: ValueTierModel, features: dict,
                                segments: dict, engine: dict | None = None) -> pd.DataFrame:
    """``campaign_segments``: every campaign member's tier, stage and RFM state as of the
    campaign's start, for the reports' segment cuts (omnicrm.segments.as_of)."""
    tables = source_tables(orders, order_items, events, campaign_members, coupon_redemptions,
                           registrations, person_index)
    where = engine_settings(engine)
    return campaign_start_segments(tables, products, campaigns, value_tier_model, features,
                                   segments, where.name, dict(where.options))


def build_customer_rfm(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
                       segments: dict) -> pd.DataFrame:
    """``customer_rfm``: R, F, M scores and the named RFM cell per person, next to the
    lifecycle stage (omnicrm.segments.rfm)."""
    return rfm_table(person_features, customer_segments, segment_settings(segments).rfm_grid)


def profile_rfm(customer_rfm: pd.DataFrame, segments: dict) -> pd.DataFrame:
    """``rfm_profile``: persons, spend and their shares per named cell."""
    return rfm_profile(customer_rfm, segment_settings(segments).rfm_grid)


def plot_rfm(customer_rfm: pd.DataFrame, segments: dict):
    """``rfm_grid_plot``: the R x FM heat maps (buyers, share of spend)."""
    return plot_rfm_grid(customer_rfm, segment_settings(segments).rfm_grid)
