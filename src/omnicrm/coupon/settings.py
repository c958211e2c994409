"""Typed settings of the coupon pipeline: the ``coupon`` section of
conf/base/parameters_coupon.yml (no defaults here: every value lives in conf, so a partial
dict fails by name instead of silently building another model)."""

from __future__ import annotations

from typing import Any, Literal

from omnicrm.config import Settings

Number = int | float  # as written in conf (an int stays an int)


class Menu(Settings):
    thresholds: list[Number]
    discounts: list[Number]


class OfferSegments(Settings):
    basket_bins: int
    lift_bins: int
    lift_axis: Literal["offer_model", "uplift_score"]


class Purchase(Settings):
    non_member_sample: float
    leaf_shares: list[float]
    max_rounds: int
    patience: int
    holdout_campaigns: int


class Effect(Settings):
    enabled: bool
    gammas: list[float]
    rounds: list[int]
    folds: int
    leaf_share: float
    xgb: dict[str, Any]


class Redemption(Settings):
    min_child_weights: list[float]
    rounds: int
    folds: int


class Basket(Settings):
    horizon_days: int


class Balance(Settings):
    covariates: list[str]
    max_smd: float
    smd_se_z: float
    on_imbalance: Literal["exclude", "warn", "raise"]


class Uplift(Settings):
    outcome: Literal["bought", "margin"]
    learners: list[str]
    holdout_campaigns: int
    select_by: Literal["qini", "auuc", "qini_per_campaign"]
    xgb: dict[str, Any]


class Budget(Settings):
    total: Number | None
    max_discount_per_customer: Number | None


class Evaluation(Settings):
    budget_share: float
    propensity_top_share: float
    heuristic_discount_rate: float


class RegisteredModels(Settings):
    uplift: str
    policy: str


class CouponSettings(Settings):
    seed: int
    registered_models: RegisteredModels
    gross_margin: float
    cost_per_offer: float
    window_days: int
    menu: Menu
    topup_range: float
    topup_share: float
    min_incremental_margin: float
    offer_segments: OfferSegments
    purchase: Purchase
    effect: Effect
    redemption: Redemption
    xgb: dict[str, Any]
    basket: Basket
    balance: Balance
    uplift: Uplift
    budget: Budget
    evaluation: Evaluation
