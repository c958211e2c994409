#!/usr/bin/env python3
"""Set up the project and run it, with nothing but Python 3.11 on the machine.

    python3.11 bootstrap.py run     # install into .venv, generate the world, run every pipeline,
                                    # render the reports, print a summary
    python3.11 bootstrap.py test    # install into .venv (if needed), lint (ruff), run the tests
    python3.11 bootstrap.py lab     # JupyterLab on the project
    python3.11 bootstrap.py bench   # the benchmark table (benchmarks/)
    python3.11 bootstrap.py lock    # re-resolve requirements.lock from pyproject.toml

Installs are pinned by requirements.lock and skipped when it has not changed since the last
install (.venv/.install-stamp).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".install-stamp"

ENV = {
    **os.environ,
    "KEDRO_DISABLE_TELEMETRY": "true",  # never prompt for telemetry consent
    # MLflow's telemetry thread looks up a host this machine cannot reach (it once took an
    # xdist test worker down with it)
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MPLBACKEND": "Agg",
    "PYTHONUNBUFFERED": "1",
}


def sh(*cmd: str | Path, **kw) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=ENV, **kw)


def fingerprint() -> str:
    h = hashlib.sha256(LOCK.read_bytes())
    h.update((ROOT / "pyproject.toml").read_bytes())
    return h.hexdigest()


def install() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"omnicrm needs Python 3.11 (this is {sys.version.split()[0]}): "
                 "run `python3.11 bootstrap.py ...`")
    if STAMP.exists() and STAMP.read_text() == fingerprint():
        return
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # uv resolves nothing here (the lock is exact); it just installs ~10x faster than pip
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv==0.13.9")
    sh(PY, "-m", "uv", "pip", "install", "--python", PY, "-r", LOCK)
    sh(PY, "-m", "uv", "pip", "install", "--python", PY, "--no-deps", "-e", ".")
    STAMP.write_text(fingerprint())


def main(argv: list[str]) -> None:
    cmd, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if cmd == "lock":
        sh(sys.executable, "-m", "pip", "install", "--quiet", "uv==0.13.9")
        sh(sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml", "--extra", "dev",
           "--python-version", "3.11", "--output-file", LOCK, *rest)
        return
    install()
    if cmd == "run":
        sh(BIN / "kedro", "run", "--pipeline", "synthetic")
        sh(BIN / "kedro", "run", *rest)
        sh(BIN / "kedro", "run", "--pipeline", "evaluation")
        # every campaign report and the weekly reports of the last weeks, then what was made
        sh(BIN / "omnicrm", "reports")
        sh(PY, "-m", "omnicrm.summary", ROOT)
    elif cmd == "test":
        # lint first: the same ruff, pinned in the lock, on every machine and in CI
        sh(BIN / "ruff", "check", "src", "tests", "benchmarks", "bootstrap.py")
        sh(PY, "-m", "pytest", *rest)
    elif cmd == "lab":
        sh(PY, "-m", "jupyter", "lab", "--notebook-dir", ROOT, *rest)
    elif cmd == "bench":
        sh(PY, "-m", "benchmarks", *rest)
    elif cmd == "install":
        pass
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
