"""Basket-value model: quantile regression (XGBoost, pinball loss) of the log basket of a
person's next orders on their features, read as a per-person log-normal so the chance a
basket reaches a threshold X, and the value within reach of it, have closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from xgboost import XGBRegressor

from .training import as_matrix

QUANTILES = (0.1, 0.5, 0.9)
Z90 = float(norm.ppf(0.9))


class BasketModel:
    """Predicts mu and sigma of log(basket before coupons) per person."""

    def __init__(self, feature_names: list[str], xgb: dict | None = None, seed: int = 0,
                 sigma_bounds: tuple[float, float] = (0.15, 1.2)):
        self.feature_names = list(feature_names)
        self.xgb = {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.05,
                    "min_child_weight": 5.0, "subsample": 0.8, "n_jobs": 2,
                    "tree_method": "hist", **(xgb or {})}
        self.seed = seed
        self.sigma_bounds = sigma_bounds

    def fit(self, features: pd.DataFrame, log_basket: np.ndarray) -> BasketModel:
        self.model = XGBRegressor(objective="reg:quantileerror",
                                  quantile_alpha=np.array(QUANTILES), random_state=self.seed,
                                  **self.xgb)
        self.model.fit(as_matrix(features, self.feature_names), np.asarray(log_basket, float))
        return self

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        q = np.sort(self.model.predict(as_matrix(features, self.feature_names)), axis=1)
        sigma = np.clip((q[:, 2] - q[:, 0]) / (2 * Z90), *self.sigma_bounds)
        return q[:, 1], sigma


def lognormal_tail(x, mu, sigma):
    """P(V >= x) and E[V; V >= x] for V ~ LogNormal(mu, sigma)."""
    x = np.maximum(np.asarray(x, float), 1e-9)
    z = (np.log(x) - mu) / sigma
    mean = np.exp(mu + sigma**2 / 2)
    return norm.sf(z), mean * norm.sf(z - sigma)


def basket_training_rows(feature_tables: dict[str, pd.DataFrame], orders: pd.DataFrame,
                         person_index: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Features at each cut-off joined to the person's orders in the following
    ``horizon_days`` that used no coupon (a coupon moves the basket): one row per order, with
    ``log_basket`` = log(paid + promotion-free coupon amount)."""
    idx = person_index[["record_id", "person_id"]].drop_duplicates("record_id")
    o = orders[orders["coupon_discount"].fillna(0) <= 0].merge(idx, on="record_id")
    parts = []
    for key, f in feature_tables.items():
        t0 = pd.Timestamp(key)
        w = o[(o["ordered_at"] >= t0) & (o["ordered_at"] < t0 + pd.Timedelta(days=horizon_days))]
        rows = w[["person_id", "paid_amount"]].merge(f, on="person_id", how="inner")
        rows["log_basket"] = np.log(np.maximum(rows["paid_amount"].astype(float), 1.0))
        parts.append(rows.drop(columns="paid_amount"))
    return pd.concat(parts, ignore_index=True)
