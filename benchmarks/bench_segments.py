"""Segments: value tiers for 1M customers (fit on a sample, bootstrap stability, assign
everyone, lifecycle, tags, profile) vs plain scikit-learn k-means on the raw, unscaled RFM
columns of all of them; time, memory and agreement with the latent value tier.

The person features come from a generated world (``persons / copies`` persons, features on
DuckDB) tiled ``copies`` times with a little jitter on the continuous columns; each copy keeps
its persons' latent tier, so the adjusted Rand index is measured on all 1M rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .common import GB, Options, Row, fmt_int, measure, progress

NAME = "segments"
PEER = "plain k-means (raw)"
PERSONS, PERSONS_QUICK = 1_000_000, 20_000
BASE, BASE_QUICK = 100_000, 5_000


def prepare(scratch: Path, data: str, persons: int, base: int) -> dict:
    import numpy as np
    import pandas as pd

    from omnicrm.features import person_features, resolve_cutoff
    from omnicrm.identity.golden import member_registrations
    from omnicrm.synthetic.world import generate_world

    w = generate_world(persons=base, seed=13)
    regs = member_registrations(w["pos_members"], w["tmall_members"], w["wechat_members"],
                                w["web_members"])
    index = w["truth_records"][["record_id", "person_id"]]
    tables = {"orders": w["orders"], "order_items": w["order_items"], "events": w["events"],
              "campaign_members": w["campaign_members"],
              "coupon_redemptions": w["coupon_redemptions"], "registrations": regs,
              "person_index": index}
    cutoff = resolve_cutoff(None, w["orders"])
    f = person_features(tables, w["products"], cutoff)
    f["value_tier_truth"] = f["person_id"].map(w["truth_persons"].set_index("person_id")
                                               ["value_tier"])
    bayes_ari = _bayes_ceiling(w, f, cutoff)
    copies = max(1, persons // len(f))
    rng = np.random.default_rng(0)
    parts = []
    for c in range(copies):
        part = f.copy()
        part["person_id"] = part["person_id"] + f"-{c}"
        if c:  # jitter: the copies are near-duplicates, not identical points
            for col in ("avg_basket_log", "orders_per_year", "spend_year", "avg_order_value",
                        "monetary"):
                part[col] = part[col] * np.exp(rng.normal(0, 0.01, len(part)))
        parts.append(part)
    full = pd.concat(parts, ignore_index=True)
    full.to_parquet(Path(data) / "features.parquet", index=False)
    return {"persons": len(full), "base": len(f), "bayes_ari": bayes_ari}


def _bayes_ceiling(world: dict, features, cutoff) -> float:
    """ARI of the Bayes-optimal tiers on the base world's buyers (the copies repeat them, so
    it is the ceiling on all rows too)."""
    from sklearn.metrics import adjusted_rand_score

    from omnicrm.segments.oracle import TierModel, map_tiers, order_histories, tier_posterior
    from omnicrm.synthetic.world import default_params

    model = TierModel.from_params(default_params())
    buyers = features[features["frequency"] > 0]
    histories = order_histories(world["orders"], world["truth_records"], cutoff, model.start)
    post = tier_posterior(histories, model, cutoff, persons=buyers["person_id"])
    return float(adjusted_rand_score(buyers["value_tier_truth"], map_tiers(post)))


def ours(scratch: Path, data: str) -> dict:
    import pandas as pd
    import yaml
    from sklearn.metrics import adjusted_rand_score

    from omnicrm.pipelines.segments import nodes
    from omnicrm.settings import PROJECT_ROOT

    params = yaml.safe_load((Path(PROJECT_ROOT) / "conf/base/parameters_segments.yml")
                            .read_text())["segments"]
    f = pd.read_parquet(Path(data) / "features.parquet")
    model, metrics = nodes.fit_value_tiers(f, params)
    seg = nodes.assign_segments(f, model, params)
    nodes.profile_value_tiers(f, seg, params)
    buyer = (f["frequency"] > 0).to_numpy()
    return {"persons": len(f),
            "ari": adjusted_rand_score(f["value_tier_truth"][buyer], seg["value_tier"][buyer]),
            **{k.removeprefix("value_tiers."): v["value"] for k, v in metrics.items()}}


def peer(scratch: Path, data: str) -> dict:
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from omnicrm.segments.evaluation import plain_kmeans_tiers

    f = pd.read_parquet(Path(data) / "features.parquet")
    buyer = (f["frequency"] > 0).to_numpy()
    labels = plain_kmeans_tiers(f[buyer], 6)
    return {"persons": len(f), "ari": adjusted_rand_score(f["value_tier_truth"][buyer], labels)}


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    base = min(n, BASE_QUICK if opts.quick else BASE)
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-segments-") as data:
        progress(f"{NAME}: preparing features of {fmt_int(n)} persons from a "
                 f"{fmt_int(base)}-person world")
        prep = measure("benchmarks.bench_segments:prepare",
                       {"data": data, "persons": n, "base": base}, label=f"{NAME} prepare",
                       max_rss_gb=opts.max_rss_gb)
        size = f"{fmt_int(prep.info['persons'])} persons"
        progress(f"{NAME}: ours = value tiers (+ {10} bootstrap refits), lifecycle, tags")
        o = measure("benchmarks.bench_segments:ours", {"data": data}, label=f"{NAME} ours",
                    preload=("omnicrm.pipelines.segments.nodes",), max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: ours took {o.seconds:.1f} s")
        p = measure("benchmarks.bench_segments:peer", {"data": data}, label=f"{NAME} peer",
                    preload=("omnicrm.segments.evaluation",),
                    max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: peer took {p.seconds:.1f} s")
    i = o.info
    return [
        Row(NAME, size, "wall time", o.seconds, p.seconds, PEER, "s",
            f"ours: fit on a {fmt_int(200_000)} sample of 3+ order buyers, 10 bootstrap "
            f"refits, assign all, lifecycle, tags, profile; peer: KMeans(6, n_init=10) on all "
            f"buyers"),
        Row(NAME, size, "peak RSS", o.peak_rss / GB, p.peak_rss / GB, PEER, "GB",
            "whole process"),
        Row(NAME, size, "ARI vs latent tier", i["ari"], p.info["ari"], PEER, "",
            f"buyers; Bayes ceiling {prep.info['bayes_ari']:.3f} (generator's own model); "
            f"silhouette {i['silhouette']:.3f}, bootstrap ARI "
            f"{i['bootstrap_ari_mean']:.3f} (min {i['bootstrap_ari_min']:.3f})",
            higher_is_better=True),
    ]
