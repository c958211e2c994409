"""CLV models: (a) our BG/NBD, Pareto/NBD and gamma-gamma on the CDNOW sample vs the lifetimes
package and the published estimates (parameters, log-likelihood at each side's optimum);
(b) summary + fits + 12-month CLV for 1M customers / ~20M transactions simulated from BG/NBD
with gamma spend. Issue 17's target: (b) <= 10 minutes.

lifetimes runs in its own virtualenv (``OMNICRM_LIFETIMES_PYTHON``, default
``.venv-lifetimes/bin/python``; see benchmarks/peers/lifetimes_clv.py); without it part (a)
is skipped with a message.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from .common import GB, ROOT, Options, Row, fmt_int, measure, measure_ours, progress

NAME = "clv"
CUSTOMERS, CUSTOMERS_QUICK = 1_000_000, 20_000
TARGET_S = 600
# Fader, Hardie and Lee (2005) on CDNOW, weeks; Pareto/NBD as in Fader-Hardie's note
PUBLISHED = {"bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
             "paretonbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
             "gammagamma": {"p": 6.25, "q": 3.74, "v": 15.44}}
LABELS = {"bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "gammagamma": "gamma-gamma"}


def lifetimes_peer(scratch: Path, data: str, python: str) -> dict:
    """The peer script in the side venv: exports CDNOW, fits lifetimes' three models."""
    subprocess.run([python, str(ROOT / "benchmarks/peers/lifetimes_clv.py"), data],
                   check=True)
    return json.loads((Path(data) / "lifetimes.json").read_text())


def ours_cdnow(scratch: Path, data: str, theirs: dict) -> dict:
    """Our three fits on the exported CDNOW summary, and each log-likelihood at our and at
    lifetimes' parameters (both evaluated by our likelihood)."""
    import time

    import pandas as pd

    from omnicrm.repurchase.bgnbd import BGNBD
    from omnicrm.repurchase.gammagamma import GammaGamma
    from omnicrm.repurchase.paretonbd import ParetoNBD

    cdnow = pd.read_csv(Path(data) / "cdnow_summary.csv")
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    repeat = cdnow[cdnow["x"] > 0]
    out = {"params": {}, "ll_ours": {}, "ll_theirs": {}, "seconds": {}}
    for name, model, args in (("bgnbd", BGNBD, (x, t_x, T)), ("paretonbd", ParetoNBD, (x, t_x, T)),
                              ("gammagamma", GammaGamma,
                               (repeat["x"], repeat["monetary_value"]))):
        start = time.perf_counter()
        fit = model.fit(*args)
        out["seconds"][name] = time.perf_counter() - start
        out["params"][name] = dict(vars(fit))
        out["ll_ours"][name] = fit.log_likelihood(*args)
        out["ll_theirs"][name] = model(**theirs[name]).log_likelihood(*args)
    return out


def prepare_log(scratch: Path, data: str, customers: int, seed: int = 17) -> dict:
    """A transaction log simulated from BG/NBD (days) with gamma-gamma spend, to Parquet.

    Given x repeat purchases with the last at t_x, the other x - 1 fall uniformly in
    (0, t_x) (Poisson process), so the whole log follows from the simulated (x, t_x)."""
    import numpy as np
    import pandas as pd

    from omnicrm.repurchase.bgnbd import simulate

    rng = np.random.default_rng(seed)
    age = rng.integers(30, 730, customers).astype(float)  # first purchase 30-730 days ago
    summary = simulate(customers, r=2.0, alpha=30.0, a=0.4, b=9.0, T=age, seed=seed)
    x = summary["x"].to_numpy(int)
    t_x = summary["t_x"].to_numpy()
    owner = np.repeat(np.arange(customers), x + 1)
    start = np.cumsum(np.r_[0, x[:-1] + 1])  # first row of each customer
    position = np.arange(len(owner)) - start[owner]
    # position 0: the first purchase; x: the last (t_x); the others uniform in between
    offset = np.where(position == 0, 0.0,
                      np.where(position == x[owner], t_x[owner], rng.random(len(owner))
                               * t_x[owner]))
    cutoff = pd.Timestamp("2025-01-01")
    day = (cutoff - pd.to_timedelta(age[owner] - offset, unit="D")).floor("D")
    nu = rng.gamma(4.0, 1 / 60.0, customers)  # spend scale per customer: mean 6/nu ~ 120
    log = pd.DataFrame({"customer_id": owner, "date": day,
                        "amount": rng.gamma(6.0, 1 / nu[owner]).round(2)})
    log.to_parquet(Path(data) / "log.parquet", index=False)
    return {"customers": customers, "transactions": len(log)}


