"""End-to-end: the Kedro project runs on a fresh copy, tracks itself in MLflow without
personal data, keeps the truth away from non-evaluation nodes, and fails clearly on bad raw
data."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from tests.conftest import FAST_PARAMS, SMALL_WORLD, kedro_run


def _runs(project: Path) -> pd.DataFrame:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=["omnicrm"], order_by=["start_time ASC"])


def test_world_and_pipelines_write_their_outputs(ran: Path):
    for table in ("pos_members", "tmall_members", "wechat_members", "web_members", "orders",
                  "order_items", "events", "campaigns", "campaign_members"):
        assert (ran / "data" / "01_raw" / f"{table}.parquet").exists(), table
    truth = pd.read_parquet(ran / "data" / "00_truth" / "truth_persons.parquet")
    assert len(truth) == SMALL_WORLD
    summary = json.loads((ran / "data" / "08_reporting" / "world_summary.json").read_text())
    assert summary["persons"] == SMALL_WORLD
    profile = pd.read_csv(ran / "data" / "08_reporting" / "raw_profile.csv")
    assert set(profile["table"]) >= {"orders", "pos_members", "events"}
    rows = profile.drop_duplicates("table").set_index("table")["rows"]
    assert rows["orders"] == len(pd.read_parquet(ran / "data" / "01_raw" / "orders.parquet"))


def test_every_run_is_tracked_with_params_metrics_and_code_version(ran: Path):
    runs = _runs(ran)
    by_name = runs.set_index("tags.mlflow.runName")
    assert {"synthetic", "__default__"} <= set(by_name.index)
    synth = by_name.loc["synthetic"]
    assert synth["status"] == "FINISHED"
    assert synth["params.synthetic.persons"] == str(SMALL_WORLD)
    assert synth["metrics.world_metrics.persons"] == SMALL_WORLD
    assert 1.2 < synth["metrics.world_metrics.records_per_person"] < 2.6
    assert synth["tags.kedro_pipeline"] == "synthetic"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ran, capture_output=True,
                          text=True).stdout.strip()
    assert synth["tags.mlflow.source.git.commit"] == head
    default = by_name.loc["__default__"]
    assert default["metrics.raw_metrics.orders.rows"] > 0


def test_no_personal_data_reaches_mlflow_or_reports(ran: Path):
    truth = pd.read_parquet(ran / "data" / "00_truth" / "truth_persons.parquet")
    needles = set(truth["mobile"]) | set(truth["id_number"]) | set(truth["email"]) \
        | set(truth["street_address"]) | set(truth["name"])
    texts: list[str] = []
    con = sqlite3.connect(ran / "mlruns" / "mlflow.db")
    for (table,) in con.execute("select name from sqlite_master where type='table'"):
        for row in con.execute(f"select * from {table}"):  # noqa: S608
            texts.append(" ".join(str(v) for v in row))
    con.close()
    scanned = [p for d in ("mlruns", "data/08_reporting", "reports") for p in (ran / d).rglob("*")
               if p.is_file() and p.suffix != ".db"]
    texts += [p.read_text(encoding="utf-8", errors="ignore") for p in scanned]
    blob = "\n".join(texts)
    assert len(blob) > 1000  # we did scan something
    assert _occurring(needles, blob) == set()
    # the scan finds what is there
    planted = sorted(n for n in needles if n)[:3]
    assert _occurring(needles, blob + "x".join(planted)) == set(planted)


def test_the_pii_scan_finds_needles_inside_runs_and_with_spaces():
    blob = "run 1a2b13800138000c 上海市人民路1号 x\nmail: bin.li@qq.com; 阿依 · 买买提!"
    needles = {"13800138000", "人民路1号", "bin.li@qq.com", "阿依 · 买买提", "13900000000",
               "li@qq.co", "bin.li@qq.com.cn", "阿依 买买提", ""}
    assert _occurring(needles, blob) == {"13800138000", "人民路1号", "bin.li@qq.com",
                                         "阿依 · 买买提", "li@qq.co"}
    assert _occurring(needles, blob) == {n for n in needles if n and n in blob}


def _occurring(needles: set[str], blob: str) -> set[str]:
    """The needles that occur in ``blob``. A needle made of digits, letters, @ . _ + - and hanzi
    can only sit inside such a run of the blob, so every window of a needle's length over
    the runs is looked up in the set (``n in blob`` for 15,000 needles took minutes on the
    ~16 MB of MLflow store and reports)."""
    import re

    run = re.compile(r"[0-9A-Za-z@._+\-\u3400-\u9fff]+")
    needles = {n for n in needles if n}
    odd = {n for n in needles if not run.fullmatch(n)}  # a space, a middle dot: search plainly
    found = {n for n in odd if n in blob}
    needles -= odd
    lengths = sorted({len(n) for n in needles})
    for text in set(run.findall(blob)):
        for size in lengths:
            if size > len(text):
                break
            found |= {text[i:i + size] for i in range(len(text) - size + 1)} & needles
    return found


def test_truth_is_read_only_by_the_generator_and_evaluation_nodes():
    from kedro.framework.project import configure_project, pipelines

    configure_project("omnicrm")
    offenders = []
    for name, pipe in pipelines.items():
        for node in pipe.nodes:
            reads_truth = any(i.startswith("truth_") for i in node.inputs)
            allowed = "evaluation" in node.tags or "synthetic" in node.tags
            if reads_truth and not allowed:
                offenders.append((name, node.name))
    assert offenders == []


def test_a_bad_export_fails_the_run_naming_table_column_and_rows(ran: Path, tmp_path: Path):
    bad = tmp_path / "bad_project"
    shutil.copytree(ran, bad, symlinks=True, ignore=shutil.ignore_patterns("mlruns"))
    (bad / "mlruns").mkdir()
    raw = bad / "data" / "01_raw"
    orders = pd.read_parquet(raw / "orders.parquet").astype({"ordered_at": str})
    orders.loc[3, "ordered_at"] = "31/02/2026 25:00"
    (raw / "orders.parquet").unlink()
    orders.to_csv(raw / "orders.csv", index=False)  # a user's CSV export replaces ours
    with pytest.raises(DatasetError) as err:  # Kedro re-raises our ContractViolation as is
        kedro_run(bad)
    msg = str(err.value)
    assert "table 'orders'" in msg and "column 'ordered_at'" in msg
    assert "row 3: '31/02/2026 25:00'" in msg
    assert not (bad / "data" / "08_reporting" / "raw_profile.csv.tmp").exists()


def test_users_csv_exports_run_like_our_parquet(ran: Path, tmp_path: Path):
    """A user's CSV exports in place of our Parquet: the pipelines that read the raw tables
    (checks, OneID, features; the rest read only what these write) need no truth and give
    the same profile, the same persons and the same features."""
    own = tmp_path / "own_project"
    shutil.copytree(ran, own, symlinks=True, ignore=shutil.ignore_patterns("mlruns", "00_truth"))
    (own / "mlruns").mkdir()
    raw = own / "data" / "01_raw"
    for p in raw.glob("*.parquet"):
        pd.read_parquet(p).to_csv(p.with_suffix(".csv"), index=False)
        p.unlink()
    written = ["08_reporting/raw_profile.csv", "03_primary/person_index.parquet",
               "04_feature/person_features.parquet"]
    for name in written:
        (own / "data" / name).unlink()
    for pipeline in ("data_checks", "identity", "features"):
        kedro_run(own, pipeline, params=FAST_PARAMS)
    profile = pd.read_csv(own / "data" / "08_reporting" / "raw_profile.csv")
    before = pd.read_csv(ran / "data" / "08_reporting" / "raw_profile.csv")
    pd.testing.assert_series_equal(profile["rows"], before["rows"])
    pd.testing.assert_series_equal(profile["null_share"], before["null_share"], atol=1e-9)
    for name in written[1:]:
        got, want = (pd.read_parquet(root / "data" / name) for root in (own, ran))
        key = "record_id" if "record_id" in want else "person_id"
        pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True),
                                      want.sort_values(key, ignore_index=True),
                                      check_dtype=False, atol=1e-9)


def test_generate_cli_writes_a_world_of_the_requested_size(ran: Path, tmp_path: Path,
                                                           monkeypatch):
    from click.testing import CliRunner

    from omnicrm.cli import cli

    other = tmp_path / "cli_project"
    shutil.copytree(ran, other, symlinks=True, ignore=shutil.ignore_patterns("mlruns", "data"))
    for layer in ("00_truth", "01_raw", "08_reporting"):
        (other / "data" / layer).mkdir(parents=True)
    (other / "mlruns").mkdir()
    monkeypatch.chdir(other)
    result = CliRunner().invoke(cli, ["generate", "--persons", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    persons = pd.read_parquet(other / "data" / "00_truth" / "truth_persons.parquet")
    assert len(persons) == 200
    bad = CliRunner().invoke(cli, ["generate", "--persons", "3"])
    assert bad.exit_code != 0 and "persons" in bad.output


def test_notebooks_execute(ran: Path):
    """Every notebook in notebooks/ runs top to bottom against the project's catalog. They
    share one warm kernel (as the report renders do): before each, the namespace is cleared
    and the Kedro extension unloaded, so a notebook that leans on another's variables or
    skips its own ``%load_ext kedro.ipython`` fails here as it would for a person."""
    import nbformat
    import papermill as pm

    from omnicrm.reporting.render import WarmKernel

    books = sorted((ran / "notebooks").glob("*.ipynb"))
    assert books, "no notebooks found"
    kernel = WarmKernel(ran / "notebooks")
    try:
        for nb in books:
            kernel.ensure()
            book = nbformat.read(nb, as_version=4)
            book.cells.insert(0, nbformat.v4.new_code_cell(
                "%reset -f\nget_ipython().extension_manager.loaded.discard('kedro.ipython')"))
            out = ran / "notebooks" / f"_executed_{nb.name}"
            pm.execute_notebook(book, str(out), cwd=str(ran / "notebooks"),
                                kernel_name="python3", progress_bar=False,
                                km=kernel.km, kc=kernel.kc)
            executed = out.read_text(encoding="utf-8")
            assert '"output_type": "error"' not in executed, nb.name
            assert "catalog" in executed  # the extension was loaded again
            out.unlink()
    finally:
        kernel.stop()


def test_the_run_summary_states_what_the_outputs_hold(ran: Path):
    import pandas as pd

    from omnicrm.summary import summary_lines

    text = "\n".join(summary_lines(ran))
    idx = pd.read_parquet(ran / "data" / "03_primary" / "person_index.parquet")
    assert f"{len(idx):,} member records linked into {idx['person_id'].nunique():,} persons" \
        in text
    comp = pd.read_csv(ran / "data" / "08_reporting" / "repurchase_model_comparison.csv")
    best = comp[comp["target"] == "buy_7d"]["auc"].max()
    assert f"buy_7d: xgboost AUC {best:.3f}" in text or f"AUC {best:.3f}" in text
    churn = pd.read_csv(ran / "data" / "08_reporting" / "churn_comparison.csv")
    auc = churn.set_index("model")["auc"]["xgboost"]
    winback = pd.read_parquet(ran / "data" / "07_model_output" / "winback_audience.parquet")
    assert f"churn AUC {auc:.3f}" in text and f"win-back audience {len(winback):,}" in text
    c360 = pd.read_parquet(ran / "data" / "07_model_output" / "customer_360.parquet")
    assert f"customer 360 of {len(c360):,} persons; RFM champions" in text
    assert "top browse interest = true favourite" in text   # the evaluation run's accuracy
    nbc = pd.read_csv(ran / "data" / "08_reporting" / "next_best_evaluation.csv")
    hit = nbc.set_index("method")["hit_rate_at_3"]["propensity"]
    assert f"next best category hit rate@3 {hit:.2f}" in text
    assert "MLflow UI:" in text and "mlruns" in text
