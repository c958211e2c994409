"""Repurchase: 7-day buyers, second purchase within 45 days, person x category/brand propensity;
XGBoost tuned with Optuna on time-split cut-offs, baselines, SHAP reasons, campaign audience."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
