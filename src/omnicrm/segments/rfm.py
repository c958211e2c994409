"""The RFM grid a CRM team works with: recency, frequency and monetary scores 1..5 per buyer
(quintiles of the buyers by default, fixed edges optionally in conf) and the named cells of
the standard RFM map on R x FM (champions, loyal, potential loyalist, new, promising, need
attention, about to sleep, at risk, can't lose, hibernating, lost), with a profile per cell
and a heat map of the grid.

Scores: R = 5 for the most recent fifth of buyers, 1 for the longest lapsed; F and M = 5 for
the most orders / the largest total spend. Quintile edges are the 20/40/60/80% quantiles of
the buyers' values, and a value on an edge takes the lower score, so tied values (one-order
buyers are often a third of a base) share one score instead of being split at random. FM is
the mean of F and M, halves rounded up. Persons who never bought have no scores and the cell
``no_purchase``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from omnicrm.segments.settings import RfmGrid  # noqa: E402

N_SCORES = 5
NO_PURCHASE = "no_purchase"
# score -> the feature it is computed from; R is scored in reverse (fewer days = better)
SCORED = {"r_score": "recency_days", "f_score": "frequency", "m_score": "monetary"}
COLUMNS = ["person_id", "cutoff_date", "recency_days", "frequency", "monetary", "r_score",
           "f_score", "m_score", "fm_score", "rfm_code", "rfm_cell", "lifecycle_stage"]


def quintile_edges(values: pd.Series) -> list[float]:
    """The four inner quintile edges of ``values``."""
    return [float(q) for q in np.quantile(values.to_numpy(float), [0.2, 0.4, 0.6, 0.8])]


def score(values: pd.Series, edges: list[float], higher_is_better: bool = True) -> np.ndarray:
    """1..5 by the four ``edges``: a value <= edges[0] scores 1, (edges[0], edges[1]] 2, ...,
    > edges[3] 5; reversed (5 .. 1) when lower values are better (recency)."""
    if len(edges) != N_SCORES - 1:
        raise ValueError(f"RFM scores need {N_SCORES - 1} edges, got {edges}")
    bins = np.searchsorted(np.asarray(edges, float), values.to_numpy(float), side="left")
    return (bins + 1) if higher_is_better else (N_SCORES - bins)


def fm_score(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The mean of F and M, halves rounded up (F 4, M 5 -> 5)."""
    return (np.asarray(f) + np.asarray(m) + 1) // 2


def cell_map(grid: RfmGrid) -> dict[tuple[int, int], str]:
    """(R, FM) -> cell name from the conf grid (one row per R score, one name per FM 1..5)."""
    out = {}
    for r, row in grid.cells.items():
        for fm, name in enumerate(row, start=1):
            out[(int(r), fm)] = name
    return out


def rfm_edges(buyers: pd.DataFrame, grid: RfmGrid) -> dict[str, list[float]]:
    """The edges of each score: conf's when given, else the buyers' quintiles."""
    given = dict(grid.edges)
    return {s: [float(e) for e in given[col]] if given.get(col) else quintile_edges(buyers[col])
            for s, col in SCORED.items()}


def rfm_table(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
              grid: RfmGrid) -> pd.DataFrame:
    """One row per person: R, F, M and FM scores, the code ('545'), the named cell, and the
    lifecycle stage next to it (from ``customer_segments``)."""
    f = person_features[["person_id", "cutoff_date", *SCORED.values()]].reset_index(drop=True)
    buyer = (f["frequency"] > 0).to_numpy()
    out = f.copy()
    edges = rfm_edges(f[buyer], grid) if buyer.any() else {}  # nobody to score: no quintiles
    for s, col in SCORED.items():
        out[s] = pd.Series(pd.NA, index=f.index, dtype="Int64")
        if buyer.any():
            out.loc[buyer, s] = score(f.loc[buyer, col], edges[s],
                                      higher_is_better=s != "r_score")
    out["fm_score"] = pd.Series(pd.NA, index=f.index, dtype="Int64")
    if buyer.any():
        out.loc[buyer, "fm_score"] = fm_score(out.loc[buyer, "f_score"].to_numpy(int),
                                              out.loc[buyer, "m_score"].to_numpy(int))
    cells = cell_map(grid)
    codes, names = [], []
    for b, r, fs, ms, fm in zip(buyer, out["r_score"], out["f_score"], out["m_score"],
                                out["fm_score"], strict=True):
        codes.append(f"{r}{fs}{ms}" if b else None)
        names.append(cells[(int(r), int(fm))] if b else NO_PURCHASE)
    out["rfm_code"] = codes
    out["rfm_cell"] = names
    stage = customer_segments.set_index("person_id")["lifecycle_stage"]
    out["lifecycle_stage"] = stage.reindex(out["person_id"]).to_numpy()
    return out[COLUMNS]


