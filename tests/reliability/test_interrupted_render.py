"""A report render killed with SIGKILL (nothing can clean up) leaves only its own marked
folder, connection file included, and the next run's sweep removes it; the kernel goes with
its parent; no report page is half-written."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from omnicrm.reporting.render import TEMP_PREFIX, sweep_stale_renders

ROOT = Path(__file__).resolve().parents[2]


def _slow_project(root: Path) -> Path:
    """A project whose report template sleeps, so that the render can be killed mid-way."""
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    shutil.copy(ROOT / "conf" / "base" / "parameters_reporting.yml", root / "conf" / "base")
    nb = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    params = nbformat.v4.new_code_cell("campaign_id = None\nproject_path = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import time\ntime.sleep(120)")]
    (root / "notebooks" / "templates").mkdir(parents=True)
    nbformat.write(nb, root / "notebooks" / "templates" / "campaign_report.ipynb")
    return root


def _wait_for(predicate, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_a_killed_render_leaves_only_its_folder_and_the_sweep_removes_it(tmp_path):
    project, scratch = _slow_project(tmp_path / "project"), tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from omnicrm.reporting.render import render_report;"
         " render_report(sys.argv[1], 'C001')", str(project)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: list(scratch.glob(f"{TEMP_PREFIX}*/kernel.json")), 90), \
            "the kernel never started"
        connection = next(scratch.glob(f"{TEMP_PREFIX}*/kernel.json"))
        assert _wait_for(lambda: _alive(str(connection)), 30)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # everything the render made is inside its marked folder: no anonymous tmpXXXX.json
    assert [p.name for p in scratch.iterdir()] == [connection.parent.name]
    assert _wait_for(lambda: not _alive(str(connection)), 15), "the kernel outlived its parent"
    assert not (project / "reports" / "C001.html").exists()
    assert sweep_stale_renders(max_age_s=0, root=str(scratch)) == [connection.parent]
    assert list(scratch.iterdir()) == []
