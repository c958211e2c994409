"""The offer-effect model (extra purchase hazard theta(x) A^gamma) on simulated data with a
known answer, and its choice of gamma and rounds on held-out campaigns."""

from __future__ import annotations

import numpy as np
import pytest

from omnicrm.coupon.effect import OfferEffectModel, log_likelihood, select_effect_model


def _simulated(n=20000, seed=0, gamma=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    h0 = 0.04 * np.exp(0.5 * X[:, 1])                 # baseline hazard, known to the model
    theta = np.where(X[:, 0] > 0, 0.5, 0.1)          # only half the people respond much
    a = rng.choice([0.05, 0.1, 0.2, 0.4], n)          # the offer's reachable discount rate
    p = -np.expm1(-(h0 + theta * a**gamma))
    y = (rng.random(n) < p).astype(float)
    campaign = rng.integers(0, 8, n)
    return X, h0, a, y, theta, campaign


def test_recovers_who_responds_and_by_how_much():
    X, h0, a, y, theta, _ = _simulated()
    m = OfferEffectModel(1.0, 100).fit(X, h0, a, y)
    est = m.theta(X)
    assert est[theta == 0.5].mean() == pytest.approx(0.5, rel=0.25)
    assert est[theta == 0.1].mean() == pytest.approx(0.1, abs=0.06)
    assert np.corrcoef(est, theta)[0, 1] > 0.8
    # the extra hazard scales with the offer's attractiveness
    assert m.extra_hazard(X[:5], np.full(5, 0.4)) == pytest.approx(
        2 * m.extra_hazard(X[:5], np.full(5, 0.2)))
    # rounds = 0 is one theta for everyone: the treated-weighted average effect
    flat = m.theta(X, rounds=0)
    assert np.ptp(flat) == 0 and 0.1 < flat[0] < 0.5


def test_heldout_choice_prefers_the_true_gamma_and_heterogeneity():
    X, h0, a, y, _, campaign = _simulated(gamma=0.5, seed=1)
    best, rows = select_effect_model(X, h0, a, y, campaign, [0.5, 1.0], [0, 50])
    assert best["gamma"] == 0.5 and best["rounds"] == 50
    assert len(rows) == 4
    # the criterion is the held-out Bernoulli log-likelihood: the chosen row has the maximum
    assert best["heldout_loglik"] == max(r["heldout_loglik"] for r in rows)


def test_log_likelihood_matches_the_bernoulli_formula():
    y, h0, extra = np.array([1.0, 0.0]), np.array([0.1, 0.2]), np.array([0.3, 0.0])
    p = -np.expm1(-(h0 + extra))
    assert log_likelihood(y, h0, extra) == pytest.approx(
        np.mean([np.log(p[0]), np.log(1 - p[1])]))
