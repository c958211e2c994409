"""Typed settings of the retention pipeline: the ``retention`` section of
conf/base/parameters_retention.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Literal

from omnicrm.config import Settings
from omnicrm.repurchase.settings import TunedSettings


class ChurnSettings(TunedSettings):
    """P(no purchase in the next ``horizon_days`` | bought within ``active_within_days``)."""

    active_within_days: int
    step_days: int
    top_reasons: int


class ValueSettings(Settings):
    """Customer lifetime value from a purchase-count model and the gamma-gamma spend model."""

    frequency_model: Literal["bgnbd", "paretonbd"]
    months: int
    annual_discount_rate: float
    expected_purchases_days: int
    holdout_days: int


class WinbackSettings(Settings):
    """Dormant and at-risk members ranked by a win-back offer's incremental effect."""

    min_days_since_purchase: int
    max_days_since_purchase: int
    dormant_from_days: int
    train_min_days_since_purchase: int
    outcome: Literal["bought", "margin"]
    audience_share: float
    learners: list[str]
    holdout_campaigns: int
    min_treated_buyers: int
    min_control_buyers: int
    band_low: float
    band_high: float
    xgb: dict[str, int | float]


class RetentionSettings(Settings):
    seed: int
    n_jobs: int
    churn: ChurnSettings
    value: ValueSettings
    winback: WinbackSettings
