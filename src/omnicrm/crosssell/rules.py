"""Association rules on baskets (one order = one basket) at category or SKU level: FP-growth
from mlxtend on a sparse one-hot matrix, then support, confidence and lift; per channel and per
value tier; and the bundle table (pairs and triples with their margin).

mlxtend's FP-growth builds its tree in a Python loop over every basket and densifies the
one-hot frame once (``df.values``), so its cost grows with baskets x items. Before calling it
we drop what cannot change the answer: items below the minimum support (never frequent) and
baskets with fewer than two frequent items (they hold no pair or triple). Supports are then
rescaled to all baskets and the single items' supports come from the full matrix, so the
itemsets, and the rules, are exactly those of the full table (tests/crosssell checks it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from omnicrm.features.person_features import slug

SEP = " + "
RULE_COLUMNS = ("level", "segment", "segment_value", "antecedent", "consequent",
                "antecedent_size", "baskets", "n_baskets", "antecedent_support",
                "consequent_support", "support", "confidence", "lift")


def basket_items(orders: pd.DataFrame, order_items: pd.DataFrame, products: pd.DataFrame,
                 person_index: pd.DataFrame, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per order line of the orders in [start, end): order_id, ordered_at, channel,
    person_id, sku, category (slugged, as person_features names it) and paid_price (per
    unit)."""
    o = orders[["order_id", "channel", "record_id", "ordered_at"]]
    if start is not None:
        o = o[o["ordered_at"] >= start]
    if end is not None:
        o = o[o["ordered_at"] < end]
    o = o.merge(person_index[["record_id", "person_id"]], on="record_id", how="left")
    items = order_items[["order_id", "sku", "paid_price"]].merge(
        o[["order_id", "ordered_at", "channel", "person_id"]], on="order_id", how="inner")
    cats = products[["sku", "category"]].assign(category=lambda d: d["category"].map(slug))
    items = items.merge(cats, on="sku", how="left")
    return items[["order_id", "ordered_at", "channel", "person_id", "sku", "category",
                  "paid_price"]]


def basket_matrix(items: pd.DataFrame, level: str) -> tuple[sp.csr_matrix, np.ndarray]:
    """Baskets x items (``level``: category or sku) as a boolean CSR matrix, and the item
    names of its columns (sorted). A basket holding an item twice counts it once."""
    order_code, _ = pd.factorize(items["order_id"])
    item_code, names = pd.factorize(items[level].astype(str), sort=True)
    m = sp.csr_matrix((np.ones(len(items), dtype=bool), (order_code, item_code)),
                      shape=(order_code.max() + 1 if len(items) else 0, len(names)))
    m.sum_duplicates()
    m.data[:] = True
    return m, np.asarray(names, dtype=object)


def frequent_itemsets(matrix: sp.csr_matrix, names: np.ndarray, min_support: float,
                      max_len: int) -> pd.DataFrame:
    """Itemsets in at least ``min_support`` of the baskets, up to ``max_len`` items:
    ``support`` (share of all baskets) and ``itemsets`` (frozensets of names), exactly as
    ``mlxtend.frequent_patterns.fpgrowth`` on the full matrix would give them."""
    from mlxtend.frequent_patterns import fpgrowth

    n = matrix.shape[0]
    if n == 0:
        return pd.DataFrame({"support": [], "itemsets": []})
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    need = math.ceil(min_support * n - 1e-9)          # baskets an itemset needs
    keep = np.flatnonzero(counts >= max(need, 1))
    singles = pd.DataFrame({"support": counts[keep] / n,
                            "itemsets": [frozenset([names[i]]) for i in keep]})
    if max_len < 2 or len(keep) < 2:
        return singles
    reduced = matrix[:, keep]
    rows = np.flatnonzero(np.diff(reduced.indptr) >= 2)   # baskets holding a pair at least
    if len(rows) < need:
        return singles
    reduced = reduced[rows]
    frame = pd.DataFrame.sparse.from_spmatrix(reduced, columns=[str(i) for i in keep])
    frame = frame.astype(pd.SparseDtype(bool, False))
    # the same count threshold on the reduced rows (half a basket below it, so rounding
    # cannot drop an itemset at exactly ``need`` baskets)
    found = fpgrowth(frame, min_support=(need - 0.5) / len(rows), use_colnames=True,
                     max_len=max_len)
    found = found[found["itemsets"].map(len) >= 2]
    multi = pd.DataFrame({
        "support": found["support"].to_numpy() * len(rows) / n,
        "itemsets": [frozenset(names[int(i)] for i in s) for s in found["itemsets"]]})
    return pd.concat([singles, multi], ignore_index=True)


def _label(items) -> str:
    return SEP.join(sorted(str(i) for i in items))


