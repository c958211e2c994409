"""KPIs: the kpi pipeline's tables (the weekly and monthly KPI tree, the sales bridge,
second-purchase cohorts, lifecycle stages and migration, OneID health) on DuckDB over Parquet,
vs the same code on in-memory pandas, at 1M persons and >= 50M events.

The input is the features benchmark's tiled world (``bench_features.prepare``): ``copies``
copies of a base world with suffixed ids, events repeated further up to >= 50M. Each copy
holds the same orders and each extra event repeat the same visits, so every count and sum of
the tiled world is exactly ``copies`` times the base world's: the pandas peer runs on the base
world (one copy, every table in memory), its time and memory are scaled to the full size, and
its weekly sales and visitors times ``copies`` must equal ours (the ``equal`` note). Value
tiers come from a fixed hash of the person id (the tiers pipeline is not what is measured).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .bench_features import prepare_tiled
from .common import GB, Options, Row, fmt_int, measure, measure_ours, progress, short_count

NAME = "kpi"
PEER = "pandas in memory"
TABLES = ("orders", "events", "registrations", "person_index")
TIERS = ("high", "mid", "low", "new")


def _summary(out: dict) -> dict:
    week = out["kpi_weekly"]
    overall = week[week["slice"] == "all"].sort_values("pno")
    return {"weeks": overall["period_label"].tolist(),
            "sales": [round(float(v), 2) for v in overall["sales"]],
            "visitors": [int(v) for v in overall["visitors"]],
            "members_at_last_end": int(out["kpi_oneid_health"]["persons"].iloc[-1]),
            "tables": {k: len(v) for k, v in out.items()}}


def _settings():
    from omnicrm.kpi.settings import kpi_settings
    from omnicrm.segments.settings import segment_settings

    return kpi_settings(None), segment_settings(None).lifecycle.model_dump()


def ours(scratch: Path, data: str) -> dict:
    """DuckDB relations over the Parquet files: only the aggregates are collected."""
    import duckdb

    from omnicrm.kpi.tables import kpi_tables

    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{scratch}'")
    rel = {name: con.read_parquet(str(Path(data) / f"{name}.parquet")) for name in TABLES}
    first, last = con.execute(f"SELECT min(ordered_at), max(ordered_at) FROM "
                              f"read_parquet('{Path(data) / 'orders.parquet'}')").fetchone()
    tiers = con.execute(
        f"SELECT person_id, list_extract({list(TIERS)}, (hash(person_id) % 4)::INT + 1) "
        f"AS value_tier FROM (SELECT DISTINCT person_id FROM "
        f"read_parquet('{Path(data) / 'person_index.parquet'}'))").df()
    s, lifecycle = _settings()
    out = kpi_tables(rel, tiers, first, last, s, lifecycle, "duckdb", {"connection": con})
    return _summary(out)


def peer(scratch: Path, data: str) -> dict:
    """Every table in memory as pandas frames, the same KPI code on the pandas engine."""
    import duckdb
    import pandas as pd

    from omnicrm.kpi.tables import kpi_tables

    t = {name: pd.read_parquet(Path(data) / f"{name}.parquet") for name in TABLES}
    persons = pd.DataFrame({"person_id": t["person_index"]["person_id"].unique()})
    # the same tier of each person as ours (DuckDB's hash, computed on this small table)
    con = duckdb.connect()
    con.register("persons", persons)
    tiers = con.execute(f"SELECT person_id, list_extract({list(TIERS)}, "
                        "(hash(person_id) % 4)::INT + 1) AS value_tier FROM persons").df()
    s, lifecycle = _settings()
    out = kpi_tables(t, tiers, t["orders"]["ordered_at"].min(), t["orders"]["ordered_at"].max(),
                     s, lifecycle, "pandas")
    return _summary(out)


def equal(o: dict, p: dict, scale: float) -> bool:
    """Ours on the tiled world is the peer's base world times the number of copies."""
    return (o["weeks"] == p["weeks"]
            and all(abs(a - b * scale) < 0.02 * scale for a, b in zip(o["sales"], p["sales"],
                                                                       strict=True))
            and o["visitors"] == [int(v * scale) for v in p["visitors"]]
            and o["members_at_last_end"] == int(p["members_at_last_end"] * scale))


def run(opts: Options) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-kpi-") as data:
        n, copies, rows = prepare_tiled(opts, data, NAME)
        size = f"{fmt_int(n)} persons, {short_count(rows['full.events'])} events"
        progress(f"{NAME}: ours = DuckDB over Parquet")
        o, failure = measure_ours(NAME, "benchmarks.bench_kpi:ours",
                                  {"data": f"{data}/full"},
                                  preload=("omnicrm.kpi.tables", "duckdb"),
                                  max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: peer = {PEER} on the base world ({short_count(n // copies)} persons)")
        p = measure("benchmarks.bench_kpi:peer", {"data": f"{data}/base"},
                    label=f"{NAME} peer", preload=("omnicrm.kpi.tables", "duckdb"),
                    max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: peer took {p.seconds:.1f} s, peak RSS {p.peak_rss / GB:.2f} GB")
    ext = f" (peer extrapolated from {short_count(n // copies)} persons)"
    peer_s = p.seconds * copies
    peer_rss = (p.base_rss + p.work_rss * copies) / GB
    if o is None:
        return [Row(NAME, size, "wall time", None, peer_s, PEER, "s",
                    f"ours FAILED: {failure}{ext}")]
    same = equal(o.info, p.info, copies)
    note = (f"{len(o.info['weeks'])} weeks x (all, 4 channels, tiers), months, bridge, "
            f"cohorts, stages, migration, OneID health from {fmt_int(rows['full.orders'])} "
            f"orders, {fmt_int(rows['full.events'])} events; outputs "
            f"{'equal' if same else 'DIFFER'} (ours = {copies} x peer's base world); peer "
            f"{p.seconds:.1f} s, {p.peak_rss / GB:.2f} GB at {short_count(n // copies)} persons")
    return [
        Row(NAME, size, "wall time", o.seconds, peer_s, PEER, "s", note + ext),
        Row(NAME, size, "peak RSS", o.peak_rss / GB, peer_rss, PEER, "GB",
            f"whole process incl. ~{o.base_rss / GB:.2f} GB interpreter + imports; DuckDB "
            f"reads Parquet out of core, pandas holds every table{ext}"),
    ]
