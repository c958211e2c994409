"""Features: the per-person feature store on DuckDB, out of core over Parquet (narwhals lazy
expressions, `omnicrm.features`), vs the same features in plain in-memory pandas
(`omnicrm.features.reference`), at 1M persons and >= 50M events.

The input is a generated world tiled to size: a base world of ``persons / copies`` persons is
written once and every table is repeated ``copies`` times with suffixed ids (each copy its own
persons, records, orders and events); events are repeated further until there are >= 50M. The
pandas peer loads everything into memory, so it runs on one copy (the base world, with the
same event density) and its time and memory are extrapolated linearly (marked in the note).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from .common import GB, Options, Row, fmt_int, measure, measure_ours, progress, short_count

NAME = "features"
PEER = "plain pandas"
PERSONS, PERSONS_QUICK = 1_000_000, 20_000
COPIES, COPIES_QUICK = 8, 2
MIN_EVENTS, MIN_EVENTS_QUICK = 50_000_000, 0
TABLES = ("orders", "order_items", "products", "events", "campaign_members",
          "coupon_redemptions", "registrations", "person_index")
# id columns that get a copy suffix, per table
IDS = {"orders": ("order_id", "record_id"), "order_items": ("order_id",),
       "events": ("event_id", "record_id"), "campaign_members": ("record_id",),
       "coupon_redemptions": ("coupon_id", "record_id", "order_id"),
       "registrations": ("record_id",), "person_index": ("record_id", "person_id")}


def prepare(scratch: Path, data: str, persons: int, copies: int, min_events: int) -> dict:
    """Generate the base world and write ``data/base`` (one copy) and ``data/full`` (tiled)."""
    import duckdb

    from omnicrm.identity.golden import member_registrations
    from omnicrm.synthetic.world import generate_world

    base_persons = persons // copies
    world = generate_world(persons=base_persons, seed=11)
    world["registrations"] = member_registrations(world["pos_members"], world["tmall_members"],
                                                  world["wechat_members"], world["web_members"])
    world["person_index"] = world["truth_records"][["record_id", "channel", "person_id"]]
    raw = Path(data) / "raw"
    raw.mkdir(parents=True)
    for name in TABLES:
        world[name].to_parquet(raw / f"{name}.parquet", index=False)
    n_events = len(world["events"])
    event_repeat = max(1, math.ceil(min_events / (n_events * copies))) if min_events else 1
    del world
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '4GB'")  # tiling spills rather than holding it all
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{scratch}'")
    counts = {}
    for target, n_copies in (("base", 1), ("full", copies)):
        out = Path(data) / target
        out.mkdir()
        for name in TABLES:
            src = f"read_parquet('{raw / f'{name}.parquet'}')"
            reps = n_copies * (event_repeat if name == "events" else 1)
            if name not in IDS:
                sql = f"SELECT * FROM {src}"
            else:
                # copy c belongs to person copy c % n_copies; extra event repeats get own ids
                repl = ", ".join(
                    f"{c} || '-' || CAST((r % {n_copies}) AS VARCHAR)"
                    + (" || '.' || CAST(r AS VARCHAR)" if c == "event_id" else "")
                    + f" AS {c}" for c in IDS[name])
                sql = f"SELECT * REPLACE ({repl}) FROM {src}, range({reps}) t(r)"
            con.execute(f"COPY ({sql}) TO '{out / f'{name}.parquet'}' (FORMAT parquet)")
            counts[f"{target}.{name}"] = con.execute(
                f"SELECT count(*) FROM '{out / f'{name}.parquet'}'").fetchone()[0]
    return {"rows": counts, "event_repeat": event_repeat, "base_persons": base_persons}


def ours(scratch: Path, data: str) -> dict:
    """DuckDB reads the Parquet files lazily: nothing is loaded before the aggregation."""
    import duckdb
    import pandas as pd

    from omnicrm.features import person_features, resolve_cutoff

    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{scratch}'")
    rel = {name: con.read_parquet(str(Path(data) / f"{name}.parquet")) for name in TABLES
           if name != "products"}
    products = pd.read_parquet(Path(data) / "products.parquet")
    cutoff = resolve_cutoff(None, rel["orders"])
    features = person_features(rel, products, cutoff, engine="duckdb",
                               engine_options={"connection": con})
    features.to_parquet(scratch / "person_features.parquet", index=False)
    return {"persons": len(features), "columns": features.shape[1],
            "orders": int(features["frequency"].sum())}


def peer(scratch: Path, data: str) -> dict:
    """Plain pandas: every table in memory, merges and group-bys."""
    import pandas as pd

    from omnicrm.features import resolve_cutoff
    from omnicrm.features.reference import person_features_pandas

    t = {name: pd.read_parquet(Path(data) / f"{name}.parquet") for name in TABLES}
    cutoff = resolve_cutoff(None, t["orders"])
    features = person_features_pandas(**t, cutoff=cutoff)
    features.to_parquet(scratch / "person_features.parquet", index=False)
    return {"persons": len(features), "columns": features.shape[1],
            "orders": int(features["frequency"].sum())}


def prepare_tiled(opts: Options, data: str, name: str) -> tuple[int, int, dict]:
    """The tiled world at ``opts``' size written to ``data`` (``base/``: one copy, ``full/``:
    all), measured in its own process: (persons, copies, row counts per table)."""
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    copies = COPIES_QUICK if opts.quick else COPIES
    min_events = MIN_EVENTS_QUICK if opts.quick else MIN_EVENTS
    progress(f"{name}: preparing {fmt_int(n)} persons ({copies} copies of a "
             f"{fmt_int(n // copies)}-person world)")
    prep = measure("benchmarks.bench_features:prepare",
                   {"data": data, "persons": n, "copies": copies, "min_events": min_events},
                   label=f"{name} prepare", max_rss_gb=opts.max_rss_gb)
    rows = prep.info["rows"]
    progress(f"{name}: prepared in {prep.seconds:.0f} s: {fmt_int(rows['full.events'])} "
             f"events, {fmt_int(rows['full.orders'])} orders")
    return n, copies, rows


def run(opts: Options) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-features-") as data:
        n, copies, rows = prepare_tiled(opts, data, NAME)
        size = f"{fmt_int(n)} persons, {short_count(rows['full.events'])} events"
        progress(f"{NAME}: ours = narwhals on DuckDB over Parquet")
        o, failure = measure_ours(NAME, "benchmarks.bench_features:ours",
                                  {"data": f"{data}/full"}, preload=("omnicrm.features", "duckdb"),
                                  max_rss_gb=opts.max_rss_gb)
        peer_copies = copies if opts.quick else 1
        peer_dir = f"{data}/full" if opts.quick else f"{data}/base"
        scale = copies / peer_copies
        progress(f"{NAME}: peer = {PEER} on {short_count(n * peer_copies // copies)} persons")
        p = measure("benchmarks.bench_features:peer", {"data": peer_dir},
                    label=f"{NAME} peer", preload=("omnicrm.features.reference",),
                    max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: peer took {p.seconds:.1f} s, peak RSS {p.peak_rss / GB:.2f} GB")
    extrapolated = (f"peer extrapolated from {short_count(n // copies)} persons"
                    if scale != 1 else "")
    ext = f" ({extrapolated})" if extrapolated else ""
    peer_s = p.seconds * scale
    peer_rss = (p.base_rss + p.work_rss * scale) / GB
    if o is None:
        return [Row(NAME, size, "wall time", None, peer_s, PEER, "s",
                    f"ours FAILED: {failure}{ext}")]
    note = (f"{fmt_int(o.info['persons'])} persons x {o.info['columns']} features from "
            f"{fmt_int(rows['full.orders'])} orders, {fmt_int(rows['full.order_items'])} items, "
            f"{fmt_int(rows['full.events'])} events; peer {p.seconds:.1f} s, "
            f"{p.peak_rss / GB:.2f} GB at {short_count(n // int(scale))} persons")
    return [
        Row(NAME, size, "wall time", o.seconds, peer_s, PEER, "s", note + ext),
        Row(NAME, size, "peak RSS", o.peak_rss / GB, peer_rss, PEER, "GB",
            f"whole process incl. ~{o.base_rss / GB:.2f} GB interpreter + imports; DuckDB "
            f"reads Parquet out of core, pandas holds every table{ext}"),
    ]
