"""Cross-sell at scale: (a) association rules (category and SKU level, overall, per channel and
per value tier: the pipeline's node) over 50 order items a person, i.e. 50M items for 1M
persons, against mlxtend's FP-growth on the full one-hot (no pruning of infrequent items and
single-item baskets) on the overall SKU rules; (b) the next best category model's fit and
top-3 for every person, 1M persons. Issue 21's targets: (a) 50M order items <= 5 min, (b) 1M
persons <= 5 min.

The baskets are simulated (no Kedro run): orders of 1 + Poisson(1.5) items, each item from the
order's leading category with probability 0.6, SKUs skewed to the popular ones, four channels
and six value tiers; the persons of (b) are person_features-like rows with the same taste
model. Pass ``--persons N`` to size both (items = 50 N). The peer (overall SKU rules only,
like for like with ours) runs on the same baskets up to 100k persons, above that on a tenth
of them (``--peer-persons``); targets are scaled linearly to the measured size.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib.metadata import version as _version
from pathlib import Path

from .common import GB, Options, Row, fmt_int, measure, measure_ours, progress

NAME = "crosssell"
PERSONS, PERSONS_QUICK = 1_000_000, 4_000
ITEMS_PER_PERSON = 50
TARGET_S = 300
CATEGORIES = ("tops", "trousers", "dresses", "outerwear", "shoes", "accessories", "underwear",
              "sportswear")
SKUS_PER_CATEGORY = 60


def prepare_baskets(scratch: Path, data: str, items: int, seed: int = 21) -> dict:
    """``items`` order lines (order_id, channel, value_tier, sku, category, paid_price) to
    Parquet."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_orders = int(items / 2.5) + 1
    size = 1 + rng.poisson(1.5, n_orders)
    size = size[np.cumsum(size) <= items]
    n_orders = len(size)
    order = np.repeat(np.arange(n_orders), size)
    k = len(CATEGORIES)
    lead = rng.integers(0, k, n_orders)
    cat = np.where(rng.random(len(order)) < 0.6, lead[order], rng.integers(0, k, len(order)))
    sku = cat * SKUS_PER_CATEGORY + (rng.random(len(order)) ** 2.2
                                     * SKUS_PER_CATEGORY).astype(int)
    price = np.array([159, 229, 329, 569, 429, 99, 79, 269], float)
    frame = pd.DataFrame({
        "order_id": order, "channel": np.array(["pos", "tmall", "wechat", "web"])[
            rng.integers(0, 4, n_orders)][order],
        "value_tier": rng.integers(0, 6, n_orders).astype(str)[order],
        "sku": np.char.add("SKU", np.char.zfill(sku.astype(str), 6)),
        "category": np.asarray(CATEGORIES)[cat],
        "paid_price": (price[cat] * rng.lognormal(0, 0.3, len(order))).round(2)})
    frame.to_parquet(Path(data) / "items.parquet", index=False)
    return {"items": len(frame), "orders": n_orders}


def _rule_settings():
    """The project's ``crosssell`` settings (conf/base)."""
    from omnicrm.config import settings_from
    from omnicrm.crosssell.settings import CrossSellSettings

    return settings_from(CrossSellSettings, "crosssell")


def ours_rules(scratch: Path, data: str) -> dict:
    """The pipeline's rule mining on the baskets: both levels, overall and per segment."""
    import time

    import pandas as pd

    from omnicrm.crosssell.rules import rules_overall_and_by_segment

    s = _rule_settings()
    start = time.perf_counter()
    items = pd.read_parquet(Path(data) / "items.parquet")
    steps, counts = {"read": time.perf_counter() - start}, {}
    for level in s.rules.min_support:
        t = time.perf_counter()
        rules, _ = rules_overall_and_by_segment(items, level, s.rules)
        steps[level] = time.perf_counter() - t
        counts[level] = int((rules["segment"] == "all").sum())
        counts[f"{level}_segments"] = int((rules["segment"] != "all").sum())
    return {"steps": steps, "rules": counts}


def ours_sku_overall(scratch: Path, data: str) -> dict:
    """Our pruned FP-growth and rules, overall SKU level only (the peer's work)."""
    import pandas as pd

    from omnicrm.crosssell.rules import mine_rules

    s = _rule_settings()
    items = pd.read_parquet(Path(data) / "items.parquet")
    rules, itemsets = mine_rules(items, "sku", s.rules.min_support["sku"],
                                 s.rules.min_confidence, s.rules.min_lift, s.rules.max_len,
                                 s.rules.min_baskets)
    return {"rules": len(rules), "itemsets": len(itemsets)}


