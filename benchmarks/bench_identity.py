"""Identity (OneID): our linker vs plain Splink 5 on the same generated member tables, judged
against the world's hidden truth: pairwise and B-cubed F1 overall and on the Chinese hard cases,
precision and household false merges where families share a mobile, wall time and peak RSS.

Both sides run at the same size on the same world (quality cannot be extrapolated), each in its
own process reading the four member tables from Parquet. Sizes are in member records; a world
has about 1.81 records per person, so persons = records / 1.81.

    python -m benchmarks --only identity                 # 100k and 1M records
    python -m benchmarks --only identity --quick         # ~5k records
    python -m benchmarks.bench_identity --records 100000 --side peer   # one side alone
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd

from .common import (
    GB,
    Measurement,
    MeasurementFailed,
    Options,
    Row,
    fmt_int,
    measure,
    progress,
    short_count,
)

NAME = "identity"
PEER = "plain Splink 5"
RECORDS, RECORDS_QUICK = (100_000, 1_000_000), (5_000,)
RECORDS_PER_PERSON = 1.814  # member records per person in the synthetic world (seed 7)
SEED = 7
# our linker: "module:function" taking {channel: member table} and returning the person index
LINKER = os.environ.get("OMNICRM_BENCH_IDENTITY_LINKER", "omnicrm.identity.api:link_members")
CHANNELS = ("pos", "tmall", "wechat", "web")
# hard cases reported as rows (pairwise and B-cubed F1), with their names in the table
CASES = {"homophone": "homophone names", "traditional": "traditional chars",
         "pinyin_name": "pinyin names", "masked_mobile": "masked mobile"}
SIDES = ("ours", "peer")


# --- what runs in the measured child processes ----------------------------------------------

def make_world(persons: int, seed: int, world_dir: str, scratch: Path) -> dict:
    """The member tables and the truth of a world of ``persons`` people, as Parquet in
    ``world_dir``. Only the synthetic nodes that members and truth need (no purchases,
    campaigns or events): persons' truth columns come from the persons table itself."""
    from omnicrm.synthetic import stages
    from omnicrm.synthetic.world import default_params

    params = {**default_params(), "persons": persons, "seed": seed}
    people = stages.generate_persons(params)
    stores, _ = stages.generate_catalogue(params)
    *members, truth_records = stages.generate_records(people, stores, params)
    out = Path(world_dir)
    for channel, table in zip(CHANNELS, members, strict=True):
        table.to_parquet(out / f"{channel}_members.parquet")
    truth_records.to_parquet(out / "truth_records.parquet")
    people[["person_id", "household_id", "name", "common_name"]] \
        .to_parquet(out / "truth_persons.parquet")
    return {"records": len(truth_records), "persons": persons}


def ours(world_dir: str, out: str, linker: str, scratch: Path) -> dict:
    """Our OneID linker on the four member tables; the person index goes to ``out``."""
    import importlib

    module, func = linker.split(":")
    link_members = getattr(importlib.import_module(module), func)
    tables = {c: pd.read_parquet(Path(world_dir) / f"{c}_members.parquet") for c in CHANNELS}
    records = sum(len(t) for t in tables.values())
    person_index = link_members(tables)
    del tables
    missing = {"record_id", "channel", "person_id", "match_confidence"} - set(person_index)
    if missing:
        raise ValueError(f"{linker} returned no column(s) {sorted(missing)}")
    person_index[["record_id", "person_id"]].astype(str).to_parquet(out)
    return {"records": records, "persons": int(person_index["person_id"].nunique())}


# --- scoring, in the parent --------------------------------------------------------------------

def score(world_dir: Path, clusters: Path) -> dict:
    """Pairwise and B-cubed scores of a clustering (record_id, person_id), overall and per
    hard case."""
    from omnicrm.identity.evaluation import hard_case_scores

    truth_records = pd.read_parquet(world_dir / "truth_records.parquet")
    truth_persons = pd.read_parquet(world_dir / "truth_persons.parquet")
    found = pd.read_parquet(clusters)
    pred = pd.Series(found["person_id"].to_numpy(), index=found["record_id"])
    table = hard_case_scores(pred, truth_records, truth_persons)
    return {case: row.to_dict() for case, row in table.iterrows()}


# --- the rows -------------------------------------------------------------------------------

def _pct(x: float | None) -> float | None:
    return None if x is None or pd.isna(x) else 100 * x


def _side(scores: dict | None, case: str, key: str) -> float | None:
    return None if scores is None else scores[case][key]


def _pr(scores: dict | None, case: str, who: str) -> str:
    if scores is None:
        return f"{who} -"
    s = scores[case]
    return f"{who} P {100 * s['precision']:.1f} / R {100 * s['recall']:.1f}"


