"""The ``omnicrm`` command prints only what was asked: no logging banner before ``--help``.

Each case is a fresh process (import-time warnings and banners show only there); the
processes of a module are started together and each test waits for its own, so the suite
pays for the slowest start, not for the sum."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "omnicrm"
ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}

HELP = [["--help"], ["link", "--help"], ["repurchase", "evaluate", "--help"]]
BAD = [
    (["repurchase", "evaluate", "--transactions", "{empty}", "--cutoff", "2026-01-01"],
     "cannot read it as a table"),
    (["repurchase", "evaluate", "--transactions", "{wrong}", "--cutoff", "2026-01-01"],
     "missing column(s) ['customer_id', 'date', 'amount']"),
    (["score", "--input", "{wrong}", "--output", "{tmp}/o.parquet"], "no person_id column"),
    (["score", "--input", "{empty}", "--output", "{tmp}/o.parquet"], "is empty"),
    (["reports", "--project", "{tmp}/nowhere"], "is not an omnicrm project"),
    (["link", "{wrong}", "--roles", "{tmp}/nope.yml", "--out", "{tmp}/o.csv"],
     "no such file"),
    (["simulate"], "runs only on the synthetic world"),
]


@pytest.fixture(scope="module")
def started(tmp_path_factory) -> dict:
    """Every case's process, started at once: key -> (Popen, its folder)."""
    procs = {}
    for args in HELP:
        procs[tuple(args)] = (subprocess.Popen([str(BIN), *args], stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE, text=True, env=ENV),
                              None)
    for args, _ in BAD:
        tmp = tmp_path_factory.mktemp("cli")
        (tmp / "empty.csv").write_text("")
        (tmp / "wrong.csv").write_text("a,b\n1,2\n")
        if args == ["simulate"]:  # an omnicrm project without the synthetic world's truth
            from tests.conftest import make_project_copy

            tmp = make_project_copy(tmp / "project")
        paths = {"empty": tmp / "empty.csv", "wrong": tmp / "wrong.csv", "tmp": tmp}
        procs[tuple(args)] = (subprocess.Popen(
            [str(BIN), *(a.format(**paths) for a in args)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=ENV, cwd=tmp), tmp)
    yield procs
    for proc, _ in procs.values():
        if proc.poll() is None:
            proc.kill()


def _finished(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.mark.parametrize("args", HELP)
def test_help_prints_only_the_help(started, args):
    out = _finished(started[tuple(args)][0])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("Usage: omnicrm")
    assert "rich_logging" not in out.stdout + out.stderr
    assert "logging configuration" not in out.stdout + out.stderr
    if args == ["--help"]:  # the usage lines keep their layout
        assert "    omnicrm generate --persons 20000 --seed 42" in out.stdout
    if args[0] == "link":
        assert "--env" in out.stdout and "identity.match_threshold" in out.stdout


@pytest.mark.parametrize("args,message", BAD)
def test_bad_input_to_any_command_is_one_error_line(started, args, message):
    """The sweep of issue 22: each command, given an empty or foreign file or a wrong path,
    exits non-zero with the error alone: no traceback, no warning, no logging noise."""
    out = _finished(started[tuple(args)][0])
    assert out.returncode != 0
    assert message in out.stderr, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "Warning" not in out.stderr, out.stderr[-2000:]
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("Error:") and len(lines) <= 3, lines