def peer_rules(scratch: Path, data: str) -> dict:
    """mlxtend's FP-growth and association rules on the full sparse one-hot (every basket,
    every SKU), overall SKU level only, at the same settings."""
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    from omnicrm.crosssell.rules import basket_matrix

    s = _rule_settings()
    items = pd.read_parquet(Path(data) / "items.parquet")
    matrix, names = basket_matrix(items, "sku")
    n = matrix.shape[0]
    support = max(s.rules.min_support["sku"], s.rules.min_baskets / n)
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, columns=list(names))
    frame = frame.astype(pd.SparseDtype(bool, False))
    found = fpgrowth(frame, min_support=support, use_colnames=True, max_len=s.rules.max_len)
    rules = association_rules(found, num_itemsets=n, metric="confidence",
                              min_threshold=s.rules.min_confidence)
    return {"rules": int((rules["lift"] >= s.rules.min_lift).sum()), "itemsets": len(found)}


def prepare_persons(scratch: Path, data: str, persons: int, seed: int = 5) -> dict:
    """person_features-like rows (category shares from a Dirichlet taste, activity) and which
    categories each buys in the next window, to Parquet."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    k = len(CATEGORIES)
    pref = rng.dirichlet(np.full(k, 0.6), persons)
    items = rng.poisson(4.0, persons)
    counts = np.stack([rng.binomial(items, pref[:, j]) for j in range(k)], axis=1)
    total = np.maximum(counts.sum(axis=1), 1)
    features = pd.DataFrame({"person_id": np.char.add("P", np.arange(persons).astype(str)),
                             "cutoff_date": pd.Timestamp("2026-10-01"),
                             "frequency": ((items > 0) * (1 + rng.poisson(1, persons))
                                           ).astype(float),
                             "orders_per_year": rng.gamma(2, 1, persons),
                             "recency_days": rng.integers(1, 700, persons).astype(float),
                             "spend_year": items * 150.0, "items_year": items.astype(float),
                             "avg_order_value": 300.0})
    for j, c in enumerate(CATEGORIES):
        features[f"category_share_{c}"] = counts[:, j] / total
        features[f"next_{c}"] = rng.random(persons) < 0.05 * pref[:, j] * k
    features.to_parquet(Path(data) / "persons.parquet", index=False)
    return {"persons": persons}


def ours_next_best(scratch: Path, data: str, seed: int = 5) -> dict:
    """Fit the next best category model on the persons (peers, then the propensity
    classifier on their next-window labels) and rank every person's top 3."""
    import time

    import pandas as pd

    from omnicrm.crosssell import nextbest as nb

    s = _rule_settings()
    start = time.perf_counter()
    features = pd.read_parquet(Path(data) / "persons.parquet")
    nxt = features[[f"next_{c}" for c in CATEGORIES]].to_numpy(bool)
    read = time.perf_counter() - start
    rules = pd.DataFrame({"antecedent": ["tops"], "consequent": ["trousers"],
                          "confidence": [0.3]})
    prices = pd.Series([159, 229, 329, 569, 429, 99, 79, 269], index=CATEGORIES, dtype=float)
    peers = nb.CategoryPeers.fit(features, rules, prices)
    X, y = nb.training_rows(peers, features, nxt, s.next_best.max_training_rows, seed)
    classifier = nb.fit_classifier(X, y, s.next_best.regularisation, seed)
    fit = time.perf_counter() - start - read
    model = nb.NextBestCategoryModel(peers, classifier, s.next_best.top_k)
    top = model.top(features)
    return {"steps": {"read": read, "fit": fit,
                      "top3": time.perf_counter() - start - read - fit},
            "persons": len(top), "training_rows": len(y)}


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    # the peer densifies baskets x SKUs: at the main size up to 100k persons (5M items)
    peer_n = opts.peer_persons or (n if n <= 100_000 else n // 10)
    target_items = PERSONS * ITEMS_PER_PERSON
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-crosssell-") as data:
        progress(f"{NAME}: simulating {fmt_int(n * ITEMS_PER_PERSON)} order items")
        prep = measure("benchmarks.bench_crosssell:prepare_baskets",
                       {"data": data, "items": n * ITEMS_PER_PERSON},
                       label=f"{NAME} prepare", max_rss_gb=opts.max_rss_gb)
        size = f"{fmt_int(prep.info['items'])} order items, {fmt_int(prep.info['orders'])} orders"
        m, failed = measure_ours(NAME, "benchmarks.bench_crosssell:ours_rules", {"data": data},
                                 preload=("omnicrm.crosssell.rules", "mlxtend.frequent_patterns",
                                          "pyarrow"), max_rss_gb=opts.max_rss_gb)
        if m is None:
            rows.append(Row(NAME, size, "rules: wall time", None, TARGET_S, "target", "s",
                            failed))
        else:
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in m.info["steps"].items())
            scale = target_items / prep.info["items"]
            rows += [
                Row(NAME, size, "rules (both levels, overall + per segment): wall time",
                    m.seconds, TARGET_S * prep.info["items"] / target_items,
                    "target (issue 21) scaled to this size", "s",
                    f"{steps}; rules overall {m.info['rules']}; linear extrapolation to 50M "
                    f"items: {m.seconds * scale:.0f} s vs target {TARGET_S} s"),
                Row(NAME, size, "rules: peak RSS", m.peak_rss / GB, None, "", "GB",
                    f"whole process, incl. ~{m.base_rss / GB:.1f} GB interpreter and imports"),
            ]
        # like for like: overall SKU rules, ours (pruned) and plain mlxtend, same baskets
        if peer_n == n:
            peer_dir, p_items = data, prep.info["items"]
        else:
            peer_dir = tempfile.mkdtemp(prefix="omnicrm-bench-crosssell-peer-")
            p_items = measure("benchmarks.bench_crosssell:prepare_baskets",
                              {"data": peer_dir, "items": peer_n * ITEMS_PER_PERSON},
                              label=f"{NAME} prepare peer").info["items"]
        progress(f"{NAME}: overall SKU rules, ours and plain mlxtend, {fmt_int(p_items)} items")
        o_sku, _ = measure_ours(NAME, "benchmarks.bench_crosssell:ours_sku_overall",
                                {"data": peer_dir}, preload=("omnicrm.crosssell.rules",
                                                             "mlxtend.frequent_patterns",
                                                             "pyarrow"),
                                max_rss_gb=opts.max_rss_gb)
        try:
            p = measure("benchmarks.bench_crosssell:peer_rules", {"data": peer_dir},
                        label=f"{NAME} peer", preload=("omnicrm.crosssell.rules",
                                                       "mlxtend.frequent_patterns", "pyarrow"),
                        max_rss_gb=opts.max_rss_gb)
        except Exception as exc:  # noqa: BLE001 - said in the table
            p = None
            progress(f"{NAME}: peer failed: {exc}")
        if peer_dir != data:
            shutil.rmtree(peer_dir, ignore_errors=True)
        if o_sku is not None and p is not None:
            rows += [
                Row(NAME, f"{fmt_int(p_items)} order items", "overall SKU rules: wall time",
                    o_sku.seconds, p.seconds, f"mlxtend {_version('mlxtend')} fpgrowth on the "
                    "full one-hot", "s", f"same rules: ours {o_sku.info['rules']}, peer "
                    f"{p.info['rules']} ({o_sku.info['itemsets']} itemsets)"),
                Row(NAME, f"{fmt_int(p_items)} order items", "overall SKU rules: peak RSS",
                    o_sku.peak_rss / GB, p.peak_rss / GB, "mlxtend fpgrowth on the full "
                    "one-hot", "GB", "whole process; the peer densifies baskets x SKUs once"),
            ]
        progress(f"{NAME}: next best category on {fmt_int(n)} persons")
        measure("benchmarks.bench_crosssell:prepare_persons", {"data": data, "persons": n},
                label=f"{NAME} prepare persons")
        r, failed = measure_ours(NAME, "benchmarks.bench_crosssell:ours_next_best",
                                 {"data": data}, preload=("omnicrm.crosssell.nextbest",
                                                          "sklearn.linear_model", "pyarrow"),
                                 max_rss_gb=opts.max_rss_gb)
    psize = f"{fmt_int(n)} persons"
    if r is None:
        return rows + [Row(NAME, psize, "next best: wall time", None, TARGET_S, "target", "s",
                           failed)]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in r.info["steps"].items())
    return rows + [
        Row(NAME, psize, "next best category: fit + top-3 for everyone", r.seconds,
            TARGET_S * n / PERSONS, "target (issue 21) scaled to this size", "s",
            f"{steps}; {fmt_int(r.info['training_rows'])} training rows; linear "
            f"extrapolation to 1M: {r.seconds * PERSONS / n:.0f} s vs target {TARGET_S} s"),
        Row(NAME, psize, "next best: peak RSS", r.peak_rss / GB, None, "", "GB",
            f"whole process, incl. ~{r.base_rss / GB:.1f} GB interpreter and imports"),
    ]
