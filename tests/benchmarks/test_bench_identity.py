"""The identity benchmark end to end on a tiny world: both sides measured on the same member
tables and scored against the truth, with a stand-in for the OneID linker; and a linker that
cannot be imported gives rows without ours, not a crash."""

from __future__ import annotations

import pytest

from benchmarks import bench_identity
from benchmarks.common import Options

STUB = '''
import pandas as pd

def link_members(tables):
    """Links nothing: every record its own person."""
    out = pd.concat([pd.DataFrame({"record_id": t["record_id"], "channel": c})
                     for c, t in tables.items()], ignore_index=True)
    out["person_id"] = "P-" + out["record_id"]
    out["match_confidence"] = 1.0
    return out
'''


@pytest.fixture
def stub_linker(tmp_path, monkeypatch):
    (tmp_path / "stub_identity.py").write_text(STUB)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the measured child imports it
    monkeypatch.setattr(bench_identity, "LINKER", "stub_identity:link_members")


def test_both_sides_are_scored_on_the_same_world(stub_linker):
    rows = bench_identity.run_size(None, Options(), persons=800)
    by_metric = {r.metric: r for r in rows}
    assert {"pairwise F1", "B-cubed F1", "pairwise F1: homophone names",
            "B-cubed F1: pinyin names", "pairwise F1: masked mobile",
            "precision: family shared mobile", "household false merges", "wall time",
            "peak RSS"} <= set(by_metric)
    assert all(r.size == "800 persons" and r.peer_name == "plain Splink 5" for r in rows)
    f1 = by_metric["pairwise F1"]
    # linking nothing: precision 1 by definition, recall 0, so pairwise F1 0
    assert f1.ours == 0.0 and "ours P 100.0 / R 0.0" in f1.note
    assert 0 < by_metric["B-cubed F1"].ours < 100
    assert by_metric["household false merges"].ours == 0
    assert by_metric["precision: family shared mobile"].ours == 100.0
    # the plain Splink peer links something, mostly right
    assert 0 < f1.peer < 100
    assert by_metric["B-cubed F1"].peer > by_metric["B-cubed F1"].ours
    assert by_metric["wall time"].ours > 0 and by_metric["wall time"].peer > 0
    assert 0.05 < by_metric["peak RSS"].peer < 4
    assert "records of 800 persons" in f1.note


def test_a_missing_linker_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(bench_identity, "LINKER", "no_such_module_xyz:link_members")
    rows = bench_identity.run_size(None, Options(), sides=("ours",), persons=300)
    assert all(r.ours is None and r.peer is None for r in rows)
    assert "ours FAILED" in rows[0].note
