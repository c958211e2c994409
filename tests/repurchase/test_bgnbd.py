"""BG/NBD recovers the parameters it simulated from, and its predictions match simulation."""

from __future__ import annotations

import numpy as np

from omnicrm.repurchase.bgnbd import BGNBD, simulate


def test_fit_recovers_known_parameters():
    truth = {"r": 0.8, "alpha": 60.0, "a": 0.6, "b": 3.0}
    T = np.random.default_rng(1).uniform(200, 800, 20_000)
    data = simulate(20_000, **truth, T=T, seed=3)
    fit = BGNBD.fit(data["x"], data["t_x"], data["T"])
    assert abs(fit.r - truth["r"]) / truth["r"] < 0.08
    assert abs(fit.alpha - truth["alpha"]) / truth["alpha"] < 0.10
    assert abs(fit.a - truth["a"]) / truth["a"] < 0.15
    assert abs(fit.b - truth["b"]) / truth["b"] < 0.25


def test_expected_and_any_purchase_match_a_simulated_future():
    params = {"r": 1.2, "alpha": 40.0, "a": 0.8, "b": 4.0}
    n, T, t = 40_000, 365.0, 60.0
    # each clock starts at the first purchase; repeats are Poisson(lambda) until the
    # customer drops out (probability p after each repeat); split at T
    rng = np.random.default_rng(5)
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        now = 0.0
        while True:
            now += rng.exponential(1 / lam[i])
            if now >= T + t:
                break
            if now < T:
                x[i] += 1
                t_x[i] = now
            else:
                future[i] += 1
            if rng.random() < p[i]:
                break
    age = np.full(n, T)
    buyer = np.ones(n, bool)
    model = BGNBD(**params)
    expected = model.expected_purchases(t, x[buyer], t_x[buyer], age[buyer])
    assert abs(expected.mean() - future[buyer].mean()) / future[buyer].mean() < 0.05
    p_any = model.p_any_purchase(t, x[buyer], t_x[buyer], age[buyer])
    assert abs(p_any.mean() - (future[buyer] > 0).mean()) < 0.01
    alive = model.p_alive(x[buyer], t_x[buyer], age[buyer])
    assert ((alive > 0) & (alive <= 1)).all()
