"""Scoring: the registered champion (``models:/omnicrm_scoring@champion``) on 100k rows in
process, and served over HTTP (``omnicrm serve``) for batches of 1 and 1,000 rows, alone and
under 20 concurrent clients (against plain ``mlflow models serve``).

Peer for throughput: the same three fitted models called directly (no Kedro runner, no
MLflow pyfunc wrapper, no input checks), so the row shows what the packaging costs. Peer for
latency: the in-process model on the same batch, so the row shows what HTTP and JSON cost.

Needs a trained project: run the README's main command (``python3.11 bootstrap.py run``)
first; without a champion in mlruns/ the benchmark says so and prints no row.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from .common import GB, ROOT, Options, Row, fmt_int, measure, progress

NAME = "scoring"
ROWS, ROWS_QUICK = 100_000, 5_000
REQUESTS, REQUESTS_QUICK = 50, 10
MODEL = "models:/omnicrm_scoring@champion"


def _store() -> str:
    return f"sqlite:///{ROOT / 'mlruns' / 'mlflow.db'}"


def _features(rows: int):
    import pandas as pd

    f = pd.read_parquet(ROOT / "data/04_feature/person_features.parquet")
    copies = -(-rows // len(f))
    parts = [f.assign(person_id=f["person_id"] + f"-{c}") for c in range(copies)]
    return pd.concat(parts, ignore_index=True).head(rows)


def ours(scratch: Path, rows: int) -> dict:
    import mlflow

    mlflow.set_tracking_uri(_store())
    model = mlflow.pyfunc.load_model(MODEL)
    f = _features(rows)
    start = time.perf_counter()
    scores = model.predict(f)
    return {"rows": len(scores), "seconds": time.perf_counter() - start}


def peer(scratch: Path, rows: int) -> dict:
    import pickle

    import yaml

    from omnicrm.scoring.pipeline import MODELS
    from omnicrm.segments.tiers import tier_names

    models = {n: pickle.loads((ROOT / f"data/06_models/{n}.pkl").read_bytes()) for n in MODELS}
    params = yaml.safe_load((ROOT / "conf/base/parameters_segments.yml").read_text())
    names = tier_names(params["segments"]["n_tiers"])
    f = _features(rows)
    start = time.perf_counter()
    tiers = models["value_tier_model"].predict(f)
    p = models["repurchase_7d_model"].predict_proba(f)
    models["repurchase_7d_model"].reasons(f, top_k=3)
    churn = models["churn_model"].predict_churn(f)
    value = models["customer_value_model"].predict(f)
    offers = models["coupon_policy"].recommend(f)
    out = offers.assign(churn_probability=churn, clv=value.iloc[:, -1].to_numpy(),
                        value_tier=tiers, value_tier_name=[names[t] for t in tiers],
                        repurchase_7d_probability=p)
    return {"rows": len(out), "seconds": time.perf_counter() - start}


def _latency(call, batches, requests: int) -> dict[int, tuple[float, float]]:
    import numpy as np

    out = {}
    for size, frame in batches.items():
        call(frame)  # warm-up
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            call(frame)
            times.append(time.perf_counter() - start)
        out[size] = (float(np.percentile(times, 50)), float(np.percentile(times, 95)))
    return out


def _requests():
    """Batches of 1 and 1,000 person-feature rows, and each as an MLflow JSON request body."""
    f = _features(1000).drop(columns=["cutoff_date"])
    batches = {1: f.head(1), 1000: f}
    bodies = {n: json.dumps({"dataframe_split": json.loads(b.to_json(orient="split",
                                                                      index=False))})
              for n, b in batches.items()}
    return batches, bodies


def latency(scratch: Path, requests: int) -> dict:
    """p50/p95 of the served model and of the in-process model, batches of 1 and 1,000."""
    import mlflow
    import requests as http

    batches, bodies = _requests()
    with _server([str(Path(sys.executable).with_name("omnicrm")), "serve"], scratch,
                 "serve") as url:
        def served(frame):
            r = http.post(f"{url}/invocations", data=bodies[len(frame)],
                          headers={"Content-Type": "application/json"}, timeout=120)
            r.raise_for_status()

        over_http = _latency(served, batches, requests)
    mlflow.set_tracking_uri(_store())
    model = mlflow.pyfunc.load_model(MODEL)
    in_process = _latency(model.predict, batches, requests)
    return {"served": {str(k): v for k, v in over_http.items()},
            "in_process": {str(k): v for k, v in in_process.items()}}


@contextlib.contextmanager
def _server(cmd: list[str], scratch: Path, name: str):
    """A scoring server on a free loopback port, up until the block ends; yields its URL."""
    import requests as http

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # mlflow models serve starts `uvicorn` by name: this environment's scripts first
    env = {**os.environ, "MLFLOW_TRACKING_URI": _store(),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    log = open(scratch / f"{name}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([*cmd, "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(360):
            try:
                if http.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except http.ConnectionError:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited: see {scratch / name}.log") \
                        from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
        log.close()


def _hammer(url: str, body: str, clients: int, per_client: int) -> dict:
    """``clients`` threads each posting ``body`` ``per_client`` times at once: p95 of the
    request latency and the share of requests that failed (non-200 or no answer in 120 s)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import requests as http

    def client(_: int) -> list[tuple[float, bool]]:
        out = []
        with http.Session() as session:
            for _ in range(per_client):
                start = time.perf_counter()
                try:
                    ok = session.post(f"{url}/invocations", data=body, timeout=120,
                                      headers={"Content-Type": "application/json"}).ok
                except http.RequestException:
                    ok = False
                out.append((time.perf_counter() - start, ok))
        return out

    with ThreadPoolExecutor(clients) as pool:
        done = [r for part in pool.map(client, range(clients)) for r in part]
    times = [t for t, _ in done]
    return {"p95": float(np.percentile(times, 95)),
            "error_rate": 1 - sum(ok for _, ok in done) / len(done)}


