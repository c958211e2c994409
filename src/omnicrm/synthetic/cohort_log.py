"""A plain transaction log (customer_id, date, amount, quantity) from a heterogeneous
buy-till-you-die process: a second log shape, unlike the synthetic world's, to check
``omnicrm repurchase evaluate`` on (cohort acquisition, no events, no campaigns)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cohort_log(customers: int = 4000, weeks: int = 78, acquisition_weeks: int = 12,
               start: str = "2024-01-01", seed: int = 0) -> pd.DataFrame:
    """Every customer's first purchase falls in the first ``acquisition_weeks``; the log runs
    ``weeks`` weeks. Per customer: a purchase rate ~ Gamma(0.8, mean one purchase in 25
    days); inter-purchase times Gamma with a per-customer shape in {1, 2, 4} (1 = Poisson as
    BG/NBD assumes; real buyers are often more regular); dropout either after a purchase with
    p ~ Beta(1, 4) (BG/NBD) or after an Exponential lifetime (mean 200 days, Pareto/NBD),
    half each; spend per purchase lognormal around a customer mean that is higher for
    slower buyers; quantity 1-5 growing with spend."""
    rng = np.random.default_rng(seed)
    horizon = weeks * 7.0
    first = rng.uniform(0, acquisition_weeks * 7.0, customers)
    rate = rng.gamma(0.8, 1 / 0.8 / 25.0, customers)            # purchases per day
    shape = rng.choice([1.0, 2.0, 4.0], customers)
    bg_dropout = rng.random(customers) < 0.5
    p_drop = rng.beta(1.0, 4.0, customers)
    death = np.where(bg_dropout, np.inf, first + rng.exponential(200.0, customers))
    mean_spend = np.exp(rng.normal(3.5, 0.6, customers) - 0.2 * np.log(rate * 25.0))
    times, owner = [first], [np.arange(customers)]
    t, alive = first.copy(), np.ones(customers, bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        alive[idx[bg_dropout[idx] & (rng.random(idx.size) < p_drop[idx])]] = False
        idx = np.flatnonzero(alive)
        t[idx] += rng.gamma(shape[idx], 1 / (shape[idx] * rate[idx]))
        ok = (t[idx] < horizon) & (t[idx] < death[idx])
        alive[idx[~ok]] = False
        times.append(t[idx[ok]])
        owner.append(idx[ok])
    times, owner = np.concatenate(times), np.concatenate(owner)
    amount = np.round(mean_spend[owner] * rng.lognormal(0.0, 0.4, owner.size), 2)
    quantity = np.clip(np.round(amount / 25.0 + rng.normal(0, 0.7, owner.size)), 1, 5)
    date = pd.Timestamp(start) + pd.to_timedelta(times * 86400.0, unit="s")
    return (pd.DataFrame({"customer_id": [f"C{i:06d}" for i in owner], "date": date.floor("s"),
                          "amount": amount, "quantity": quantity.astype(int)})
            .sort_values("date", kind="stable").reset_index(drop=True))
