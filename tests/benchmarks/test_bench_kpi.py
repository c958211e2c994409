"""The kpi benchmark's two sides compute the same tables, and its equality check holds: on a
world tiled twice, DuckDB over Parquet gives exactly twice the base world's pandas figures
and the same figures as pandas on the tiled world itself; a changed figure is caught."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_kpi
from benchmarks.bench_features import prepare


def test_ours_on_the_tiled_world_is_copies_times_the_peer_on_its_base(tmp_path: Path):
    data = tmp_path / "data"
    prep = prepare(tmp_path, str(data), persons=1200, copies=2, min_events=0)
    assert prep["rows"]["full.orders"] == 2 * prep["rows"]["base.orders"]
    ours = bench_kpi.ours(tmp_path, str(data / "full"))
    base = bench_kpi.peer(tmp_path, str(data / "base"))
    full = bench_kpi.peer(tmp_path, str(data / "full"))
    assert len(ours["weeks"]) >= 8 and sum(ours["sales"]) > 0
    assert ours["sales"] == full["sales"] and ours["visitors"] == full["visitors"]
    assert ours["tables"] == full["tables"]
    assert bench_kpi.equal(ours, base, 2)
    wrong = {**base, "visitors": [v + 1 for v in base["visitors"]]}
    assert not bench_kpi.equal(ours, wrong, 2)
