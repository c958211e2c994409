"""The main command's screen: Kedro's node-by-node lines go to the run log, the screen shows
one progress line per step, errors, a warning count, and on failure the reason and the log."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest

import bootstrap

FAKE_RUN = textwrap.dedent("""
    import sys
    lines = ["2026-12-03 07:00:00,000 INFO kedro.framework.session: Kedro project omnicrm"]
    for i in range(1, 5):
        lines += [f"2026-12-03 07:00:0{i},000 INFO kedro.pipeline.node: Running node: "
                  f"step_{i}: fn([a]) -> [b]",
                  f"2026-12-03 07:00:0{i},000 INFO kedro.runner: Completed {i} out of 4 tasks"]
    lines.insert(3, "2026-12-03 07:00:02,000 WARNING kedro.io: Replacing dataset 'x'")
    print("\\n".join(lines))
    if sys.argv[1] == "fail":
        print("2026-12-03 07:00:05,000 ERROR omnicrm.contracts: orders: 3 rows dated after 2026")
        print("Traceback (most recent call last):\\n  File 'x.py'\\nValueError: orders is wrong")
        sys.exit(1)
""")


def test_the_screen_shows_progress_and_the_log_keeps_every_line(tmp_path, capsys):
    script = tmp_path / "fake_kedro.py"
    script.write_text(FAKE_RUN)
    log = io.StringIO()
    bootstrap.logged("pipelines", sys.executable, script, "ok", log=log)
    screen = capsys.readouterr()
    assert "Running node: step_3" in log.getvalue() and log.getvalue().count("Completed") == 4
    assert "Running node" not in screen.out and "INFO" not in screen.out
    assert "pipelines: done, 4/4 nodes in" in screen.out
    assert "1 warning in the log" in screen.out


def test_a_failed_step_names_its_reason_and_the_log(tmp_path, capsys):
    script = tmp_path / "fake_kedro.py"
    script.write_text(FAKE_RUN)
    log = io.StringIO()
    with pytest.raises(subprocess.CalledProcessError):
        bootstrap.logged("pipelines", sys.executable, script, "fail", log=log)
    screen = capsys.readouterr()
    assert "ERROR omnicrm.contracts: orders: 3 rows dated after 2026" in screen.out
    assert "pipelines: FAILED, 4/4 nodes" in screen.out
    assert "ValueError: orders is wrong" in screen.err and str(bootstrap.RUN_LOG) in screen.err
    assert "File 'x.py'" not in screen.out + screen.err  # the traceback stays in the log
    assert "Traceback" in log.getvalue()