def rfm_profile(customer_rfm: pd.DataFrame, grid: RfmGrid) -> pd.DataFrame:
    """One row per named cell (in the conf grid's order, then ``no_purchase``): persons, their
    share, spend (total of ``monetary``) and its share, mean recency / frequency / spend, and
    the most common lifecycle stage."""
    order = list(dict.fromkeys(n for row in grid.cells.values() for n in row)) + [NO_PURCHASE]
    g = customer_rfm.groupby("rfm_cell")
    prof = g.agg(persons=("person_id", "size"), spend=("monetary", "sum"),
                 recency_days_mean=("recency_days", "mean"),
                 frequency_mean=("frequency", "mean"), monetary_mean=("monetary", "mean"),
                 main_lifecycle_stage=("lifecycle_stage",
                                       lambda s: s.mode().iloc[0] if s.notna().any() else None))
    prof = prof.reindex(order)
    prof["persons"] = prof["persons"].fillna(0).astype("int64")
    prof["spend"] = prof["spend"].fillna(0.0)
    prof.insert(1, "share", prof["persons"] / max(int(prof["persons"].sum()), 1))
    prof.insert(3, "spend_share", prof["spend"] / (prof["spend"].sum() or 1.0))
    return prof.rename_axis("rfm_cell").reset_index()


def plot_rfm_grid(customer_rfm: pd.DataFrame, grid: RfmGrid) -> plt.Figure:
    """Heat maps of the R x FM grid: buyers per square and spend share per square, each square
    labelled with its named cell."""
    buyers = customer_rfm[customer_rfm["rfm_cell"] != NO_PURCHASE]
    idx = pd.MultiIndex.from_product([range(N_SCORES, 0, -1), range(1, N_SCORES + 1)])
    keys = [buyers["r_score"].astype(int), buyers["fm_score"].astype(int)]
    count = buyers.groupby(keys).size().reindex(idx, fill_value=0)
    spend = buyers.groupby(keys)["monetary"].sum().reindex(idx, fill_value=0.0)
    spend = spend / (spend.sum() or 1.0)
    names = cell_map(grid)
    fig, axes = plt.subplots(1, 2, figsize=(14, 6))
    for ax, values, title, fmt in ((axes[0], count, "buyers", "{:.0f}"),
                                   (axes[1], spend, "share of spend", "{:.1%}")):
        m = values.to_numpy(float).reshape(N_SCORES, N_SCORES)
        im = ax.imshow(m, cmap="YlGnBu")
        for i, r in enumerate(range(N_SCORES, 0, -1)):
            for j, fm in enumerate(range(1, N_SCORES + 1)):
                dark = m[i, j] > m.max() * 0.6
                ax.text(j, i, f"{names[(r, fm)].replace('_', ' ')}\n{fmt.format(m[i, j])}",
                        ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        ax.set_xticks(range(N_SCORES), [str(v) for v in range(1, N_SCORES + 1)])
        ax.set_yticks(range(N_SCORES), [str(v) for v in range(N_SCORES, 0, -1)])
        ax.set_xlabel("FM score (frequency and spend)")
        ax.set_ylabel("R score (recency)")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle("RFM grid")
    fig.tight_layout()
    return fig
