"""Typed settings of the segments pipeline: the ``segments`` section of
conf/base/parameters_segments.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

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


class RfmGrid(Settings):
    """The RFM grid (omnicrm.segments.rfm): score edges and the named cells on R x FM."""

    edges: dict[str, list[float] | None]
    cells: dict[int, list[str]]

    @field_validator("edges")
    @classmethod
    def _four_edges(cls, v: dict) -> dict:
        for col, edges in v.items():
            if col not in ("recency_days", "frequency", "monetary"):
                raise ValueError(f"no RFM score is computed from {col!r}")
            if edges is not None and (len(edges) != 4 or sorted(edges) != list(edges)):
                raise ValueError(f"{col}: four increasing edges (five scores), got {edges}")
        return v

    @field_validator("cells")
    @classmethod
    def _five_by_five(cls, v: dict) -> dict:
        if sorted(v) != [1, 2, 3, 4, 5] or any(len(row) != 5 for row in v.values()):
            raise ValueError("one row of five cell names (FM 1..5) for each R score 1..5")
        return v


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
    rfm_grid: RfmGrid


def segment_settings(params: SegmentSettings | dict[str, Any] | None = None,
                     env: str | None = None) -> SegmentSettings:
    """``params:segments`` (or a few keys over conf's, e.g. ``{"bootstrap_rounds": 3}``)."""
    return settings_from(SegmentSettings, "segments", params, env)
