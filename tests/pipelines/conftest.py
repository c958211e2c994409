"""What several pipelines' in-memory tests start from: the identity pipeline's outputs at
perfect quality (the truth's record -> person map) and the features and segments pipelines'
tables on the 3,000-person world."""

from __future__ import annotations

import pytest

from omnicrm.config import with_overrides
from omnicrm.contracts import CHANNELS
from omnicrm.identity.golden import golden_records, member_registrations
from omnicrm.pipelines.features import create_pipeline as features_pipeline
from omnicrm.pipelines.identity.nodes import standardise_members
from omnicrm.pipelines.segments import create_pipeline as segments_pipeline
from tests.conftest import FAST_PARAMS, run_in_memory


@pytest.fixture(scope="session")
def fast_parameters(parameters) -> dict:
    """The project's parameters with the test run's fewer Optuna trials and targets."""
    return with_overrides(parameters, {**FAST_PARAMS, "segments.bootstrap_rounds": 2})


@pytest.fixture(scope="session")
def identified(world, parameters) -> dict:
    """The world's tables with what the identity pipeline writes, at perfect quality:
    person_index (the truth's record -> person map), member_registrations and the golden
    records of the cleansed member records under that map."""
    tables = dict(world)
    members = [world[f"{c}_members"] for c in CHANNELS]
    tables["person_index"] = world["truth_records"][["record_id", "channel", "person_id"]]
    tables["member_registrations"] = member_registrations(*members)
    standardised, _ = standardise_members(*members, parameters["identity"])
    tables["golden_records"] = golden_records(tables["person_index"], standardised,
                                              tables["member_registrations"])
    return tables


@pytest.fixture(scope="session")
def upstream(identified, fast_parameters) -> dict:
    """... and person_features and customer_segments from their pipelines."""
    tables = dict(identified)
    feats = features_pipeline()
    tables.update(run_in_memory(feats, inputs_of(feats, tables), fast_parameters))
    segs = segments_pipeline().only_nodes("fit_value_tiers", "assign_segments")
    tables.update(run_in_memory(segs, {"person_features": tables["person_features"]},
                                fast_parameters))
    return tables


def inputs_of(pipeline, tables: dict) -> dict:
    return {n: tables[n] for n in pipeline.inputs() if not n.startswith("params:")}