def ours_scale(scratch: Path, data: str) -> dict:
    """Read the log, summarise it at the cut-off, fit BG/NBD and gamma-gamma, 12-month CLV."""
    import time

    import pandas as pd

    from omnicrm.repurchase.clv import clv_summary, customer_lifetime_value, fit_clv_models

    steps = {}
    start = time.perf_counter()
    log = pd.read_parquet(Path(data) / "log.parquet")
    steps["read"] = time.perf_counter() - start
    summary = clv_summary(log, "2025-01-01")
    steps["summary"] = time.perf_counter() - start - sum(steps.values())
    models = fit_clv_models(summary, "bgnbd")
    steps["fit"] = time.perf_counter() - start - sum(steps.values())
    clv = customer_lifetime_value(summary, months=12, models=models)
    steps["clv"] = time.perf_counter() - start - sum(steps.values())
    return {"steps": steps, "customers": len(clv), "mean_clv": float(clv["clv_12m"].mean()),
            "bgnbd": dict(vars(models.frequency)), "gammagamma": dict(vars(models.spend))}


def _cdnow_rows(o: dict, t: dict) -> list[Row]:
    size = "CDNOW sample, 2,357 customers (weeks)"
    peer = f"lifetimes {t['version']}"
    rows = []
    for name, published in PUBLISHED.items():
        label = LABELS[name]
        for param, value in published.items():
            rows.append(Row(NAME, size, f"{label} {param}", o["params"][name][param],
                            t["params"][name][param], peer, "",
                            f"ours {o['params'][name][param]:.4f}, lifetimes "
                            f"{t['params'][name][param]:.4f}, published {value}",
                            higher_is_better=True))
        gap = o["ll_ours"][name] - o["ll_theirs"][name]
        # log-likelihoods are negative: the ratio of magnitudes, > 1 when ours is higher
        rows.append(Row(NAME, size, f"{label} log-likelihood (magnitude)",
                        -o["ll_ours"][name], -o["ll_theirs"][name], peer, "",
                        f"ours {o['ll_ours'][name]:.6f}, at lifetimes' parameters "
                        f"{o['ll_theirs'][name]:.6f} (ours - theirs {gap:+.2e})"))
        rows.append(Row(NAME, size, f"{label} fit time", o["seconds"][name],
                        t["seconds"][name], peer, "s", ""))
    return rows


def run(opts: Options) -> list[Row]:
    n = opts.persons or (CUSTOMERS_QUICK if opts.quick else CUSTOMERS)
    python = os.environ.get("OMNICRM_LIFETIMES_PYTHON",
                            str(ROOT / ".venv-lifetimes" / "bin" / "python"))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-clv-") as data:
        if Path(python).exists():
            progress(f"{NAME}: CDNOW with lifetimes ({python})")
            t = measure("benchmarks.bench_clv:lifetimes_peer", {"data": data, "python": python},
                        label=f"{NAME} lifetimes")
            o = measure("benchmarks.bench_clv:ours_cdnow", {"data": data,
                                                             "theirs": t.info["params"]},
                        label=f"{NAME} ours CDNOW",
                        preload=("omnicrm.repurchase.clv",))
            rows += _cdnow_rows(o.info, t.info)
        else:
            progress(f"{NAME}: lifetimes peer skipped: no virtualenv at {python} (set "
                     "OMNICRM_LIFETIMES_PYTHON; see benchmarks/peers/lifetimes_clv.py)")
        progress(f"{NAME}: simulating a log for {fmt_int(n)} customers")
        prep = measure("benchmarks.bench_clv:prepare_log", {"data": data, "customers": n},
                       label=f"{NAME} prepare", max_rss_gb=opts.max_rss_gb)
        size = (f"{fmt_int(n)} customers, {fmt_int(prep.info['transactions'])} "
                "transactions")
        m, failed = measure_ours(NAME, "benchmarks.bench_clv:ours_scale", {"data": data},
                                 preload=("omnicrm.repurchase.clv", "pyarrow"),
                                 max_rss_gb=opts.max_rss_gb)
    if m is None:
        return rows + [Row(NAME, size, "wall time", None, TARGET_S, "target (issue 17)", "s",
                           failed)]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in m.info["steps"].items())
    return rows + [
        Row(NAME, size, "wall time: summary + fits + 12-month CLV", m.seconds, TARGET_S,
            "target (issue 17)", "s", steps),
        Row(NAME, size, "peak RSS", m.peak_rss / GB, None, "", "GB",
            f"whole process, incl. ~{m.base_rss / GB:.1f} GB interpreter and imports"),
    ]
