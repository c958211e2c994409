"""Budget allocation: which offers to send under a total budget and a per-customer limit.

A Lagrangian relaxation of the multiple-choice knapsack: for a price lambda on each yuan of
expected cost, every person takes the offer maximising incremental margin - lambda x cost (or
none); lambda is bisected to the smallest value whose plan fits the budget. lambda is then
the marginal return of the last yuan spent (incremental margin per extra yuan of cost).
What the budget has left after that is filled greedily by margin per yuan."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _choose(margin: np.ndarray, cost: np.ndarray, lam: float, floor: float | None):
    """margin, cost: (offers, persons). Best offer index per person, or -1 for none. With no
    floor and no price on cost every candidate is kept (the candidates were gated already)."""
    score = margin - lam * cost
    best = score.argmax(axis=0)
    cols = np.arange(margin.shape[1])
    s = score[best, cols]
    keep = np.isfinite(s)
    if floor is not None:
        keep &= margin[best, cols] > floor
    if lam > 0 or floor is not None:
        keep &= s > 0
    return np.where(keep, best, -1)


def _fill(margin, cost, choice, slack: float, floor: float | None, max_moves: int = 10000):
    """Greedy repair of the Lagrangian plan: spend what the budget has left on the moves
    (a new offer, or a switch to a better one) with the most extra margin per extra yuan."""
    n = margin.shape[1]
    cols = np.arange(n)
    floor = 0.0 if floor is None else floor
    for _ in range(max_moves):
        cur_m = np.where(choice >= 0, margin[np.maximum(choice, 0), cols], 0.0)
        cur_c = np.where(choice >= 0, cost[np.maximum(choice, 0), cols], 0.0)
        dm, dc = margin - cur_m, cost - cur_c
        ok = np.isfinite(dm) & (dm > 0) & (dc <= slack) & (margin > floor)
        if not ok.any():
            break
        ratio = np.where(ok, dm / np.maximum(dc, 1e-9), -np.inf)
        o, p = np.unravel_index(np.argmax(ratio), ratio.shape)
        choice = choice.copy()
        choice[p] = o
        slack -= dc[o, p]
    return choice


def _spent(cost: np.ndarray, choice: np.ndarray) -> float:
    sel = choice >= 0
    return float(cost[choice[sel], np.flatnonzero(sel)].sum())


def _priced_to_budget(margin: np.ndarray, cost: np.ndarray, budget: float | None,
                      floor: float | None, iterations: int) -> tuple[np.ndarray, float]:
    """The offer per column (-1 none) at the smallest price lambda per yuan whose plan fits
    the budget (bisection), then the greedy fill of what is left; lambda is 0 when the budget
    does not bind."""
    choice = _choose(margin, cost, 0.0, floor)
    if budget is None or _spent(cost, choice) <= budget:
        return choice, 0.0
    lo, hi = 0.0, 1.0
    while _spent(cost, _choose(margin, cost, hi, floor)) > budget and hi < 1e6:
        hi *= 2
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _spent(cost, _choose(margin, cost, mid, floor)) > budget \
            else (lo, mid)
    choice = _choose(margin, cost, hi, floor)
    return _fill(margin, cost, choice, budget - _spent(cost, choice), floor), hi


def plan_summary(chosen: pd.DataFrame, persons: int, budget: float | None, lam: float,
                 margin_col: str = "expected_incremental_margin",
                 cost_col: str = "expected_cost") -> dict:
    """The expected totals of a plan (one row per person with an offer)."""
    m, c = chosen[margin_col].to_numpy(float), chosen[cost_col].to_numpy(float)
    summary = {
        "offers": int(len(chosen)), "persons": int(persons),
        "expected_incremental_margin": float(m.sum()), "expected_cost": float(c.sum()),
        "budget": None if budget is None else float(budget),
        "marginal_return_per_yuan": float(lam),
        "last_offer_return": float(np.min(m / np.maximum(c, 1e-9))) if len(m) else 0.0,
    }
    if "expected_incremental_revenue" in chosen:
        summary["expected_incremental_revenue"] = float(
            chosen["expected_incremental_revenue"].sum())
    return summary


def allocate_budget(candidates: pd.DataFrame, budget: float | None = None,
                    max_discount: float | None = None,
                    min_incremental_margin: float | None = 0.0,
                    margin_col: str = "expected_incremental_margin",
                    cost_col: str = "expected_cost", iterations: int = 60
                    ) -> tuple[pd.DataFrame, dict]:
    """One chosen offer (or none) per person from the long ``candidates`` table (person_id,
    coupon_threshold, discount, margin and cost columns, every person with every offer).

    ``budget``: total expected cost (discounts paid + sending) allowed; None = unlimited.
    ``max_discount``: per-customer limit on the discount Y of the offer.
    ``min_incremental_margin``: offers must earn more than this; None keeps every candidate
    while the budget does not bind (when the candidates are already the chosen offers).
    Returns the chosen rows (persons without an offer are absent) and a summary with the
    expected totals and ``marginal_return_per_yuan`` (lambda; 0 when the budget does not
    bind, then ``last_offer_return``, the lowest margin/cost ratio among chosen offers,
    says what the last yuan earns)."""
    c = candidates
    if max_discount is not None:
        c = c[c["discount"] <= float(max_discount)]
    c = c.sort_values(["coupon_threshold", "discount", "person_id"], kind="stable")
    persons = pd.Index(c["person_id"].unique())
    offers = c[["coupon_threshold", "discount"]].drop_duplicates().to_numpy()
    k, n = len(offers), len(persons)
    grid = np.full((k, n), -np.inf)
    cost = np.zeros((k, n))
    oi = pd.MultiIndex.from_arrays([c["coupon_threshold"], c["discount"]]).map(
        {tuple(o): i for i, o in enumerate(map(tuple, offers))}).to_numpy()
    pi = persons.get_indexer(c["person_id"])
    grid[oi, pi] = c[margin_col].to_numpy(float)
    cost[oi, pi] = c[cost_col].to_numpy(float)

    choice, lam = _priced_to_budget(grid, cost, budget, min_incremental_margin, iterations)
    sel = np.flatnonzero(choice >= 0)
    chosen = pd.DataFrame({"person_id": persons[sel],
                           "coupon_threshold": offers[choice[sel], 0],
                           "discount": offers[choice[sel], 1]})
    chosen = chosen.merge(c, on=["person_id", "coupon_threshold", "discount"], how="left")
    return chosen, plan_summary(chosen, n, budget, lam, margin_col, cost_col)


def allocate_by_segment(margin: np.ndarray, cost: np.ndarray, segment: np.ndarray,
                        budget: float | None, floor: float = 0.0, iterations: int = 60
                        ) -> tuple[np.ndarray, float]:
    """One offer (or none) per segment under a total budget; the segment is the unit that
    chooses (as in the unconstrained plan), so a tight budget moves whole segments to cheaper
    offers instead of dropping persons from their expensive ones.

    ``margin``, ``cost``: (offers, persons) expected incremental margin and cost (-inf margin
    = offer not allowed); ``segment``: the person's segment; ``floor``: an offer must earn
    more than this per person. Lagrangian over the segment totals, greedy fill, then the one
    move the rest of the budget cannot pay for whole is given to part of its segment, the
    members with the most extra margin per extra yuan first. Returns the offer index per
    person (-1 none) and lambda, the marginal return of the last yuan (0 when the budget
    does not bind)."""
    segs, inv = np.unique(segment, return_inverse=True)
    k, n_seg = margin.shape[0], len(segs)
    size = np.bincount(inv, minlength=n_seg).astype(float)
    ok = np.isfinite(margin)
    m = np.where(ok, margin, 0.0)
    M = np.vstack([np.bincount(inv, weights=m[o], minlength=n_seg) for o in range(k)])
    C = np.vstack([np.bincount(inv, weights=cost[o], minlength=n_seg) for o in range(k)])
    allowed = np.vstack([np.bincount(inv, weights=ok[o], minlength=n_seg) for o in range(k)])
    M = np.where(allowed == size, M - floor * size, -np.inf)  # net of the floor, all-or-none

    choice, lam = _priced_to_budget(M, C, budget, 0.0, iterations)
    person = choice[inv]
    if budget is None or lam == 0.0:
        return person, lam
    # the best move left (more margin, more cost than the slack pays for whole), to part of
    # its segment
    slack = budget - _spent(C, choice)
    cols = np.arange(n_seg)
    cur_m = np.where(choice >= 0, M[np.maximum(choice, 0), cols], 0.0)
    cur_c = np.where(choice >= 0, C[np.maximum(choice, 0), cols], 0.0)
    dm, dc = M - cur_m, C - cur_c
    good = np.isfinite(dm) & (dm > 0) & (dc > 0)
    if not good.any() or slack <= 0:
        return person, lam
    o, s = np.unravel_index(np.argmax(np.where(good, dm / np.maximum(dc, 1e-9), -np.inf)),
                            dm.shape)
    members = np.flatnonzero(inv == s)
    c_cur = choice[s]
    pm = m[o, members] - (m[c_cur, members] if c_cur >= 0 else floor)
    pc = cost[o, members] - (cost[c_cur, members] if c_cur >= 0 else 0.0)
    order = np.argsort(-(pm / np.maximum(pc, 1e-9)), kind="stable")
    order = order[pm[order] > 0]
    take = order[np.cumsum(np.maximum(pc[order], 0.0)) <= slack]
    person[members[take]] = o
    return person, lam
