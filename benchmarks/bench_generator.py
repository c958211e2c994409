"""Generator: the synthetic world (whole Kedro pipeline in memory, then every table written to
Parquet) vs a per-row Faker loop, at the scale the issue asks for (1M persons in minutes).

The peer writes about 5 rows per person to our ~70, but row by row in Python, so it runs at a
smaller size and its time and memory are extrapolated linearly to ours (marked in the note).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .common import (
    GB,
    Measurement,
    Options,
    Row,
    fmt_int,
    measure,
    measure_ours,
    progress,
    short_count,
)

NAME = "generator"
PEER = "Faker zh_CN loop"
PERSONS, PERSONS_QUICK = 1_000_000, 20_000
PEER_PERSONS, PEER_PERSONS_QUICK = 20_000, 2_000


def ours(persons: int, scratch: Path) -> dict:
    """Generate the world for ``persons`` people and save every table as ``kedro run`` would
    (the project's TableDataset: contract check, then an atomic Parquet write)."""
    import time

    from omnicrm.contracts import ALL_CONTRACTS
    from omnicrm.datasets import TableDataset
    from omnicrm.synthetic.world import generate_world

    _plain_logging()
    t0 = time.perf_counter()
    world = generate_world(persons=persons)
    t_generate = time.perf_counter() - t0
    rows = {}
    for name in sorted(world):
        table = world.pop(name)  # free each table once written, as the runner would
        rows[name] = len(table)
        TableDataset(str(scratch / f"{name}.parquet"),
                     contract=name if name in ALL_CONTRACTS else None).save(table)
        del table
    return {"rows": rows, "generate_s": t_generate,
            "write_s": time.perf_counter() - t0 - t_generate,
            "bytes_written": sum(p.stat().st_size for p in scratch.glob("*.parquet"))}


def _plain_logging() -> None:
    """Progress for a long run: the runner's node lines and the nodes' own counts, one plain
    line each (Kedro's rich handler wraps them at 80 columns when stderr is not a terminal),
    without the catalog's line per dataset load and save."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("omnicrm", "kedro.runner"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("kedro.io").setLevel(logging.WARNING)


def _ours_summary(m: Measurement) -> str:
    r = m.info["rows"]
    return (f"generate {m.info['generate_s']:.0f} s + contract check & Parquet "
            f"{m.info['write_s']:.0f} s ({m.info['bytes_written'] / 1e6:,.0f} MB); rows: "
            f"{fmt_int(r['truth_records'])} member records, {fmt_int(r['orders'])} orders, "
            f"{fmt_int(r['order_items'])} items, {fmt_int(r['events'])} events, "
            f"{fmt_int(sum(r.values()))} in all")


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    n_peer = min(opts.peer_persons or (PEER_PERSONS_QUICK if opts.quick else PEER_PERSONS), n)
    size = f"{fmt_int(n)} persons"
    scale = n / n_peer
    extrapolated = f"peer extrapolated from {short_count(n_peer)}" if scale != 1 else ""

    progress(f"{NAME}: ours = generate_world(persons={fmt_int(n)}) + Parquet")
    o, failure = measure_ours(NAME, "benchmarks.bench_generator:ours", {"persons": n},
                              preload=("omnicrm.synthetic.world", "omnicrm.datasets"),
                              max_rss_gb=opts.max_rss_gb)

    progress(f"{NAME}: peer = {PEER} for {fmt_int(n_peer)} persons")
    p = measure("benchmarks.peers.faker_loop:generate", {"persons": n_peer},
                label=f"{NAME} peer", preload=("benchmarks.peers.faker_loop",),
                max_rss_gb=opts.max_rss_gb)
    peer_rows = sum(p.info["rows"].values())
    progress(f"{NAME}: peer took {p.seconds:.1f} s for {fmt_int(n_peer)} persons "
             f"({fmt_int(peer_rows)} rows)")
    peer_s = p.seconds * scale
    # linear in persons: interpreter + imports, plus the rows held in Python lists
    peer_rss = (p.base_rss + p.work_rss * scale) / GB
    peer_note = (f"peer {p.seconds:.1f} s for {short_count(n_peer)} persons, "
                 f"{fmt_int(round(peer_rows * scale))} rows (persons, records, orders)")

    if o is None:
        return [Row(NAME, size, "wall time", None, peer_s, PEER, "s",
                    f"ours FAILED: {failure}; {extrapolated}")]
    ours_rows = sum(o.info["rows"].values())
    ext = f" ({extrapolated})" if extrapolated else ""
    return [
        Row(NAME, size, "wall time", o.seconds, peer_s, PEER, "s",
            f"{_ours_summary(o)}; {peer_note}{ext}"),
        Row(NAME, size, "throughput", n / o.seconds, n_peer / p.seconds, PEER, "persons/s",
            "persons generated and written per second" + ext, higher_is_better=True),
        Row(NAME, size, "rows written/s", ours_rows / o.seconds, peer_rows / p.seconds, PEER,
            "rows/s", f"ours {fmt_int(ours_rows)} rows in {len(o.info['rows'])} tables; peer "
            f"{fmt_int(round(peer_rows * scale))} rows in 3 tables{ext}",
            higher_is_better=True),
        Row(NAME, size, "peak RSS", o.peak_rss / GB, peer_rss, PEER, "GB",
            f"whole process incl. ~{o.base_rss / GB:.2f} GB interpreter + imports"
            + (f"; peer {p.peak_rss / GB:.2f} GB at {short_count(n_peer)}, "
               f"grown linearly ({extrapolated})" if extrapolated else "")),
    ]
