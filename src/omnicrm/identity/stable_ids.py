"""Stable OneID person ids: a new clustering inherits the ids of the previous run, and every
merge, split and new person is written to a lineage table."""

from __future__ import annotations

import pandas as pd

LINEAGE_COLUMNS = ["event", "person_id", "related_person_id", "records", "run_at"]
INDEX_COLUMNS = ["record_id", "channel", "person_id", "match_confidence"]


def _number(person_id: pd.Series) -> pd.Series:
    return pd.to_numeric(person_id.astype(str).str.extract(r"(\d+)$")[0], errors="coerce")


def format_ids(numbers) -> list[str]:
    return [f"P{int(n):09d}" for n in numbers]


def assign_person_ids(clusters: pd.DataFrame, previous: pd.DataFrame | None,
                      run_at: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``clusters``: record_id, cluster (any label), match_confidence. ``previous``: the last
    person index (record_id, person_id) or None.

    Each new cluster keeps the previous id that most of its records had (ties: the smaller
    id), each previous id goes to one cluster at most (the one holding most of its records),
    and clusters left without an id get fresh ones after the largest id ever given. So a
    re-run on unchanged input changes no id, and a new record joining a person gets that
    person's id."""
    c = clusters[["record_id", "cluster"]].copy()
    if previous is not None and len(previous):
        prev = previous[["record_id", "person_id"]].drop_duplicates("record_id")
        c = c.merge(prev, on="record_id", how="left")
    else:
        c["person_id"] = pd.NA
    votes = (c.dropna(subset=["person_id"]).groupby(["cluster", "person_id"]).size()
             .rename("records").reset_index()
             .sort_values(["records", "person_id"], ascending=[False, True], kind="stable"))
    owner: dict = {}
    taken: set = set()
    for cl, pid in zip(votes["cluster"], votes["person_id"], strict=True):
        if cl in owner or pid in taken:
            continue
        owner[cl] = pid
        taken.add(pid)
    labels = pd.Series(sorted(c["cluster"].unique()))
    fresh = labels[~labels.isin(list(owner))]
    start = 1
    if previous is not None and len(previous):
        start = int(_number(previous["person_id"]).max()) + 1
    owner.update(dict(zip(fresh, format_ids(range(start, start + len(fresh))), strict=True)))
    index = clusters.assign(person_id=clusters["cluster"].map(owner)).drop(columns="cluster")

    events: list[pd.DataFrame] = []
    sizes = c.groupby("cluster").size()
    new_rows = pd.DataFrame({"event": "new", "person_id": [owner[cl] for cl in fresh],
                             "related_person_id": None,
                             "records": sizes.reindex(fresh).to_numpy()})
    events.append(new_rows)
    if len(votes):
        # merge: a cluster holding records of previous ids other than the one it kept
        absorbed = votes[votes["cluster"].map(owner) != votes["person_id"]]
        events.append(pd.DataFrame({
            "event": "merge", "person_id": absorbed["cluster"].map(owner).to_numpy(),
            "related_person_id": absorbed["person_id"].to_numpy(),
            "records": absorbed["records"].to_numpy()}))
        # split: a previous id whose records now sit in more than one cluster
        spread = votes.groupby("person_id")["cluster"].nunique()
        for pid in spread[spread > 1].index:
            parts = votes[(votes["person_id"] == pid)]
            for cl, n in zip(parts["cluster"], parts["records"], strict=True):
                if owner[cl] != pid:
                    events.append(pd.DataFrame({"event": ["split"], "person_id": [pid],
                                                "related_person_id": [owner[cl]],
                                                "records": [n]}))
    lineage = pd.concat([e for e in events if len(e)], ignore_index=True) \
        if any(len(e) for e in events) else pd.DataFrame(columns=LINEAGE_COLUMNS[:-1])
    lineage["run_at"] = run_at
    lineage["records"] = lineage["records"].astype("int64")
    return index, lineage[LINEAGE_COLUMNS]
