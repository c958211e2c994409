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
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".install-stamp"
RUN_LOG = ROOT / "data" / "logs" / "run.log"

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


# Kedro's runner and node messages, and the record format of conf/logging.yml
TASKS = re.compile(r"Completed (\d+) out of (\d+) tasks")
NODE = re.compile(r"Running node: (\S+?):")
LOUD = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")
WARN = re.compile(r"^\S+ \S+ WARNING ")


def logged(title: str, *cmd: str | Path, log) -> None:
    """Run a Kedro command with every output line in ``log`` and, on screen, one progress line
    for the step, its error records and a count of its warnings; on failure, the last line of
    its output (the exception) and where the whole output is."""
    tty = sys.stdout.isatty()
    start, done, total, node, last, warned, shown = time.monotonic(), 0, 0, "", "", 0, -1
    args = [str(c) for c in cmd]
    log.write(f"\n+ {' '.join(args)}\n")
    log.flush()
    env = {**ENV, "KEDRO_LOGGING_CONFIG": str(ROOT / "conf" / "logging.yml")}
    proc = subprocess.Popen(args, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, bufsize=1, errors="replace")
    for line in proc.stdout:
        log.write(line)
        last = line.strip() or last
        if m := TASKS.search(line):
            done, total = int(m[1]), int(m[2])
        elif m := NODE.search(line):
            node = m[1]
        elif LOUD.search(line):
            print(("\n" if tty else "") + "  " + line.rstrip()[:200], flush=True)
        elif WARN.search(line):
            warned += 1
        if tty:
            print(f"\r\033[K{title}: {done}/{total or '?'} nodes  {node[:50]}", end="", flush=True)
        elif total and done * 4 // total != shown:  # a line per quarter in a log or CI
            shown = done * 4 // total
            print(f"{title}: {done}/{total} nodes", flush=True)
    rc = proc.wait()
    warnings = f", {warned} warning{'s' * (warned != 1)} in the log" if warned else ""
    print(("\r\033[K" if tty else "") + f"{title}: {'done' if rc == 0 else 'FAILED'}, "
          f"{done}/{total or '?'} nodes in {time.monotonic() - start:.0f} s{warnings}",
          flush=True)
    if rc:
        print(f"  {last}\n  (the whole output is in {getattr(log, 'name', RUN_LOG)})",
              file=sys.stderr)
        raise subprocess.CalledProcessError(rc, args)


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
        RUN_LOG.parent.mkdir(parents=True, exist_ok=True)
        print(f"pipelines (node-by-node log: {RUN_LOG.relative_to(ROOT)})", flush=True)
        with RUN_LOG.open("w", encoding="utf-8") as log:
            logged("synthetic world", BIN / "kedro", "run", "--pipeline", "synthetic", log=log)
            logged("pipelines", BIN / "kedro", "run", *rest, log=log)
            logged("evaluation", BIN / "kedro", "run", "--pipeline", "evaluation", log=log)
        # the campaign loop: design the next campaign with its holdout (and exports), run it
        # in the synthetic world, then every campaign's report (the new one's included) and
        # the weekly reports of the last weeks, then what was made
        sh(BIN / "omnicrm", "campaign", "plan")
        sh(BIN / "omnicrm", "simulate")
        sh(BIN / "omnicrm", "reports")
        sh(PY, "-m", "omnicrm.summary", ROOT)
    elif cmd == "test":
        # lint first: the same ruff, pinned in the lock, on every machine and in CI
        sh(BIN / "ruff", "check", "src", "tests", "benchmarks", "bootstrap.py")
        # two workers (pytest-xdist): the suite is mostly single-threaded Python, so the
        # second core halves it; `-n 0` (or any -n) given by the caller wins
        workers = [] if any(a.startswith(("-n", "--numprocesses")) for a in rest) \
            else ["-n", "2"]
        sh(PY, "-m", "pytest", *workers, *rest)
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
