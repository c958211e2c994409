"""The win-back audience: dormant and at-risk members ranked by the incremental effect of a
win-back offer, learnt from past randomised campaigns' members who had lapsed at assignment.
Where those rows are too few to learn an effect from (few buyers in either arm), the source
material's middle-band rule is used instead: the members in the middle of their expected
purchases (the purchase-count model of the customer value), since the top band comes back
anyway and the bottom band will not."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from omnicrm.coupon import uplift as U
from omnicrm.coupon.training import as_matrix
from omnicrm.repurchase.targeting import eligible as recency_band

from .settings import WinbackSettings

log = logging.getLogger(__name__)


def eligible(features: pd.DataFrame, s: WinbackSettings) -> pd.DataFrame:
    """Buyers whose last purchase was ``min_days``..``max_days`` (inclusive) ago."""
    return recency_band(features, s.min_days_since_purchase, s.max_days_since_purchase)


def lapsed_members(campaign_members: pd.DataFrame, s: WinbackSettings) -> pd.DataFrame:
    """Past campaign members (one row per campaign and person, features at assignment) who
    had bought but not in the ``train_min_days_since_purchase`` before it."""
    r = campaign_members["recency_days"]
    return campaign_members[r.notna() & (r >= s.train_min_days_since_purchase)]


def uplift_data_is_thin(lapsed: pd.DataFrame, s: WinbackSettings) -> str | None:
    """Why the lapsed rows cannot teach an uplift model (None when they can)."""
    if lapsed.empty:
        return "no past campaign addressed lapsed members"
    treated = lapsed["treated"].to_numpy() == 1
    bought = lapsed["bought"].to_numpy() > 0
    if treated.all() or not treated.any():
        return "the lapsed members' campaigns have no control group"
    if (treated & bought).sum() < s.min_treated_buyers or \
            (~treated & bought).sum() < s.min_control_buyers:
        return (f"{int((treated & bought).sum())} treated and {int((~treated & bought).sum())} "
                f"control buyers among lapsed members (fewer than {s.min_treated_buyers} / "
                f"{s.min_control_buyers})")
    if lapsed["campaign_id"].nunique() <= s.holdout_campaigns:
        return "too few campaigns with lapsed members to hold one out"
    return None


def select_uplift_learner(lapsed: pd.DataFrame, columns: list[str], s: WinbackSettings,
                          seed: int) -> tuple[object | None, pd.DataFrame]:
    """Fit each learner on the earlier campaigns' lapsed rows, score Qini on the latest
    ``holdout_campaigns`` (held out whole), refit the best on all. The best is used only if
    its held-out Qini is positive (it ranks better than chance); else (None, table)."""
    order = (lapsed.groupby("campaign_id")["cutoff_date"].min().sort_values().index.tolist())
    held_ids = order[-s.holdout_campaigns:]
    held = lapsed[lapsed["campaign_id"].isin(held_ids)]
    fit = lapsed[~lapsed["campaign_id"].isin(held_ids)]
    y = s.outcome
    rows = []
    for name in s.learners:
        model = U.make_learner(name, dict(s.xgb), seed).fit(
            as_matrix(fit, columns), fit["treated"].to_numpy(), fit[y].to_numpy(float))
        score = model.predict(as_matrix(held, columns))
        rows.append({"learner": name, **U.uplift_scores(held[y], held["treated"], score)})
    table = pd.DataFrame(rows).sort_values("qini", ascending=False).reset_index(drop=True)
    table["holdout_campaigns"] = ",".join(map(str, held_ids))
    table["rows_fit"], table["rows_held_out"] = len(fit), len(held)
    best = table.iloc[0]
    table["chosen"] = (table.index == 0) & (best["qini"] > 0)
    if not best["qini"] > 0:
        return None, table
    final = U.make_learner(best["learner"], dict(s.xgb), seed).fit(
        as_matrix(lapsed, columns), lapsed["treated"].to_numpy(), lapsed[y].to_numpy(float))
    return final, table


def winback_audience(features: pd.DataFrame, campaign_members: pd.DataFrame,
                     activity: pd.Series, columns: list[str], s: WinbackSettings, seed: int
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranked audience and the learners' held-out table.

    ``activity`` is each person's expected purchases in the coming weeks (index person_id),
    for the middle-band rule. Audience columns: person_id, cutoff_date, recency_days,
    segment (at_risk below ``dormant_from_days``, else dormant), method (uplift or
    middle_band), score (the uplift, or the expected purchases), expected_purchases,
    winback_rank (1 = first). By uplift, the ``audience_share`` of the pool with the largest
    predicted effects, none negative."""
    pool = eligible(features, s).reset_index(drop=True)
    lapsed = lapsed_members(campaign_members, s)
    why = uplift_data_is_thin(lapsed, s)
    model, table = None, pd.DataFrame()
    if why is None:
        model, table = select_uplift_learner(lapsed, columns, s, seed)
        if model is None:
            why = "no learner ranked the held-out campaign's lapsed members better than chance"
    prob = activity.reindex(pool["person_id"].astype(str)).to_numpy(float)
    if model is not None:
        score, method = model.predict(as_matrix(pool, columns)), "uplift"
        # the largest effects, and never a negative one (the offer would keep them away)
        edge = np.quantile(score, 1 - s.audience_share) if len(score) else 0.0
        keep = (score > 0) & (score >= edge)
    else:
        log.info("win-back audience by the middle band of P(buy): %s", why)
        score, method = prob, "middle_band"
        lo, hi = (np.nanquantile(prob, [s.band_low, s.band_high]) if np.isfinite(prob).any()
                  else (np.nan, np.nan))
        keep = (prob >= lo) & (prob < hi)
    out = pd.DataFrame({
        "person_id": pool["person_id"].astype(str).to_numpy(),
        "cutoff_date": pool["cutoff_date"].to_numpy(),
        "recency_days": pool["recency_days"].to_numpy(float),
        "segment": np.where(pool["recency_days"].to_numpy(float) < s.dormant_from_days,
                            "at_risk", "dormant"),
        "method": method, "score": score, "expected_purchases": prob})[keep]
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    out["winback_rank"] = np.arange(1, len(out) + 1)
    if why is not None:
        out.attrs["why_middle_band"] = why
    return out, table
