"""Nodes of the profiles pipeline: the logic is in omnicrm.profiles."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.features.settings import engine_settings
from omnicrm.profiles.browse import browse_interests, browse_profile
from omnicrm.profiles.customer360 import campaign_history, customer_360
from omnicrm.profiles.evaluation import evaluate_browse_interests
from omnicrm.profiles.settings import profile_settings

log = logging.getLogger(__name__)

__all__ = ["build_browse_interests", "build_browse_profile", "build_customer_360",
           "evaluate_browse_interests"]


def _cutoff(person_features: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(person_features["cutoff_date"].iloc[0])


def build_browse_interests(events: pd.DataFrame, person_index: pd.DataFrame,
                           products: pd.DataFrame, person_features: pd.DataFrame,
                           profiles: dict, engine: dict | None = None) -> pd.DataFrame:
    """``browse_interests``: decayed interest score per person x category at the features'
    cut-off, on the feature engine."""
    s, where = profile_settings(profiles).browse, engine_settings(engine)
    out = browse_interests(events, person_index, products, _cutoff(person_features), s,
                           where.name, dict(where.options))
    log.info("browse_interests: %d person x category rows, %d persons, %d flagged",
             len(out), out["person_id"].nunique(), int(out["interested"].sum()))
    return out


def build_browse_profile(person_features: pd.DataFrame, browse_interests: pd.DataFrame,
                         profiles: dict) -> pd.DataFrame:
    """``browse_profile``: browse typology and top interests per person."""
    out = browse_profile(person_features, browse_interests, profile_settings(profiles).browse)
    log.info("browse typology: %s", out["browse_typology"].value_counts().to_dict())
    return out


def build_customer_360(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
                       customer_rfm: pd.DataFrame, person_demographics: pd.DataFrame,
                       customer_value: pd.DataFrame, churn_scores: pd.DataFrame,
                       winback_audience: pd.DataFrame, browse_profile: pd.DataFrame,
                       person_index: pd.DataFrame, campaign_members: pd.DataFrame,
                       campaigns: pd.DataFrame, coupon_redemptions: pd.DataFrame
                       ) -> pd.DataFrame:
    """``customer_360``: one row per person of ``person_features``."""
    history = campaign_history(person_index, campaign_members, campaigns, coupon_redemptions,
                               _cutoff(person_features))
    out = customer_360(person_features, customer_segments, customer_rfm, person_demographics,
                       customer_value, churn_scores, winback_audience, browse_profile, history)
    log.info("customer_360: %d persons x %d columns", len(out), out.shape[1])
    return out
