"""The identity pipeline as Kedro wires it (cleansing -> linking -> registrations, golden
records, person activity, and its evaluation node), run on an in-memory catalog over the
3,000-person world and judged against that world's truth."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.contracts import CHANNELS
from omnicrm.pipelines.identity import create_pipeline
from tests.conftest import run_in_memory


@pytest.fixture(scope="module")
def outputs(world, parameters) -> dict:
    inputs = {f"{c}_members": world[f"{c}_members"] for c in CHANNELS}
    inputs.update({"orders": world["orders"], "events": world["events"],
                   "truth_records": world["truth_records"],
                   "truth_persons": world["truth_persons"],
                   "person_index_previous": pd.DataFrame(),
                   "person_lineage_previous": pd.DataFrame()})
    return run_in_memory(create_pipeline(), inputs, parameters)


def test_cleansing_is_a_tagged_step_of_identity():
    pipeline = create_pipeline()
    cleansing = pipeline.only_nodes_with_tags("cleansing")
    assert [n.name for n in cleansing.nodes] == ["standardise_members"]
    assert cleansing.outputs() == {"standardised_members", "member_data_quality"}


def test_every_member_record_is_cleansed_registered_and_indexed(outputs, world):
    records = sum(len(world[f"{c}_members"]) for c in CHANNELS)
    assert len(outputs["standardised_members"]) == records
    regs = outputs["member_registrations"]
    assert len(regs) == records and set(regs["channel"]) == set(CHANNELS)
    assert list(regs.columns) == ["record_id", "channel", "registered_at"]  # no personal data
    index = outputs["person_index"]
    assert sorted(index["record_id"]) == sorted(world["truth_records"]["record_id"])
    golden = outputs["golden_records"]
    assert golden["person_id"].is_unique
    assert set(golden["person_id"]) == set(index["person_id"])


def test_linking_matches_the_truth(outputs, world):
    """The evaluation node's scores, checked against a count made here from the truth."""
    scores = outputs["oneid_scores"].set_index("case")
    overall = scores.loc["overall"]
    index = outputs["person_index"].set_index("record_id")["person_id"]
    truth = world["truth_records"].set_index("record_id")["person_id"].reindex(index.index)
    pairs = pd.DataFrame({"pred": index.to_numpy(), "true": truth.to_numpy()})
    both = pairs.groupby(["pred", "true"]).size()
    tp = int((both * (both - 1) // 2).sum())
    pred = pairs.groupby("pred").size()
    assert overall["precision"] == pytest.approx(tp / int((pred * (pred - 1) // 2).sum()))
    assert overall["precision"] > 0.95 and overall["f1"] > 0.8
    assert overall["f1"] <= overall["f1_ceiling"] + 1e-9
    metrics = outputs["oneid_truth_metrics"]
    assert metrics["overall.f1"]["value"] == pytest.approx(overall["f1"])
