"""Customer lifetime value per person from ``person_features``: a purchase-count model (BG/NBD or
Pareto/NBD) for how many purchases are still to come and P(alive), the gamma-gamma model for
what each is worth, discounted month by month.

Fitted on one cut-off's feature table (all history before it), so it is as point-in-time as
the features; the fitted :class:`CustomerValueModel` scores any later feature table the same
way (the production scoring model carries it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omnicrm.repurchase.baselines import bgnbd_inputs
from omnicrm.repurchase.bgnbd import BGNBD

from .settings import ValueSettings

DAYS_PER_MONTH = 365.25 / 12


def _frequency_model(kind: str):
    if kind == "bgnbd":
        return BGNBD
    from omnicrm.repurchase.paretonbd import ParetoNBD

    return ParetoNBD


def spend_inputs(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Gamma-gamma's inputs from the feature table: the number of repeat purchases and the
    mean order value (over every order: the feature store keeps no repeat-only mean)."""
    freq = features["frequency"].to_numpy(float)
    repeat = np.where(freq > 0, freq - 1, 0.0)
    value = np.nan_to_num(features["avg_order_value"].to_numpy(float), nan=0.0)
    return repeat, value


@dataclass
class CustomerValueModel:
    """A fitted purchase-count model and spend model; :meth:`predict` gives per person
    ``p_alive``, ``expected_purchases_<d>d``, ``expected_order_value`` and
    ``clv_<m>m`` (discounted). Persons who never bought have no purchase history the models
    describe: their values are NaN."""

    frequency_model: object
    spend_model: object | None
    mean_order_value: float
    months: int
    annual_discount_rate: float
    expected_purchases_days: int
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return ["p_alive", f"expected_purchases_{self.expected_purchases_days}d",
                "expected_order_value", f"clv_{self.months}m"]

    def expected_order_value(self, features: pd.DataFrame) -> np.ndarray:
        repeat, value = spend_inputs(features)
        if self.spend_model is None:
            return np.full(len(features), self.mean_order_value)
        # with no repeat purchase gamma-gamma gives its prior mean, whatever the value
        return self.spend_model.conditional_expected_average_value(repeat, value)

    def discounted_purchases(self, x, t_x, T) -> np.ndarray:
        """Sum over the next ``months`` of the purchases expected in each month divided by
        (1 + monthly rate)^month, the monthly rate compounding to the annual one."""
        monthly = (1 + self.annual_discount_rate) ** (1 / 12) - 1
        total = np.zeros(len(x))
        before = np.zeros(len(x))
        for m in range(1, self.months + 1):
            upto = self.frequency_model.expected_purchases(m * DAYS_PER_MONTH, x, t_x, T)
            total += (upto - before) / (1 + monthly) ** m
            before = upto
        return total

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        x, t_x, T = bgnbd_inputs(features)
        buyer = features["frequency"].to_numpy(float) > 0
        out = pd.DataFrame({"person_id": features["person_id"].astype(str).to_numpy()})
        p_alive = self.frequency_model.p_alive(x, t_x, T)
        expected = self.frequency_model.expected_purchases(self.expected_purchases_days,
                                                           x, t_x, T)
        order_value = self.expected_order_value(features)
        clv = self.discounted_purchases(x, t_x, T) * order_value
        cols = self.columns
        for name, values in zip(cols, (p_alive, expected, order_value, clv), strict=True):
            out[name] = np.where(buyer, values, np.nan)
        return out


def fit_customer_value(features: pd.DataFrame, s: ValueSettings) -> CustomerValueModel:
    """Fit both models on the buyers of one cut-off's feature table."""
    buyer = features["frequency"].to_numpy(float) > 0
    if buyer.sum() < 2:
        raise ValueError(f"customer value needs buyers to learn from; {int(buyer.sum())} "
                         "person(s) in the feature table have bought")
    x, t_x, T = bgnbd_inputs(features)
    frequency_model = _frequency_model(s.frequency_model).fit(x[buyer], t_x[buyer], T[buyer])
    repeat, value = spend_inputs(features)
    returning = buyer & (repeat > 0) & (value > 0)
    mean_value = float(value[buyer].mean())
    notes, spend_model = [], None
    if returning.sum() >= s.min_buyers:
        from omnicrm.repurchase.gammagamma import GammaGamma

        spend_model = GammaGamma.fit(repeat[returning], value[returning])
    else:
        notes.append(f"only {int(returning.sum())} repeat buyers (< {s.min_buyers}): no "
                     "gamma-gamma fit, every customer's order value is the mean "
                     f"{mean_value:.2f}")
    return CustomerValueModel(frequency_model, spend_model, mean_value, s.months,
                              s.annual_discount_rate, s.expected_purchases_days, notes)


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
