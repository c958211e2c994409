"""Pareto/NBD and gamma-gamma recover what they simulated from, and CLV discounts, falls back
and refuses bad input as documented."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from omnicrm.repurchase.bgnbd import BGNBD
from omnicrm.repurchase.clv import (
    CLVModels,
    calibration_holdout_table,
    clv_summary,
    customer_lifetime_value,
    fit_clv_models,
    holdout_purchase_counts,
    plot_calibration_holdout,
)
from omnicrm.repurchase.gammagamma import GammaGamma, independence_check
from omnicrm.repurchase.paretonbd import ParetoNBD, simulate

matplotlib.use("Agg")


def simulate_spend(n: int, p: float, q: float, v: float, seed: int = 0):
    """Repeat buyers' frequency and mean spend from gamma-gamma."""
    rng = np.random.default_rng(seed)
    frequency = rng.integers(1, 12, n).astype(float)
    nu = rng.gamma(q, 1 / v, n)
    # the mean of x Gamma(p, nu) amounts is Gamma(p x, nu x)
    mean_spend = rng.gamma(p * frequency, 1 / (nu * frequency))
    return frequency, mean_spend


def test_paretonbd_recovers_known_parameters():
    truth = {"r": 0.8, "alpha": 20.0, "s": 0.7, "beta": 60.0}
    T = np.random.default_rng(1).uniform(300, 900, 6_000)
    data = simulate(6_000, **truth, T=T, seed=2)
    fit = ParetoNBD.fit(data["x"], data["t_x"], data["T"])
    assert abs(fit.r - truth["r"]) / truth["r"] < 0.10
    assert abs(fit.alpha - truth["alpha"]) / truth["alpha"] < 0.15
    assert abs(fit.s - truth["s"]) / truth["s"] < 0.25
    assert abs(fit.beta - truth["beta"]) / truth["beta"] < 0.40
    # the MLE is at least as likely as the truth on its own data
    assert fit.log_likelihood(data["x"], data["t_x"], data["T"]) >= ParetoNBD(
        **truth).log_likelihood(data["x"], data["t_x"], data["T"])


def test_paretonbd_predictions_match_a_simulated_future():
    model = ParetoNBD(r=1.0, alpha=30.0, s=0.8, beta=120.0)
    data = model.simulate(40_000, T=365.0, seed=4, horizon=90.0)
    expected = model.expected_purchases(90.0, data["x"], data["t_x"], data["T"])
    assert abs(expected.mean() - data["future"].mean()) / data["future"].mean() < 0.03
    p_any = model.p_any_purchase(90.0, data["x"], data["t_x"], data["T"])
    assert abs(p_any.mean() - (data["future"] > 0).mean()) < 0.01
    alive = model.p_alive(data["x"], data["t_x"], data["T"])
    assert ((alive > 0) & (alive <= 1)).all()
    # recent heavy buyers are more likely alive than those who stopped long ago
    assert model.p_alive(10, 360, 365) > model.p_alive(10, 50, 365)


def test_gammagamma_recovers_known_parameters_and_shrinks_towards_the_mean():
    truth = {"p": 6.0, "q": 4.0, "v": 15.0}
    frequency, mean_spend = simulate_spend(4_000, **truth, seed=3)
    fit = GammaGamma.fit(frequency, mean_spend)
    # p and v trade off against each other (their product is what the data pin down)
    assert abs(fit.p - truth["p"]) / truth["p"] < 0.35
    assert abs(fit.q - truth["q"]) / truth["q"] < 0.10
    assert abs(fit.v - truth["v"]) / truth["v"] < 0.35
    prior = fit.p * fit.v / (fit.q - 1)
    assert abs(prior - 30.0) / 30.0 < 0.05  # the true population mean p v / (q - 1)
    assert fit.log_likelihood(frequency, mean_spend) >= GammaGamma(**truth).log_likelihood(
        frequency, mean_spend)
    assert fit.population_mean_spend == pytest.approx(prior)
    # no repeat purchase: the prior mean; many: close to the customer's own mean
    values = fit.conditional_expected_average_value([0, 1, 200], [0.0, 100.0, 100.0])
    assert values[0] == pytest.approx(prior)
    assert prior < values[1] < values[2] < 100.0
    assert values[2] > 95.0
    check = independence_check(frequency, mean_spend)
    assert check["independent"] and abs(check["pearson"]) < 0.1


