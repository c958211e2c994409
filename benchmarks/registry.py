"""Every benchmark of the table, in the order its rows are printed.

Each name ``x`` is a module ``benchmarks/bench_x.py`` exposing ``run(opts) -> list[Row]``
(see :class:`benchmarks.common.Options`). To add a row: write the module, add its name here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

BENCHMARKS: list[str] = [
    "generator",  # synthetic world: vectorised Kedro pipeline vs a per-row Faker loop
    "features", "segments",  # feature store on DuckDB vs pandas; value tiers vs plain k-means
    "kpi",  # the weekly KPI tables on DuckDB over Parquet vs the same code on pandas in memory
    "reports",  # one campaign report: papermill + nbconvert render vs nbconvert --execute
    "identity",  # OneID linkage quality (F1 overall and on Chinese hard cases) vs plain Splink
    "repurchase",  # 7-day repurchase: XGBoost + 50 Optuna trials on 1M persons vs HistGBM
    "scoring",  # the registered scoring model: in-process rows/s and served latency p50/p95
    "coupon",  # uplift choice by Qini vs causalml uplift forest; plan's true profit vs oracle
    "campaign",  # the next campaign designed and exported for 1M members vs a groupby sample
    "clv",  # BG/NBD, Pareto/NBD, gamma-gamma on CDNOW vs lifetimes; CLV for 1M customers
    "crosssell",  # association rules on 50M order items (vs plain mlxtend); next best for 1M
]


def load(name: str) -> Callable:
    """The ``run`` function of benchmark ``name``."""
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark '{name}'; known: {', '.join(BENCHMARKS)}")
    return importlib.import_module(f"benchmarks.bench_{name}").run
