"""The ``omnicrm`` command prints only what was asked: no logging banner before ``--help``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "omnicrm"


@pytest.mark.parametrize("args", [["--help"], ["link", "--help"],
                                  ["repurchase", "evaluate", "--help"]])
def test_help_prints_only_the_help(args):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    out = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env,
                         check=True, timeout=300)
    assert out.stdout.startswith("Usage: omnicrm")
    assert "rich_logging" not in out.stdout + out.stderr
    assert "logging configuration" not in out.stdout + out.stderr
    if args == ["--help"]:  # the usage lines keep their layout
        assert "    omnicrm generate --persons 20000 --seed 42" in out.stdout
    if args[0] == "link":
        assert "--env" in out.stdout and "identity.match_threshold" in out.stdout


@pytest.mark.parametrize("args,message", [
    (["repurchase", "evaluate", "--transactions", "{empty}", "--cutoff", "2026-01-01"],
     "cannot read it as a table"),
    (["repurchase", "evaluate", "--transactions", "{wrong}", "--cutoff", "2026-01-01"],
     "missing column(s) ['customer_id', 'date', 'amount']"),
    (["score", "--input", "{wrong}", "--output", "{tmp}/o.parquet"], "no person_id column"),
    (["score", "--input", "{empty}", "--output", "{tmp}/o.parquet"], "is empty"),
    (["reports", "--project", "{tmp}/nowhere"], "is not an omnicrm project"),
    (["link", "{wrong}", "--roles", "{tmp}/nope.yml", "--out", "{tmp}/o.csv"],
     "no such file"),
])
def test_bad_input_to_any_command_is_one_error_line(tmp_path, args, message):
    """The sweep of issue 22: each command, given an empty or foreign file or a wrong path,
    exits non-zero with the error alone: no traceback, no warning, no logging noise."""
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "wrong.csv").write_text("a,b\n1,2\n")
    paths = {"empty": tmp_path / "empty.csv", "wrong": tmp_path / "wrong.csv", "tmp": tmp_path}
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    out = subprocess.run([str(BIN), *(a.format(**paths) for a in args)], capture_output=True,
                         text=True, env=env, timeout=300, cwd=tmp_path)
    assert out.returncode != 0
    assert message in out.stderr, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "Warning" not in out.stderr, out.stderr[-2000:]
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("Error:") and len(lines) <= 3, lines
