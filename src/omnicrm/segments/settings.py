"""Typed settings of the segments pipeline: the ``segments`` section of
conf/base/parameters_segments.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any

from omnicrm.config import Settings, settings_from


class Lifecycle(Settings):
    dormant_days: int
    lost_days: int
    loyal_min_orders: int
    loyal_min_spend: float
    engagement_window_days: int


class Rfm(Settings):
    new_days: int
    active_days: int
    at_risk_days: int


class Tags(Settings):
    tag_min_orders: int
    price_sensitive_min: float
    trend_chaser_min: float
    new_visitor_days: int


class SegmentSettings(Settings):
    n_tiers: int
    weights: dict[str, float]
    fit_sample: int
    fit_min_orders: int
    fit_min_persons: int
    seed: int
    silhouette_sample: int
    bootstrap_rounds: int
    lifecycle: Lifecycle
    rfm: Rfm
    tags: Tags


def segment_settings(params: SegmentSettings | dict[str, Any] | None = None,
                     env: str | None = None) -> SegmentSettings:
    """``params:segments`` (or a few keys over conf's, e.g. ``{"bootstrap_rounds": 3}``)."""
    return settings_from(SegmentSettings, "segments", params, env)