def rules_from_itemsets(itemsets: pd.DataFrame, n_baskets: int, min_confidence: float,
                        min_lift: float) -> pd.DataFrame:
    """Association rules (mlxtend) with confidence and lift at least the minimums: antecedent
    and consequent as " + "-joined names, supports, confidence, lift and basket counts."""
    from mlxtend.frequent_patterns import association_rules

    columns = ["antecedent", "consequent", "antecedent_size", "baskets", "n_baskets",
               "antecedent_support", "consequent_support", "support", "confidence", "lift"]
    if (itemsets["itemsets"].map(len) >= 2).sum() == 0:
        return pd.DataFrame(columns=columns)
    rules = association_rules(itemsets, num_itemsets=n_baskets, metric="confidence",
                              min_threshold=min_confidence,
                              return_metrics=["antecedent support", "consequent support",
                                              "support", "confidence", "lift"])
    rules = rules[rules["lift"] >= min_lift]
    out = pd.DataFrame({
        "antecedent": rules["antecedents"].map(_label),
        "consequent": rules["consequents"].map(_label),
        "antecedent_size": rules["antecedents"].map(len).astype("int64"),
        "baskets": np.rint(rules["support"].to_numpy() * n_baskets).astype("int64"),
        "n_baskets": int(n_baskets),
        "antecedent_support": rules["antecedent support"].to_numpy(float),
        "consequent_support": rules["consequent support"].to_numpy(float),
        "support": rules["support"].to_numpy(float),
        "confidence": rules["confidence"].to_numpy(float),
        "lift": rules["lift"].to_numpy(float)})
    return out.sort_values(["lift", "confidence", "antecedent", "consequent"],
                           ascending=[False, False, True, True],
                           kind="stable").reset_index(drop=True)[columns]


def mine_rules(items: pd.DataFrame, level: str, min_support: float, min_confidence: float,
               min_lift: float, max_len: int, min_baskets: int = 1
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rules and frequent itemsets of the baskets in ``items`` at ``level``; an itemset needs
    ``min_support`` of the baskets and ``min_baskets`` baskets at least."""
    matrix, names = basket_matrix(items, level)
    return matrix_rules(matrix, names, min_support, min_confidence, min_lift, max_len,
                        min_baskets)


def matrix_rules(matrix: sp.csr_matrix, names: np.ndarray, min_support: float,
                 min_confidence: float, min_lift: float, max_len: int, min_baskets: int = 1
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`mine_rules` on a basket matrix (:func:`basket_matrix`)."""
    n = max(matrix.shape[0], 1)
    itemsets = frequent_itemsets(matrix, names, max(min_support, min_baskets / n), max_len)
    return rules_from_itemsets(itemsets, matrix.shape[0], min_confidence, min_lift), itemsets


def _basket_values(items: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` per basket, in :func:`basket_matrix`'s row order (a basket is one order, so
    its channel and its buyer's value tier are one value)."""
    order_code, _ = pd.factorize(items["order_id"])
    _, first = np.unique(order_code, return_index=True)
    values = items[column].iloc[first]
    return values.astype(str).where(values.notna(), None).to_numpy(dtype=object)


def rules_overall_and_by_segment(items: pd.DataFrame, level: str, settings
                                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rules over every basket (segment ``all``) and within each value of each segment column
    of ``items`` (channel, value_tier) that has ``min_segment_baskets`` multi-item baskets;
    and the overall frequent itemsets. ``settings``: the ``rules`` settings. One basket
    matrix per level; a segment is a subset of its rows."""
    matrix, names = basket_matrix(items, level)
    multi = np.diff(matrix.indptr) >= 2
    tasks = [("all", "all", None)]
    for column in settings.segments:
        if column not in items:
            continue
        values = _basket_values(items, column)
        for value in sorted(v for v in set(values) if v is not None):   # unknown: skipped
            rows = np.flatnonzero(values == value)
            if multi[rows].sum() >= settings.min_segment_baskets:
                tasks.append((column, str(value), rows))
    args = (settings.min_support[level], settings.min_confidence, settings.min_lift,
            settings.max_len, settings.min_baskets)
    mined = [matrix_rules(matrix if rows is None else matrix[rows], names, *args)
             for _, _, rows in tasks]
    parts = [rules.assign(segment=segment, segment_value=value)
             for (segment, value, _), (rules, _) in zip(tasks, mined, strict=True)]
    table = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    table["level"] = level
    return table[list(RULE_COLUMNS)], mined[0][1]


def bundle_table(items: pd.DataFrame, itemsets: pd.DataFrame, n_baskets: int, level: str,
                 gross_margin: float, top: int) -> pd.DataFrame:
    """Pairs and triples among the frequent itemsets, with the margin they carry.

    The catalogue has no cost, so an item's margin is ``gross_margin`` x its mean paid unit
    price in these baskets (the brand's average margin rate). ``unit_margin``: the margin of
    one bundle sold at those prices; ``joint_margin``: unit margin x baskets that held the
    bundle (what it earned together). ``lift``: support / product of the items' supports
    (> 1: bought together more often than if independent). Sorted by joint margin."""
    price = items.groupby(level)["paid_price"].mean()
    single = {next(iter(s)): v for s, v in zip(itemsets["itemsets"], itemsets["support"],
                                               strict=True) if len(s) == 1}
    rows = []
    for members, support in zip(itemsets["itemsets"], itemsets["support"], strict=True):
        if len(members) < 2:
            continue
        names = sorted(members)
        unit_price = float(price.reindex(names).sum())
        baskets = int(round(support * n_baskets))
        rows.append({"bundle": SEP.join(names), "size": len(names), "level": level,
                     "baskets": baskets, "support": support,
                     "lift": support / float(np.prod([single[i] for i in names])),
                     "unit_price": unit_price, "unit_margin": gross_margin * unit_price,
                     "joint_margin": gross_margin * unit_price * baskets})
    columns = ["bundle", "size", "level", "baskets", "support", "lift", "unit_price",
               "unit_margin", "joint_margin"]
    table = pd.DataFrame(rows, columns=columns)
    table = table.sort_values(["joint_margin", "bundle"], ascending=[False, True],
                              kind="stable")
    return table.head(top).reset_index(drop=True)
