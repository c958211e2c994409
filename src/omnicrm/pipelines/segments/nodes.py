"""Nodes of the segments pipeline: the logic is in omnicrm.segments."""

from __future__ import annotations

from omnicrm.segments.evaluation import evaluate_segments
from omnicrm.segments.profiles import (
    fit_value_tiers,
    plot_segment_map,
    plot_tier_profiles,
    profile_value_tiers,
)
from omnicrm.segments.rules import assign_segments
from omnicrm.segments.tiers import ValueTierModel

__all__ = ["assign_segments", "evaluate_segments", "fit_value_tiers", "plot_segment_map",
           "plot_tier_profiles", "profile_value_tiers", "track_model"]


def track_model(model: ValueTierModel) -> ValueTierModel:
    """The fitted model again, for the catalog entry that logs it to the MLflow run."""
    return model
