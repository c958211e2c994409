"""The synthetic pipeline as Kedro wires it, on an in-memory catalog: the same world as
``generate_world`` (one set of stage functions), every raw table within its contract."""

from __future__ import annotations

import pandas as pd

from omnicrm.config import with_overrides
from omnicrm.contracts import RAW_CONTRACTS, TRUTH_CONTRACTS, validate
from omnicrm.pipelines.synthetic import create_pipeline
from omnicrm.synthetic.world import generate_world
from tests.conftest import run_in_memory


def test_the_pipeline_writes_the_world_generate_world_makes(parameters):
    params = with_overrides(parameters, {"synthetic.persons": 300, "synthetic.seed": 11})
    out = run_in_memory(create_pipeline(), {}, params)
    world = generate_world(params=params["synthetic"])
    for name in [*RAW_CONTRACTS, *TRUTH_CONTRACTS]:
        pd.testing.assert_frame_equal(out[name].reset_index(drop=True),
                                      world[name].reset_index(drop=True), obj=name)
        contract = {**RAW_CONTRACTS, **TRUTH_CONTRACTS}[name]
        validate(out[name], contract)  # raises on any broken contract
    assert len(out["truth_persons"]) == 300
    assert set(out["truth_records"]["person_id"]) <= set(out["truth_persons"]["person_id"])
    summary = out["world_summary"]
    assert summary["persons"] == 300
    assert summary["orders"] == len(out["orders"])