def _rows(size: str, measured: dict[str, Measurement | None], scores: dict[str, dict | None],
          failures: dict[str, str], world: dict) -> list[Row]:
    o, p = scores.get("ours"), scores.get("peer")
    failed = "; ".join(f"{side} FAILED: {msg}" for side, msg in failures.items())
    base = f"{fmt_int(world['records'])} records of {fmt_int(world['persons'])} persons"
    if failed:
        base += f"; {failed}"
    rows = []

    def quality(metric: str, case: str, key: str, note: str) -> None:
        rows.append(Row(NAME, size, metric, _pct(_side(o, case, key)), _pct(_side(p, case, key)),
                        PEER, "%", note, higher_is_better=True))

    overall = (o or p or {}).get("overall")
    quality("pairwise F1", "overall", "f1",
            f"{base}; {_pr(o, 'overall', 'ours')}, {_pr(p, 'overall', 'peer')}; "
            f"{fmt_int(int(overall['true_pairs'])) if overall else '?'} true pairs")
    quality("B-cubed F1", "overall", "bcubed_f1", "record-averaged B-cubed")
    for case, label in CASES.items():
        n = (o or p or {}).get(case, {}).get("records")
        quality(f"pairwise F1: {label}", case, "f1",
                f"pairs with a record of the case ({fmt_int(int(n)) if n else '?'} records); "
                f"{_pr(o, case, 'ours')}, {_pr(p, case, 'peer')}")
        quality(f"B-cubed F1: {label}", case, "bcubed_f1", "averaged over the case's records")
    quality("precision: family shared mobile", "family_shared_mobile", "precision",
            "predicted pairs with a record of a household where a mobile is shared")
    hh_o = _side(o, "family_shared_mobile", "household_false_merges")
    hh_p = _side(p, "family_shared_mobile", "household_false_merges")
    rows.append(Row(NAME, size, "household false merges", hh_o, hh_p, PEER, "pairs",
                    "linked pairs of different persons of one shared-mobile household"))
    mo, mp = measured.get("ours"), measured.get("peer")
    peer_info = mp.info if mp else {}
    timing = (f"peer: train {peer_info['train_s']:.0f} s (lambda {peer_info['lambda_s']:.0f}, "
              f"u {peer_info['u_s']:.0f}, EM {peer_info['em_s']:.0f}), "
              f"predict {peer_info['predict_s']:.0f} s"
              f" ({fmt_int(peer_info['pairs_at_threshold'])} pairs >= 0.9), cluster "
              f"{peer_info['cluster_s']:.0f} s" if peer_info else "")
    rows.append(Row(NAME, size, "wall time", mo and mo.seconds, mp and mp.seconds, PEER, "s",
                    "reading the 4 member tables + linking + clustering; " + timing))
    base_rss = (mo or mp).base_rss / GB if (mo or mp) else 0
    rows.append(Row(NAME, size, "peak RSS", mo and mo.peak_rss / GB, mp and mp.peak_rss / GB,
                    PEER, "GB", f"whole process incl. ~{base_rss:.2f} GB interpreter + imports"))
    return rows


def run_size(records: int | None, opts: Options, sides: tuple[str, ...] = SIDES,
             persons: int | None = None) -> list[Row]:
    """Generate one world, measure the chosen sides on it, score them, and return the rows."""
    persons = persons or round(records / RECORDS_PER_PERSON)
    size = f"{short_count(records)} records" if records else f"{fmt_int(persons)} persons"
    measured: dict[str, Measurement | None] = {}
    scores: dict[str, dict | None] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="omnicrm-bench-identity-") as tmp:
        world_dir = Path(tmp)
        progress(f"{NAME}: world of {fmt_int(persons)} persons (members + truth)")
        world = measure("benchmarks.bench_identity:make_world",
                        {"persons": persons, "seed": SEED, "world_dir": tmp},
                        label=f"{NAME} world", max_rss_gb=opts.max_rss_gb).info
        progress(f"{NAME}: {fmt_int(world['records'])} member records")
        targets = {
            # imports before the clock on both sides: the linker's module, Splink
            "ours": ("benchmarks.bench_identity:ours", {"linker": LINKER},
                     ("pandas", "pyarrow", LINKER.split(":")[0])),
            "peer": ("benchmarks.peers.plain_splink:run", {},
                     ("benchmarks.peers.plain_splink", "splink", "duckdb", "pyarrow")),
        }
        for side in sides:
            target, kwargs, preload = targets[side]
            out = str(world_dir / f"{side}_clusters.parquet")
            progress(f"{NAME}: {side} = {LINKER if side == 'ours' else PEER}")
            try:
                m = measure(target, {"world_dir": tmp, "out": out, **kwargs},
                            label=f"{NAME} {side}", preload=preload,
                            max_rss_gb=opts.max_rss_gb)
            except MeasurementFailed as exc:
                progress(str(exc))
                measured[side], scores[side], failures[side] = None, None, str(exc)
                continue
            measured[side] = m
            scores[side] = score(world_dir, Path(out))
            s = scores[side]["overall"]
            progress(f"{NAME}: {side} took {m.seconds:.1f} s, peak RSS {m.peak_rss / GB:.2f} GB;"
                     f" pairwise F1 {s['f1']:.3f} (P {s['precision']:.3f}, R {s['recall']:.3f})"
                     f", B-cubed F1 {s['bcubed_f1']:.3f}")
    return _rows(size, measured, scores, failures, world)


def run(opts: Options) -> list[Row]:
    if opts.persons:
        return run_size(None, opts, persons=opts.persons)
    rows = []
    for records in (RECORDS_QUICK if opts.quick else RECORDS):
        rows += run_size(records, opts)
    return rows


def main(argv: list[str] | None = None) -> int:
    from . import report

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_identity",
                                 description="one size, one or both sides")
    ap.add_argument("--records", type=int, default=RECORDS[0])
    ap.add_argument("--side", choices=[*SIDES, "both"], default="both")
    ap.add_argument("--max-rss-gb", type=float, default=None)
    args = ap.parse_args(argv)
    sides = SIDES if args.side == "both" else (args.side,)
    rows = run_size(args.records, Options(max_rss_gb=args.max_rss_gb), sides=sides)
    print(report.to_text(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
