"""Typed settings of the cross-sell pipeline: the ``crosssell`` section of
conf/base/parameters_crosssell.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Literal

from omnicrm.config import Settings

Level = Literal["category", "sku"]


class RuleSettings(Settings):
    """FP-growth itemsets and association rules per basket level."""

    window_days: int
    min_support: dict[Level, float]
    min_baskets: int
    min_confidence: float
    min_lift: float
    max_len: int
    segments: list[Literal["channel", "value_tier"]]
    min_segment_baskets: int


class BundleSettings(Settings):
    gross_margin: float
    level: Level
    top: int


class NextBestSettings(Settings):
    top_k: int
    horizon_days: int
    test_windows: int
    browse_days: int
    min_rule_support: float
    regularisation: float
    max_training_rows: int


class CrossSellSettings(Settings):
    seed: int
    rules: RuleSettings
    bundles: BundleSettings
    next_best: NextBestSettings
