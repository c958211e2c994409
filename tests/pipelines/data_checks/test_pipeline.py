"""The data_checks pipeline on an in-memory catalog: one profile row per raw table and column,
row counts that are the tables' own."""

from __future__ import annotations

from omnicrm.contracts import RAW_CONTRACTS
from omnicrm.pipelines.data_checks import create_pipeline
from tests.conftest import run_in_memory


def test_every_raw_table_is_profiled_with_its_row_count(world, parameters):
    out = run_in_memory(create_pipeline(), {n: world[n] for n in RAW_CONTRACTS}, parameters)
    profile = out["raw_profile"]
    assert set(profile["table"]) == set(RAW_CONTRACTS)
    for name, contract in RAW_CONTRACTS.items():
        rows = profile[profile["table"] == name]
        assert set(rows["column"]) == set(contract.column_names), name
        assert (rows["rows"] == len(world[name])).all(), name
    pii = profile[profile["pii"]]
    assert len(pii) and pii["min"].isna().all() and pii["max"].isna().all()  # no values shown
    metrics = out["raw_metrics"]
    assert metrics["orders.rows"]["value"] == len(world["orders"])
