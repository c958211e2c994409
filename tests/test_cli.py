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