def test_independence_check_flags_spend_that_grows_with_frequency():
    frequency = np.arange(1, 201, dtype=float)
    spend = 10 + 2 * frequency + np.random.default_rng(0).normal(0, 5, 200).clip(-9, None)
    check = independence_check(frequency, spend)
    assert check["pearson"] > 0.9 and not check["independent"]
    assert "covariate" in check["verdict"]


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    """A small log: 400 customers from Pareto/NBD with daily purchase times and spend."""
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for customer in range(400):
        rate, life = rng.gamma(1.0, 1 / 25), rng.exponential(300)
        first = rng.integers(0, 200)
        t, spend_level = 0.0, rng.gamma(4, 10)
        while t < life and first + t < 540:
            rows.append((f"c{customer}", start + pd.Timedelta(days=float(first + t)),
                         rng.gamma(6, spend_level / 6)))
            t += rng.exponential(1 / rate)
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_summary_counts_one_occasion_per_day_and_repeat_spend_only():
    log = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
                        "date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00",
                                                "2024-01-11 00:00", "2024-01-05 00:00",
                                                "2024-02-01 00:00"]),
                        "amount": [10.0, 5.0, 30.0, 7.0, 99.0]})
    summary = clv_summary(log, "2024-01-31")
    assert list(summary.index) == ["a", "b"]  # c bought after the cut-off
    assert summary.loc["a"].to_dict() == {"x": 1.0, "t_x": 10.0, "T": 30.0, "frequency": 1.0,
                                          "monetary_value": 30.0, "total_spend": 45.0}
    assert summary.loc["b", "monetary_value"] == 0.0 and summary.loc["b", "T"] == 26.0


def test_clv_discounting_by_hand():
    summary = pd.DataFrame({"x": [0.0, 3.0], "t_x": [0.0, 80.0], "T": [100.0, 100.0],
                            "frequency": [0.0, 3.0], "monetary_value": [0.0, 50.0],
                            "total_spend": [20.0, 170.0]})
    counts = BGNBD(r=0.5, alpha=40.0, a=0.7, b=3.0)
    spend = GammaGamma(p=6.0, q=4.0, v=15.0)
    models = CLVModels(counts, spend, spend.population_mean_spend, "")
    value = spend.conditional_expected_average_value([0, 3], [0, 50])
    e1, e2 = (counts.expected_purchases(m * 30.0, [0, 3], [0, 80], [100, 100]) for m in (1, 2))
    plain = customer_lifetime_value(summary, months=2, annual_discount_rate=0.0,
                                    models=models, days_per_month=30.0)
    assert np.allclose(plain["clv_2m"], e2 * value)  # no discount: undiscounted sum
    assert plain["expected_avg_value"].iloc[0] == pytest.approx(15.0 * 6.0 / 3.0)
    monthly = 1.2 ** (1 / 12) - 1
    discounted = customer_lifetime_value(summary, months=2, annual_discount_rate=0.2,
                                         models=models, days_per_month=30.0)
    by_hand = e1 * value / (1 + monthly) + (e2 - e1) * value / (1 + monthly) ** 2
    assert np.allclose(discounted["clv_2m"], by_hand)
    assert (discounted["clv_2m"] < plain["clv_2m"]).all()
    assert list(discounted.columns) == ["p_alive", "expected_purchases_90d",
                                        "expected_avg_value", "clv_2m"]


