"""How good the next best category is: ranking metrics on the purchases that followed a cut-off
(hit rate@k, NDCG@k), and accuracy against the synthetic world's hidden category preferences
(``truth_persons.pref_<category>``; evaluation nodes only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .nextbest import bought_matrix, ranked


def hit_rate_at_k(order: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Share of persons with at least one relevant item among their first ``k``.
    ``order``: persons x ranked column indices (-1 = none); ``relevant``: persons x items."""
    if len(order) == 0:
        return float("nan")
    top = order[:, :k]
    hit = np.take_along_axis(relevant, np.maximum(top, 0), axis=1) & (top >= 0)
    return float(hit.any(axis=1).mean())


def ndcg_at_k(order: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Mean NDCG@k with binary relevance: sum of 1/log2(rank + 1) over the relevant items in
    the first ``k``, over the same for the ideal ranking (min(k, #relevant) hits first)."""
    if len(order) == 0:
        return float("nan")
    top = order[:, :k]
    hit = np.take_along_axis(relevant, np.maximum(top, 0), axis=1) & (top >= 0)
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = (hit * discount).sum(axis=1)
    n_rel = np.minimum(relevant.sum(axis=1), top.shape[1])
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[n_rel]
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.where(ideal > 0, dcg / ideal, 0.0).mean())


def ranking_table(scores: dict[str, np.ndarray], bought: np.ndarray,
                  new_purchases: np.ndarray, ks: list[int]) -> pd.DataFrame:
    """Each method's hit rate@k and NDCG@k over the persons who bought a category new to them
    in the window. ``scores``: method -> persons x categories (bought at -inf);
    ``new_purchases``: persons x categories bought in the window."""
    relevant = new_purchases & ~bought
    judged = relevant.any(axis=1)
    rows = []
    for method, matrix in scores.items():
        order = ranked(matrix[judged], max(ks))
        row = {"method": method, "persons": int(judged.sum())}
        for k in ks:
            row[f"hit_rate_at_{k}"] = hit_rate_at_k(order, relevant[judged], k)
            row[f"ndcg_at_{k}"] = ndcg_at_k(order, relevant[judged], k)
        rows.append(row)
    return pd.DataFrame(rows)


def against_true_preferences(scores: dict[str, np.ndarray], features: pd.DataFrame,
                             categories: list[str], true_persons: pd.DataFrame,
                             truth_persons: pd.DataFrame) -> dict[str, float]:
    """Accuracy@1 and @3 of each method (``scores``: method -> persons x categories, rows as
    ``features``) against the person's truly preferred category among those they have not
    bought (the highest hidden ``pref_<category>``). Persons are OneID persons judged as the
    true person most of their records belong to (``true_persons``: person_id,
    true_person_id); persons who bought every category are left out."""
    ids = true_persons.set_index("person_id")["true_person_id"]
    pid = features["person_id"].astype(str)
    known = pid.isin(ids.index).to_numpy()
    prefs = truth_persons.set_index("person_id").reindex(
        ids.reindex(pid[known]).to_numpy())[[f"pref_{c}" for c in categories]].to_numpy(float)
    bought = bought_matrix(features[known], categories)
    pref = np.where(bought, -np.inf, prefs)
    ok = np.isfinite(pref).any(axis=1) & ~np.isnan(prefs).any(axis=1)
    best = pref[ok].argmax(axis=1)
    out: dict[str, float] = {"persons": float(ok.sum())}
    for method, matrix in scores.items():
        order = ranked(matrix[known][ok], 3)
        out[f"{method}.accuracy_at_1"] = float((order[:, 0] == best).mean())
        out[f"{method}.accuracy_at_3"] = float((order == best[:, None]).any(axis=1).mean())
    unbought = (~bought[ok]).sum(axis=1)
    out["random.accuracy_at_1"] = float(np.mean(1.0 / unbought))
    out["random.accuracy_at_3"] = float(np.mean(np.minimum(3, unbought) / unbought))
    return out
