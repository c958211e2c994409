"""End to end: the scheduled report run on a project copy (papermill + nbconvert), its
idempotency, index, MLflow tracking, error exits and the absence of personal data (the pages in
headless Chromium: test_weekly.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from omnicrm.reporting import present
from omnicrm.reporting.render import read_state, run_reports
from tests.conftest import make_project_copy
from tests.reporting.conftest import write_world


@pytest.fixture(scope="module")
def scheduled(report_project: Path) -> dict:
    """Four scheduled runs: as of 2026-02-05 (C001, C002 have ended), the same again, the same
    with an explicit --since that covers both, and as of 2026-03-20 (C003 has ended too)."""
    first = run_reports(report_project, as_of="2026-02-05")
    same = run_reports(report_project, as_of="2026-02-05")
    again = run_reports(report_project, as_of="2026-02-05", since="2025-01-01")
    later = run_reports(report_project, as_of="2026-03-20")
    return {"project": report_project, "first": first, "same": same, "again": again,
            "later": later}


def test_scheduled_runs_render_each_ended_campaign_once(scheduled):
    first, again, later = scheduled["first"], scheduled["again"], scheduled["later"]
    assert first.rendered == ["C001", "C002"] and not first.failed
    assert "C008" in first.not_ended
    same = scheduled["same"]
    assert same.since == "2026-02-05" and same.rendered == [] and same.skipped == []
    assert again.rendered == [] and again.skipped == ["C001", "C002"]
    assert same.mlflow_run_id is None and again.mlflow_run_id is None  # nothing new to log
    assert later.since == "2026-02-05" and later.rendered == ["C003"]
    reports = scheduled["project"] / "reports"
    assert sorted(p.name for p in reports.glob("*.html")) == ["C001.html", "C002.html",
                                                              "C003.html", "index.html"]
    index = (reports / "index.html").read_text(encoding="utf-8")
    for cid in ("C001", "C002", "C003"):
        assert index.count(f'href="{cid}.html"') == 1
    # member counts print as counts (the index once showed "6,351.0 / 1,613.0")
    assert not re.search(r"\d\.0 / \d", index)
    h = read_state(reports)["reports"]["C001"]["headline"]
    assert f"{int(h['treatment_members']):,} / {int(h['control_members']):,}" in index
    state = read_state(reports)
    assert state["last_as_of"] == "2026-03-20" and set(state["reports"]) == {"C001", "C002",
                                                                            "C003"}


def test_one_report_renders_within_a_minute(scheduled):
    assert max(scheduled["first"].seconds.values()) <= 60, scheduled["first"].seconds


def test_each_run_is_tracked_in_mlflow_with_the_reports(scheduled):
    from mlflow.tracking import MlflowClient

    project = scheduled["project"]
    client = MlflowClient(tracking_uri=f"sqlite:///{project}/mlruns/mlflow.db")
    exp = client.get_experiment_by_name("omnicrm")
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.info.run_id for r in runs] == [scheduled["first"].mlflow_run_id,
                                             scheduled["later"].mlflow_run_id]
    run = runs[0]
    arts = sorted(a.path for a in client.list_artifacts(run.info.run_id, "reports"))
    assert arts == ["reports/C001.html", "reports/C002.html", "reports/index.html"]
    headline = read_state(project / "reports")["reports"]["C001"]["headline"]
    assert run.data.metrics["C001.conversion_lift"] == pytest.approx(headline["conversion_lift"])
    assert run.data.params["reporting.confidence"] == "0.95"
    assert run.data.tags["kedro_pipeline"] == "reporting"


def test_report_pages_carry_the_figures_and_no_code(scheduled):
    project = scheduled["project"]
    page = (project / "reports" / "C001.html").read_text(encoding="utf-8")
    h = read_state(project / "reports")["reports"]["C001"]["headline"]
    for text in ("Conversion lift", present.pp(h["conversion_lift"], 2), "Incremental revenue",
                 "ROI on margin", "Results per segment", "Audience packs", "amplify",
                 "Conversion over time"):
        assert text in page, text
    assert "analyse_campaign(campaign_id" not in page          # code cells are not shown
    assert '"output_type": "error"' not in page and "Traceback" not in page
    assert "<script src=" not in page                          # self-contained, no CDN
    assert page.count("data:image/png;base64") >= 3            # the charts are embedded


def test_reports_hold_no_personal_data(scheduled, world):
    persons = world["truth_persons"]
    needles = set()
    for col in ("name", "mobile", "id_number", "email", "street_address"):
        needles |= {str(v) for v in persons[col].dropna() if len(str(v)) >= 2}
    for ch, cols in {"pos": ["name", "mobile", "id_number", "address"],
                     "tmall": ["receiver_name", "receiver_mobile", "receiver_address"],
                     "web": ["name", "email", "mobile"], "wechat": ["mobile"]}.items():
        for col in cols:
            needles |= {str(v) for v in world[f"{ch}_members"][col].dropna() if len(str(v)) >= 4}
    reports = scheduled["project"] / "reports"
    for page in reports.iterdir():
        raw = page.read_text(encoding="utf-8")
        # the embedded plots' base64 bytes are not text: a 4-letter pinyin name ('liyi') turns
        # up in them by chance (64^-4 per position over ~10^5 characters per plot)
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "data:image", raw)
        assert len(text) < len(raw) or "data:image" not in raw
        # a two-character name could occur inside other text only as hanzi: the pages have none
        hanzi = set(re.findall(r"[\u4e00-\u9fff]+", text))
        leaks = [n for n in needles if (n in hanzi if re.fullmatch(r"[\u4e00-\u9fff]+", n)
                                        else n in text)]
        assert not leaks, f"{page.name}: {leaks[:5]}"


def _broken_project(tmp_path: Path, world: dict, cid: str, how: str) -> Path:
    dest = make_project_copy(tmp_path / how)
    members = world["campaign_members"]
    if how == "no_control":
        members = members.assign(group=np.where(members["campaign_id"] == cid, "treatment",
                                                members["group"]))
    else:
        members = members[members["campaign_id"] != cid]
    return write_world({**world, "campaign_members": members}, dest)


@pytest.mark.parametrize("how,message", [("no_control", "C002: no control group"),
                                         ("no_members", "C002: no data")])
def test_cli_exits_non_zero_with_a_clear_message(tmp_path, world, how, message):
    from click.testing import CliRunner

    from omnicrm.reporting.cli import reports

    project = _broken_project(tmp_path, world, "C002", how)
    result = CliRunner().invoke(reports, ["--project", str(project), "--campaign", "C002",
                                          "--no-mlflow"])
    assert result.exit_code == 1, result.output
    assert message in result.output and "could not be reported" in result.output
    state = json.loads((project / "reports" / ".rendered.json").read_text(encoding="utf-8"))
    assert "C002" in state["failed"] and "C002" not in state["reports"]
    bad = CliRunner().invoke(reports, ["--project", str(project), "--since", "yesterday-ish"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_two_runs_at_once_keep_every_report_and_a_new_confidence_renders_them_again(
        tmp_path, world):
    """Two `omnicrm reports` at the same time (a scheduler and a person): both succeed and
    the state and index hold the ended campaign once (the second run waits for the first's
    lock, then finds it rendered). Then the confidence level changes in conf: the report is
    rendered again, though it ended before the last run, and shows the new level; a third
    run has nothing to do. (As of 2026-01-10 only C001 has ended: one render per run keeps
    the test quick.)"""
    import sys

    project = write_world(world, make_project_copy(tmp_path / "p"))
    omnicrm = Path(sys.executable).with_name("omnicrm")
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "KEDRO_DISABLE_TELEMETRY": "true"}
    cmd = [str(omnicrm), "reports", "--project", str(project), "--as-of", "2026-01-10",
           "--no-mlflow"]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=env) for _ in range(2)]
    outs = [r.communicate(timeout=600)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outs
    assert sorted(o.count("  rendered ") for o in outs) == [0, 1], outs   # rendered once
    reports = project / "reports"
    state = read_state(reports)
    assert set(state["reports"]) == {"C001"}
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert index.count('href="C001.html"') == 1 and 'href="C002.html"' not in index

    conf = project / "conf" / "base" / "parameters_reporting.yml"
    conf.write_text(conf.read_text(encoding="utf-8").replace("confidence: 0.95",
                                                             "confidence: 0.9"))
    before = {c: r["params_hash"] for c, r in state["reports"].items()}
    again = run_reports(project, as_of="2026-01-10", track=False)
    assert again.rendered == ["C001"] and again.since == "2026-01-10"
    state = read_state(reports)
    assert state["confidence"] == 0.9
    assert all(state["reports"][c]["params_hash"] != before[c] for c in before)
    assert "90%" in (reports / "C001.html").read_text(encoding="utf-8")
    third = run_reports(project, as_of="2026-01-10", track=False)
    assert third.rendered == [] and third.failed == {}


def test_render_folders_left_by_a_killed_run_are_swept(tmp_path):
    from omnicrm.reporting.render import TEMP_PREFIX, sweep_stale_renders

    old, fresh = tmp_path / f"{TEMP_PREFIX}old", tmp_path / f"{TEMP_PREFIX}fresh"
    for d in (old, fresh):
        d.mkdir()
        (d / "C001.ipynb").write_text("{}")
    os.utime(old, (0, 0))                      # left hours ago by a killed render
    (tmp_path / "someone-elses").mkdir()
    os.utime(tmp_path / "someone-elses", (0, 0))
    assert sweep_stale_renders(root=str(tmp_path)) == [old]
    assert not old.exists() and fresh.exists() and (tmp_path / "someone-elses").exists()


def _tiny_template(path: Path, *cells: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    params = nbformat.v4.new_code_cell("tag = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


def test_a_warm_kernel_serves_many_renders_each_in_a_clean_namespace(tmp_path):
    """The second render runs in the same kernel process (no start, imports cached) yet sees
    none of the first one's variables or figures; a render that times out stops the kernel
    with a clear message, and the next render gets a fresh kernel; the pool stops every
    kernel and removes its connection folder."""
    from omnicrm.reporting.render import KernelPool, ReportError, _render

    first = _tiny_template(tmp_path / "first.ipynb", "import os, matplotlib.pyplot as plt\n"
                           "leak = tag\nplt.figure()\nprint('pid', os.getpid())")
    second = _tiny_template(tmp_path / "second.ipynb", "import os, matplotlib.pyplot as plt\n"
                            "assert 'leak' not in dir(), 'namespace kept'\n"
                            "assert plt.get_fignums() == [], 'figure kept'\n"
                            "print('pid', os.getpid(), tag)")
    slow = _tiny_template(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    out = tmp_path / "out"

    def pid_of(page: Path) -> str:
        return re.search(r"pid (\d+)", page.read_text(encoding="utf-8")).group(1)

    with KernelPool(tmp_path) as pool:
        kernel = pool.get()
        assert pool.get() is kernel  # one per thread
        a = _render(tmp_path, first, "a", {"tag": "A"}, "a", out, 60, "a", kernel)
        b = _render(tmp_path, second, "b", {"tag": "B"}, "b", out, 60, "b", kernel)
        assert pid_of(a) == pid_of(b) and "B" in b.read_text(encoding="utf-8")
        assert "reset -f" not in b.read_text(encoding="utf-8")  # the reset cell is not shown
        folder = kernel.dir
        assert (folder / "kernel.json").exists() and folder.name.startswith("omnicrm-report-")
        with pytest.raises(ReportError, match="slow: the report did not finish within 3 s"):
            _render(tmp_path, slow, "slow", {}, "slow", out, 3, "slow", kernel)
        assert kernel.km is None and not folder.exists()
        c = _render(tmp_path, second, "c", {"tag": "C"}, "c", out, 60, "c", kernel)
        assert pid_of(c) != pid_of(b) and not (out / "slow.html").exists()
        last = kernel.dir
        proc = int(pid_of(c))
    assert kernel.km is None and not last.exists()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(proc, 0)
