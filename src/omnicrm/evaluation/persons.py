"""OneID persons -> the synthetic world's true persons, for evaluation nodes that judge
per-person outputs (segments, offers) against per-person truth."""

from __future__ import annotations

import pandas as pd


def oneid_to_true(person_index: pd.DataFrame, truth_records: pd.DataFrame) -> pd.DataFrame:
    """OneID person_id -> true_person_id: the true person most of its records belong to
    (ties: the smallest id). A true person split over several OneID persons appears once per
    OneID person."""
    m = person_index[["record_id", "person_id"]].merge(
        truth_records[["record_id", "person_id"]].rename(columns={"person_id": "true_person_id"}),
        on="record_id")
    votes = m.groupby(["person_id", "true_person_id"]).size().rename("records").reset_index()
    votes = votes.sort_values(["person_id", "records", "true_person_id"],
                              ascending=[True, False, True], kind="stable")
    return votes.drop_duplicates("person_id")[["person_id", "true_person_id"]]
