"""``python -m benchmarks``: run every benchmark (or one) and print one table of ours vs peer.

    python -m benchmarks                    # full sizes (the generator: 1M persons, minutes)
    python -m benchmarks --quick            # small sizes, for CI and tests (about a minute)
    python -m benchmarks --only generator --persons 200000 --out bench.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from . import registry, report
from .common import GB, Options, progress


def default_max_rss_gb() -> float | None:
    try:
        return round(0.75 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB, 1)
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): no limit
        return None


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes (CI, tests): the generator at 20k persons, peer at 2k")
    ap.add_argument("--only", metavar="NAME", action="append", choices=registry.BENCHMARKS,
                    help=f"run only this benchmark (repeatable): {', '.join(registry.BENCHMARKS)}")
    ap.add_argument("--persons", type=int, metavar="N",
                    help="override the main size (persons) of every benchmark that has one")
    ap.add_argument("--peer-persons", type=int, metavar="N",
                    help="override the size the slow peer runs at before extrapolation")
    ap.add_argument("--max-rss-gb", type=float, metavar="GB", default=default_max_rss_gb(),
                    help="stop a measured side whose memory grows past this, rather than let "
                         "the machine swap or the OOM killer pick a victim "
                         "(default: 75%% of physical memory)")
    ap.add_argument("--out", type=Path, metavar="FILE",
                    help="also write the table: FILE.json (machine-readable), FILE.md "
                         "(Markdown) or anything else (the text table)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    opts = Options(quick=args.quick, persons=args.persons, peer_persons=args.peer_persons,
                   max_rss_gb=args.max_rss_gb)
    names = args.only or registry.BENCHMARKS
    rows, failed = [], []
    started = time.perf_counter()
    for name in names:
        progress(f"== {name} ==")
        try:
            new = registry.load(name)(opts)
            rows += new
            if any(r.ours is None for r in new):  # ours crashed or outgrew --max-rss-gb
                failed.append(name)
        except Exception as exc:  # one broken benchmark must not hide the others' rows
            progress(f"{name} FAILED: {exc!r}")
            failed.append(name)
    text = report.to_text(rows)
    print(text)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    if args.out:
        meta = {"quick": args.quick, "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                "seconds": round(time.perf_counter() - started, 1), "failed": failed}
        suffix = args.out.suffix.lower()
        body = (report.to_json(rows, meta) if suffix == ".json"
                else report.to_markdown(rows) if suffix == ".md" else text + "\n")
        args.out.write_text(body, encoding="utf-8")
        progress(f"table written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