def load(scratch: Path, clients: int, per_client: int) -> dict:
    """20 concurrent clients against ``omnicrm serve`` (bounded, scoring.serve.workers
    workers) and against plain ``mlflow models serve`` (one worker), batches of 1 and 1,000."""
    _, bodies = _requests()
    sides = {"ours": [str(Path(sys.executable).with_name("omnicrm")), "serve"],
             "peer": [sys.executable, "-m", "mlflow", "models", "serve", "-m", MODEL,
                      "--env-manager", "local", "--host", "127.0.0.1"]}
    out = {}
    for side, cmd in sides.items():
        with _server(cmd, scratch, side) as url:
            out[side] = {str(n): _hammer(url, body, clients, per_client)
                         for n, body in bodies.items()}
    return out


def run(opts: Options) -> list[Row]:
    import mlflow

    mlflow.set_tracking_uri(_store())
    try:
        mlflow.MlflowClient().get_model_version_by_alias("omnicrm_scoring", "champion")
    except Exception:  # noqa: BLE001
        progress(f"{NAME}: no champion in {ROOT / 'mlruns'}: run `python3.11 bootstrap.py run` "
                 "first; skipped")
        return []
    rows = opts.persons or (ROWS_QUICK if opts.quick else ROWS)
    requests = REQUESTS_QUICK if opts.quick else REQUESTS
    size = f"{fmt_int(rows)} rows"
    progress(f"{NAME}: ours = the registered pyfunc on {size}")
    o = measure("benchmarks.bench_scoring:ours", {"rows": rows}, label=f"{NAME} ours",
                preload=("mlflow.pyfunc", "omnicrm.scoring.run"), max_rss_gb=opts.max_rss_gb)
    progress(f"{NAME}: peer = the three models called directly")
    p = measure("benchmarks.bench_scoring:peer", {"rows": rows}, label=f"{NAME} peer",
                preload=("omnicrm.scoring.inference",), max_rss_gb=opts.max_rss_gb)
    progress(f"{NAME}: latency, served vs in process, {requests} requests per batch size")
    lat = measure("benchmarks.bench_scoring:latency", {"requests": requests},
                  label=f"{NAME} latency", max_rss_gb=opts.max_rss_gb).info
    clients, per_client = 20, (2 if opts.quick else 5)
    progress(f"{NAME}: load, {clients} concurrent clients x {per_client} requests, ours vs "
             "plain mlflow models serve")
    loaded = measure("benchmarks.bench_scoring:load", {"clients": clients,
                                                       "per_client": per_client},
                     label=f"{NAME} load", max_rss_gb=opts.max_rss_gb).info
    out = [
        Row(NAME, size, "throughput", rows / o.info["seconds"], rows / p.info["seconds"],
            "models called directly", "rows/s",
            "ours: models:/omnicrm_scoring@champion (input checks, Kedro runner, 3 SHAP "
            "reasons per row)", higher_is_better=True),
        Row(NAME, size, "peak RSS", o.peak_rss / GB, p.peak_rss / GB, "models called directly",
            "GB", "whole process"),
    ]
    for n in ("1", "1000"):
        for i, pct in ((0, "p50"), (1, "p95")):
            out.append(Row(NAME, f"batch of {fmt_int(int(n))}", f"latency {pct}",
                           lat["served"][n][i] * 1000, lat["in_process"][n][i] * 1000,
                           "in process (no HTTP)", "ms",
                           f"ours: mlflow models serve, {requests} sequential requests"))
    for n in ("1", "1000"):
        o_, p_ = loaded["ours"][n], loaded["peer"][n]
        note = (f"{clients} concurrent clients x {per_client} requests; ours: omnicrm serve "
                "(scoring.serve.workers, bounded), peer: mlflow models serve (1 worker)")
        out.append(Row(NAME, f"batch of {fmt_int(int(n))}", "p95 under load", o_["p95"] * 1000,
                       p_["p95"] * 1000, "mlflow models serve", "ms", note))
        out.append(Row(NAME, f"batch of {fmt_int(int(n))}", "errors under load",
                       100 * o_["error_rate"], 100 * p_["error_rate"], "mlflow models serve",
                       "%", note))
    return out
