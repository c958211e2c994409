"""Customer lifetime value per person from ``person_features``: a purchase-count model (BG/NBD or
Pareto/NBD) for how many purchases are still to come and P(alive), the gamma-gamma model for
what each is worth, discounted month by month.

Fitted on one cut-off's feature table (all history before it), so it is as point-in-time as
the features; the fitted :class:`CustomerValueModel` scores any later feature table the same
way (the production scoring model carries it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.repurchase.baselines import bgnbd_inputs
from omnicrm.repurchase.clv import CLVModels, customer_lifetime_value, fit_clv_models

from .settings import ValueSettings


def value_summary(features: pd.DataFrame) -> pd.DataFrame:
    """The buyers of a feature table as the CLV models' per-customer summary (index
    person_id): x, t_x, T in days (:func:`omnicrm.repurchase.baselines.bgnbd_inputs`),
    ``frequency`` (repeat purchases), ``monetary_value`` (mean order value over every order:
    the feature store keeps no repeat-only mean) and ``total_spend``."""
    buyers = features[features["frequency"].to_numpy(float) > 0]
    x, t_x, T = bgnbd_inputs(buyers)
    value = np.clip(np.nan_to_num(buyers["avg_order_value"].to_numpy(float)), 0, None)
    return pd.DataFrame({"x": x, "t_x": np.minimum(t_x, T), "T": T, "frequency": x,
                         "monetary_value": value, "total_spend": value * (x + 1)},
                        index=pd.Index(buyers["person_id"].astype(str), name="person_id"))


@dataclass
class CustomerValueModel:
    """The fitted purchase-count and spend models (:class:`omnicrm.repurchase.clv.CLVModels`)
    and the CLV settings; :meth:`predict` gives per person ``p_alive``,
    ``expected_purchases_<d>d``, ``expected_avg_value`` and ``clv_<m>m`` (discounted).
    Persons who never bought have no purchase history the models describe: NaN."""

    models: CLVModels
    months: int
    annual_discount_rate: float
    expected_purchases_days: int

    @property
    def frequency_model(self):
        return self.models.frequency

    @property
    def columns(self) -> list[str]:
        return ["p_alive", f"expected_purchases_{self.expected_purchases_days}d",
                "expected_avg_value", f"clv_{self.months}m"]

    def value_table(self, features: pd.DataFrame, annual_discount_rate: float | None = None
                    ) -> pd.DataFrame:
        """:data:`columns` for the buyers of ``features`` (index person_id)."""
        rate = self.annual_discount_rate if annual_discount_rate is None \
            else annual_discount_rate
        summary = value_summary(features)
        if summary.empty:
            return pd.DataFrame(columns=self.columns, index=summary.index, dtype=float)
        return customer_lifetime_value(summary, self.months, rate,
                                       self.expected_purchases_days, models=self.models)

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        ids = features["person_id"].astype(str)
        table = self.value_table(features).reindex(ids)
        out = pd.DataFrame({"person_id": ids.to_numpy()})
        for name in self.columns:
            out[name] = table[name].to_numpy(float)
        return out


def fit_customer_value(features: pd.DataFrame, s: ValueSettings) -> CustomerValueModel:
    """Fit both models on the buyers of one cut-off's feature table."""
    summary = value_summary(features)
    if len(summary) < 2:
        raise ValueError(f"customer value needs buyers to learn from; {len(summary)} "
                         "person(s) in the feature table have bought")
    return CustomerValueModel(fit_clv_models(summary, s.frequency_model), s.months,
                              s.annual_discount_rate, s.expected_purchases_days)


def value_by_segment(customer_segments: pd.DataFrame, customer_value: pd.DataFrame,
                     churn_scores: pd.DataFrame, churn_column: str) -> pd.DataFrame:
    """Per value tier and lifecycle stage: persons, buyers, the CLV they hold (sum, mean,
    share of the base's), mean P(alive) and mean churn probability of the active buyers."""
    clv = customer_value.columns[-1]
    f = (customer_segments[["person_id", "value_tier", "value_tier_name", "lifecycle_stage"]]
         .merge(customer_value[["person_id", "p_alive", clv]], on="person_id", how="left")
         .merge(churn_scores[["person_id", churn_column]], on="person_id", how="left"))
    g = f.groupby(["value_tier", "value_tier_name", "lifecycle_stage"], observed=True)
    out = g.agg(persons=("person_id", "size"), buyers=(clv, "count"),
                clv_sum=(clv, "sum"), clv_mean=(clv, "mean"), p_alive_mean=("p_alive", "mean"),
                churn_probability_mean=(churn_column, "mean")).reset_index()
    total = out["clv_sum"].sum()
    out.insert(6, "clv_share", out["clv_sum"] / total if total > 0 else np.nan)
    return out.sort_values(["value_tier", "lifecycle_stage"]).reset_index(drop=True)