@pytest.mark.parametrize("frequency_model", ["bgnbd", "paretonbd"])
def test_clv_from_a_transaction_log(transactions, frequency_model):
    summary = clv_summary(transactions, "2025-01-01")
    clv = customer_lifetime_value(summary, months=6, frequency_model=frequency_model)
    assert clv.attrs["note"] == ""
    assert len(clv) == summary.shape[0] and (clv["clv_6m"] >= 0).all()
    assert ((clv["p_alive"] > 0) & (clv["p_alive"] <= 1)).all()
    # more recent repeat buying, more value, on average
    buyers = summary["x"] >= 3
    assert clv.loc[buyers, "clv_6m"].mean() > clv.loc[~buyers, "clv_6m"].mean()


def test_single_purchase_customers_fall_back_to_the_mean_spend():
    log = pd.DataFrame({"customer_id": ["a", "b", "c"],
                        "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09"]),
                        "amount": [10.0, 20.0, 60.0]})
    summary = clv_summary(log, "2024-03-01")
    models = fit_clv_models(summary)
    assert models.spend is None and "mean observed spend" in models.note
    clv = customer_lifetime_value(summary, models=models)
    assert np.allclose(clv["expected_avg_value"], 30.0)
    assert "gamma-gamma not fitted" in clv.attrs["note"]


def test_bad_inputs_are_refused_with_clear_messages(transactions):
    empty = transactions.iloc[:0]
    with pytest.raises(ValueError, match="empty"):
        clv_summary(empty, "2025-01-01")
    with pytest.raises(ValueError, match="no customer has a purchase before"):
        clv_summary(transactions, "2000-01-01")
    refund = transactions.assign(amount=transactions["amount"].where(
        transactions.index != 3, -5.0))
    with pytest.raises(ValueError, match="negative amount"):
        clv_summary(refund, "2025-01-01")
    missing = transactions.assign(amount=transactions["amount"].where(
        transactions.index != 3, np.nan))
    with pytest.raises(ValueError, match="finite"):
        clv_summary(missing, "2025-01-01")
    summary = clv_summary(transactions, "2025-01-01")
    with pytest.raises(ValueError, match="unknown frequency model 'pareto'"):
        customer_lifetime_value(summary, frequency_model="pareto")
    with pytest.raises(ValueError, match="months"):
        customer_lifetime_value(summary, months=0)
    with pytest.raises(ValueError, match="no customers"):
        customer_lifetime_value(summary.iloc[:0])
    with pytest.raises(ValueError, match="negative"):
        customer_lifetime_value(summary.assign(T=-summary["T"]))
    with pytest.raises(ValueError, match="t_x <= T"):
        ParetoNBD.fit([1, 2], [5, 50], [10, 20])
    with pytest.raises(ValueError, match="repeat buyers only"):
        GammaGamma.fit([0, 2, 3], [0.0, 10.0, 12.0])


def test_calibration_holdout_table_matches_a_simulated_holdout():
    model = ParetoNBD(r=1.0, alpha=30.0, s=0.8, beta=120.0)
    data = model.simulate(20_000, T=365.0, seed=9, horizon=180.0)
    data.index = [f"c{i}" for i in range(len(data))]
    holdout = data.loc[data["future"] > 0, "future"]  # customers without purchases are absent
    table = calibration_holdout_table(data, holdout, model, holdout_days=180.0)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == len(data)
    for bucket in ("0", "1", "2", "7+"):
        row = table.loc[bucket]
        assert abs(row["predicted"] - row["actual"]) / row["actual"] < 0.12
    assert table.loc["7+", "actual"] > table.loc["1", "actual"] > table.loc["0", "actual"]
    fig = plot_calibration_holdout(table)
    assert len(fig.axes[0].lines) == 2


def test_holdout_purchase_counts_counts_days_in_the_window(transactions):
    counts = holdout_purchase_counts(transactions, "2025-01-01", "2025-04-01")
    dates = pd.to_datetime(transactions["date"]).dt.normalize()
    inside = transactions[(dates >= "2025-01-01") & (dates < "2025-04-01")]
    expected = inside.assign(day=dates).drop_duplicates(["customer_id", "day"]).groupby(
        "customer_id").size()
    assert counts.sum() == expected.sum() > 0
