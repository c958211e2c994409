"""Browse interests judged against the synthetic world's true category preferences
(``truth_persons.favourite_category``): accuracy@1 and @3 of the browse ranking, next to the
purchase-share ranking that the segments' ``preferred_category`` uses (its accuracy@1 is
the segments evaluation's ``preferred_category_accuracy``) and the browse ranking with the
purchase shares where a person did not browse."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from omnicrm.evaluation.persons import oneid_to_true
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)
SHARE = "category_share_"


def top_k_hits(scores: pd.DataFrame, truth: pd.Series, k: int) -> np.ndarray:
    """Per row of ``scores`` (persons x categories, higher = preferred; ties by column
    order): is the true category among the k highest? Rows whose scores are all zero miss."""
    order = np.argsort(-scores.to_numpy(float), axis=1, kind="stable")[:, :k]
    top = np.asarray(scores.columns)[order]
    positive = np.take_along_axis(scores.to_numpy(float), order, axis=1) > 0
    return ((top == truth.to_numpy()[:, None]) & positive).any(axis=1)


def evaluate_browse_interests(browse_interests: pd.DataFrame, person_features: pd.DataFrame,
                              person_index: pd.DataFrame, truth_records: pd.DataFrame,
                              truth_persons: pd.DataFrame) -> tuple[dict, dict]:
    """Accuracy@1 and @3 against each person's true favourite category (OneID persons mapped
    to the true person most of their records belong to): of the browse interest ranking on
    persons who browsed, of the purchase shares on buyers and on the browsers who bought,
    and of browse-else-purchase on everyone with either."""
    true_of = oneid_to_true(person_index, truth_records).set_index("person_id")["true_person_id"]
    favourite = truth_persons.set_index("person_id")["favourite_category"]
    f = person_features.set_index("person_id")
    f = f[f.index.isin(true_of.index)]
    truth = favourite.reindex(true_of.reindex(f.index).to_numpy())
    truth.index = f.index
    purchase = f[[c for c in f.columns if c.startswith(SHARE)]]
    purchase.columns = [c.removeprefix(SHARE) for c in purchase.columns]
    browse = browse_interests.pivot_table(index="person_id", columns="category",
                                          values="interest_score", aggfunc="sum",
                                          fill_value=0.0)
    cats = sorted(set(purchase.columns) | set(browse.columns))
    browse = browse.reindex(index=f.index, columns=cats, fill_value=0.0).fillna(0.0)
    purchase = purchase.reindex(columns=cats, fill_value=0.0)
    browsed = (browse.sum(axis=1) > 0).to_numpy()
    bought = (purchase.sum(axis=1) > 0).to_numpy()
    fallback = browse.where(pd.Series(browsed, index=browse.index), purchase, axis=0)
    either = browsed | bought
    result = {"persons": int(len(f)), "browsers": int(browsed.sum()), "buyers": int(bought.sum()),
              "browsers_who_bought": int((browsed & bought).sum())}
    for name, scores, rows in (("browse", browse, browsed), ("purchase", purchase, bought),
                               ("purchase_on_browsers", purchase, browsed & bought),
                               ("browse_on_buyers", browse, browsed & bought),
                               ("browse_else_purchase", fallback, either)):
        for k in (1, 3):
            hits = top_k_hits(scores[rows], truth[rows], k)
            result[f"{name}_accuracy_at_{k}"] = float(hits.mean()) if rows.any() else np.nan
    log.info("browse interests vs truth: %s",
             {k: round(v, 3) for k, v in result.items() if isinstance(v, float)})
    return result, mlflow_metrics(result, "browse_eval", finite_only=True)
