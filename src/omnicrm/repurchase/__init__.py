"""Repurchase models: who buys in the next 7 days, who makes a second purchase within 45 days,
person x category propensity; XGBoost + Optuna, BG/NBD and heuristic baselines, SHAP reasons."""
