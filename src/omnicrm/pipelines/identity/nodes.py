"""Nodes of the identity (OneID) pipeline: cleanse, link, golden records, customer 360."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.contracts import CHANNELS
from omnicrm.identity.api import person_index_from, standardise_tables
from omnicrm.identity.evaluation import linkage_scores
from omnicrm.identity.golden import golden_records, member_registrations, person_activity
from omnicrm.identity.link import link_records
from omnicrm.identity.settings import identity_settings
from omnicrm.tracking import mlflow_metrics

log = logging.getLogger(__name__)


def standardise_members(pos_members: pd.DataFrame, tmall_members: pd.DataFrame,
                        wechat_members: pd.DataFrame, web_members: pd.DataFrame,
                        params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cleansing: one standardised table of all member records (``source`` = channel) and
    the data-quality counts per channel and field."""
    tables = dict(zip(CHANNELS, (pos_members, tmall_members, wechat_members, web_members),
                      strict=True))
    return standardise_tables(tables, identity_settings(params).roles)


def link_persons(standardised_members: pd.DataFrame, person_index_previous: pd.DataFrame,
                 person_lineage_previous: pd.DataFrame, params: dict):
    """Deterministic rules + the Splink model + constrained clustering; person ids carried
    over from the previous index. Returns the index, the lineage (appended), the trained
    model, the match-weights and waterfall charts (HTML) and linkage metrics."""
    previous = person_index_previous if len(person_index_previous) else None
    result = link_records(standardised_members, identity_settings(params), keep_linker=True)
    index, lineage = person_index_from(result, standardised_members, previous)
    if len(person_lineage_previous):
        lineage = pd.concat([person_lineage_previous, lineage], ignore_index=True)
    charts = {"match_weights": "", "waterfall": ""}
    if result.linker is not None:
        charts["match_weights"] = result.linker.visualisations.match_weights_chart() \
            .to_html(inline=True)
        sample = result.linker.inference.predict(threshold_match_probability=0.5) \
            .as_pandas_dataframe().head(20).to_dict("records")
        charts["waterfall"] = result.linker.visualisations.waterfall_chart(
            sample, remove_sensitive_data=True).to_html(inline=True)
    persons = index["person_id"].nunique()
    metrics = {
        "records": float(len(index)),
        "persons": float(persons),
        "records_per_person": len(index) / max(persons, 1),
        "share_persons_in_2plus_channels": float(
            (index.groupby("person_id")["channel"].nunique() >= 2).mean()),
        "deterministic_pairs": float((result.pairs["rule"] != "splink").sum()),
        "scored_pairs": float((result.pairs["rule"] == "splink").sum()),
        "mean_match_confidence": float(index["match_confidence"].mean()),
    }
    log.info("OneID: %d records -> %d persons (%.1f%% in 2+ channels)", len(index), persons,
             100 * metrics["share_persons_in_2plus_channels"])
    return (index, lineage, result.model, charts["match_weights"], charts["waterfall"],
            mlflow_metrics(metrics))


def build_golden_records(person_index: pd.DataFrame, standardised_members: pd.DataFrame,
                         registrations: pd.DataFrame) -> pd.DataFrame:
    return golden_records(person_index, standardised_members, registrations)


def build_person_activity(person_index: pd.DataFrame, orders: pd.DataFrame,
                          events: pd.DataFrame) -> pd.DataFrame:
    return person_activity(person_index, orders, events)


def evaluate_linkage(person_index: pd.DataFrame, standardised_members: pd.DataFrame,
                     truth_records: pd.DataFrame, truth_persons: pd.DataFrame
                     ) -> tuple[pd.DataFrame, dict]:
    """OneID against the synthetic truth, next to the ceiling (identity.evaluation)."""
    scores = linkage_scores(person_index, standardised_members, truth_records, truth_persons)
    return scores.reset_index(), mlflow_metrics(
        {f"{case}.{k}": v for case, row in scores.iterrows() for k, v in row.items()
         if isinstance(v, (int, float))},
        finite_only=True)


__all__ = ["build_golden_records", "build_person_activity", "evaluate_linkage", "link_persons",
           "member_registrations", "standardise_members"]
