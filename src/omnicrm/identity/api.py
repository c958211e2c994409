"""OneID in one call: standardise member tables, link them, keep person ids stable, and
match a day's new records against an existing index (incremental mode)."""

from __future__ import annotations

import logging

import pandas as pd

from .link import LinkResult, link_records
from .stable_ids import INDEX_COLUMNS, assign_person_ids
from .standardise import standardise_records

log = logging.getLogger(__name__)


def channel_roles(env: str | None = None) -> dict[str, dict[str, str]]:
    """Which column of each channel's member table plays which role: ``identity.roles`` from
    conf (``env`` merged over base), the same mapping the pipeline uses."""
    from .settings import identity_settings

    return identity_settings(env=env).roles


def standardise_tables(tables: dict[str, pd.DataFrame],
                       roles: dict[str, dict[str, str]] | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One standardised table (``source`` = the table's name) and the data-quality counts."""
    roles = roles or channel_roles()
    parts, quality = [], []
    for source, df in tables.items():
        if source not in roles:
            raise KeyError(f"no column-to-role mapping for table '{source}'")
        std, dq = standardise_records(df, roles[source], source)
        parts.append(std)
        quality.append(dq)
        log.info("standardised %d %s records", len(std), source)
    dq = pd.concat(quality, ignore_index=True)
    dq["rejected_share"] = (dq["invalid"] / dq["records"]).round(4)
    dq["repaired_share"] = (dq["repaired"] / dq["records"]).round(4)
    return pd.concat(parts, ignore_index=True), dq


def person_index_from(result: LinkResult, std: pd.DataFrame, previous: pd.DataFrame | None,
                      run_at: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """record_id, channel, person_id, match_confidence (+ the lineage of this run)."""
    run_at = run_at or pd.Timestamp.now().floor("s")
    index, lineage = assign_person_ids(result.clusters, previous, run_at)
    index = index.merge(std[["record_id", "source"]].rename(columns={"source": "channel"}),
                        on="record_id", how="left")
    return index[INDEX_COLUMNS].sort_values("record_id", ignore_index=True), lineage


def link_members(tables: dict[str, pd.DataFrame], params: dict | None = None,
                 previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Link the four channels' member tables (or any tables named in ``channel_roles()``) into
    a person index: record_id, channel, person_id, match_confidence."""
    std, _ = standardise_tables(tables)
    result = link_records(std, params)
    return person_index_from(result, std, previous)[0]


def link_incremental(new_std: pd.DataFrame, existing_std: pd.DataFrame,
                     existing_index: pd.DataFrame, model: dict,
                     params: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match a day's new standardised records against an existing index with the saved
    model, scoring only pairs that involve a new record. A new record joins the person it
    matches best; new records that match nobody become new persons (linked among themselves).
    Existing persons are never merged here: a new record that bridges two of them joins the
    stronger one, and the full re-link decides the merge.

    Returns the updated index (every existing id unchanged) and this run's lineage."""
    from .link import _params, constrained_clusters, deterministic_pairs, score_pairs

    new_ids = set(new_std["record_id"].astype(str))
    clash = new_ids & set(existing_index["record_id"].astype(str))
    if clash:
        raise ValueError(f"{len(clash)} new record id(s) are already in the index, "
                         f"e.g. {sorted(clash)[:3]}")
    std = pd.concat([existing_std, new_std], ignore_index=True)
    std = std.assign(is_new=std["record_id"].astype(str).isin(new_ids))
    det = deterministic_pairs(std)
    det = det[det["record_id_l"].isin(new_ids) | det["record_id_r"].isin(new_ids)]
    scored = score_pairs(std, model, params, only_new=True)
    pairs = pd.concat([det, scored], ignore_index=True)
    person_of = existing_index.set_index("record_id")["person_id"]
    p = _params(params)
    clusters = constrained_clusters(std["record_id"], std, pairs, p["match_threshold"],
                                    frozen=person_of,
                                    nameless_threshold=p["nameless_match_threshold"])
    index, lineage = assign_person_ids(clusters, existing_index, pd.Timestamp.now().floor("s"))
    index = index.merge(std[["record_id", "source"]].rename(columns={"source": "channel"}),
                        on="record_id", how="left")
    keep_conf = existing_index.set_index("record_id")["match_confidence"]
    old = index["record_id"].isin(keep_conf.index)
    index.loc[old, "match_confidence"] = keep_conf.reindex(index.loc[old, "record_id"]).to_numpy()
    return index[INDEX_COLUMNS].sort_values("record_id", ignore_index=True), lineage
