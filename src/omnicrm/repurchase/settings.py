"""Typed settings of the repurchase pipeline and of ``omnicrm repurchase evaluate``: the
``repurchase`` section of conf/base/parameters_repurchase.yml (no defaults here)."""

from __future__ import annotations

from typing import Literal

from omnicrm.config import Settings

Pruner = Literal["median", "hyperband", "none"]


class SplitSettings(Settings):
    """One model's label horizon and its train / validation / test cut-offs."""

    horizon_days: int
    train_cutoffs: int
    valid_cutoffs: int
    test_cutoffs: int
    max_estimators: int
    early_stopping_rounds: int
    exclude_features: list[str]


class TunedSettings(SplitSettings):
    """... tuned by an Optuna study on the validation cut-offs."""

    n_trials: int
    tune_sample_rows: int | None
    pruner: Pruner


class SevenDaySettings(TunedSettings):
    track_trials: bool
    register_as: str


class SecondPurchaseSettings(TunedSettings):
    new_buyer_days: int


class PropensitySettings(SplitSettings):
    top_categories: int
    top_brands: int
    xgboost: dict[str, int | float]


class TargetingSettings(Settings):
    min_days_since_purchase: int
    max_days_since_purchase: int
    band_by: Literal["quantile", "probability"]
    band_low: float
    band_high: float
    top_reasons: int


class TransactionLogSettings(Settings):
    """``omnicrm repurchase evaluate`` on any retailer's log (its options replace these)."""

    horizon_days: int
    training_cutoffs: int
    valid_cutoffs: int
    test_cutoffs: int
    step_days: int
    n_trials: int
    max_estimators: int
    early_stopping_rounds: int
    tune_sample_rows: int | None
    pruner: Pruner
    space: Literal["default", "small_data"]
    prior: Literal["bgnbd", "logistic"] | None
    bgnbd_features: bool
    stacking_features: bool
    timing_features: bool
    min_train_cutoffs: int
    min_history_days: int
    n_bootstrap: int
    engine: Literal["duckdb", "pandas"]
    seed: int
    n_jobs: int


class RepurchaseSettings(Settings):
    seed: int
    n_jobs: int
    cutoff_step_days: int
    reliability_bins: int
    shap_sample: int
    seven_day: SevenDaySettings
    second_purchase: SecondPurchaseSettings
    propensity: PropensitySettings
    targeting: TargetingSettings
    transaction_log: TransactionLogSettings
