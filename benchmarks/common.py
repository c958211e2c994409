"""What every benchmark shares: the table row, the runner's options, and measuring one side of
a comparison (wall time and peak memory) in a fresh Python process.

Why a fresh process: peak RSS is a high-water mark, so measuring two sides in one process
would charge the second with the first's memory (and with whatever the runner imported). Each
side runs in its own child (``python -m benchmarks._child``); its peak RSS comes from
``os.wait4``, i.e. ``getrusage`` of that one child, not ``RUSAGE_CHILDREN``, which would be the
maximum over every child run so far. The child's wall time covers only the measured call:
interpreter start-up and the imports listed in ``preload`` happen before the clock starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GB = 1024**3
HEARTBEAT_S = 30  # how often a long measurement reports that it is alive


@dataclass
class Row:
    """One line of the table: one metric of one benchmark, ours vs its peer."""

    benchmark: str
    size: str                       # the problem size, in words: "1,000,000 persons"
    metric: str                     # "wall time", "peak RSS", "throughput" ...
    ours: float | None
    peer: float | None
    peer_name: str
    unit: str                       # "s", "GB", "persons/s" ...
    note: str = ""
    higher_is_better: bool = False  # True for rates (throughput), False for costs

    @property
    def ratio(self) -> float | None:
        """How many times better ours is: peer/ours for costs, ours/peer for rates."""
        if not self.ours or not self.peer:
            return None
        return self.ours / self.peer if self.higher_is_better else self.peer / self.ours


@dataclass
class Options:
    """The runner's command line, as every benchmark sees it."""

    quick: bool = False               # small sizes, for CI and the test suite
    persons: int | None = None        # override the benchmark's main size
    peer_persons: int | None = None   # override the (smaller) size the slow peer runs at
    max_rss_gb: float | None = None   # kill a measured side whose RSS grows past this


@dataclass
class Measurement:
    """One side of a comparison, measured in its own process."""

    seconds: float               # wall time of the measured call
    peak_rss: int                # bytes: high-water RSS of the child process
    base_rss: int                # bytes: RSS high-water before the call (interpreter + preload)
    info: dict = field(default_factory=dict)  # what the measured function returned

    @property
    def work_rss(self) -> int:
        """Peak memory the measured work added on top of the interpreter and its imports."""
        return max(self.peak_rss - self.base_rss, 0)


class MeasurementFailed(RuntimeError):
    """The measured side crashed, or was stopped for growing past ``max_rss_gb``."""

    def __init__(self, message: str, seconds: float, peak_rss: int):
        super().__init__(message)
        self.seconds, self.peak_rss = seconds, peak_rss


def progress(message: str) -> None:
    """A progress line on stderr, so the table on stdout stays clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _maxrss_bytes(ru_maxrss: int) -> int:
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def _current_rss(pid: int) -> int | None:
    """Resident memory of ``pid`` now (Linux /proc; None elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def measure(target: str, kwargs: dict | None = None, *, label: str,
            preload: tuple[str, ...] = (), max_rss_gb: float | None = None) -> Measurement:
    """Run ``target`` ("package.module:function") with ``kwargs`` in a fresh Python process.

    The function gets ``scratch``, an empty temporary directory (removed after the clock stops),
    plus ``kwargs``, and returns a JSON-able dict of facts about what it produced. Modules in
    ``preload`` are imported before the clock starts. Its stdout and stderr (node logs) go to
    our stderr; every ``HEARTBEAT_S`` seconds a line reports elapsed time and current RSS.
    """
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        scratch = Path(tmp) / "scratch"  # ours to remove, even if the child is killed
        scratch.mkdir()
        spec = {"target": target, "kwargs": kwargs or {}, "preload": list(preload),
                "result": str(result_path), "scratch": str(scratch)}
        env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "PYTHONUNBUFFERED": "1",
               "MPLBACKEND": "Agg",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                           os.environ.get("PYTHONPATH")]))}
        try:
            out = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            out = None
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "benchmarks._child", json.dumps(spec)],
                                 cwd=ROOT, env=env, stdout=out, stderr=out)
        limit = max_rss_gb * GB if max_rss_gb else None
        next_beat = start + HEARTBEAT_S
        killed_for = None
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            rss = _current_rss(child.pid)
            if limit and rss and rss > limit and killed_for is None:
                killed_for = rss
                progress(f"{label}: RSS {rss / GB:.1f} GB > limit {max_rss_gb} GB, stopping it")
                os.kill(child.pid, signal.SIGKILL)
            if now >= next_beat:
                progress(f"{label}: still running, {now - start:.0f} s"
                         + (f", RSS {rss / GB:.2f} GB" if rss else ""))
                next_beat += HEARTBEAT_S
            time.sleep(0.5)
        child.returncode = os.waitstatus_to_exitcode(status)  # we reaped it, not Popen
        elapsed = time.perf_counter() - start
        peak = _maxrss_bytes(usage.ru_maxrss)
        if killed_for is not None:
            raise MeasurementFailed(f"{label}: stopped at RSS {killed_for / GB:.1f} GB after "
                                    f"{elapsed:.0f} s (limit {max_rss_gb} GB)", elapsed, peak)
        if child.returncode != 0 or not result_path.exists():
            raise MeasurementFailed(f"{label}: exited with status {child.returncode} after "
                                    f"{elapsed:.0f} s", elapsed, peak)
        res = json.loads(result_path.read_text())
    return Measurement(seconds=res["seconds"], peak_rss=peak, base_rss=res["base_rss"],
                       info=res["info"])


def fmt_int(n: int) -> str:
    return f"{n:,}"


def short_count(n: float) -> str:
    """20000 -> '20k', 1000000 -> '1M'."""
    for div, suffix in ((10**6, "M"), (10**3, "k")):
        if n >= div and n % (div // 10) == 0:
            v = n / div
            return f"{v:g}{suffix}"
    return fmt_int(int(n))


def measure_ours(name: str, target: str, kwargs: dict, *, preload: tuple[str, ...],
                 max_rss_gb: float | None) -> tuple[Measurement | None, str | None]:
    """:func:`measure` of our side, with a failure (over the memory cap, a crash) said on the
    screen and returned as text instead of raised, so the table still gets the peer's row.
    Returns (the measurement or None, the failure or None)."""
    try:
        m = measure(target, kwargs, label=f"{name} ours", preload=preload,
                    max_rss_gb=max_rss_gb)
    except MeasurementFailed as exc:
        progress(str(exc))
        return None, str(exc)
    progress(f"{name}: ours took {m.seconds:.1f} s, peak RSS {m.peak_rss / GB:.2f} GB")
    return m, None
