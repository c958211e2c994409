"""Campaign report: wall time to render one campaign's report (papermill executes the template,
nbconvert writes the page without code) vs the one-step ``jupyter nbconvert --execute --to html
--no-input`` on the same notebook with its parameters written in. The issue's target is
<= 60 s per report."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import ROOT, Options, Row, fmt_int, measure, progress

NAME = "reports"
PEER = "jupyter nbconvert --execute"
PERSONS, PERSONS_QUICK = 20_000, 3_000
CAMPAIGN = "C001"


def _project(dest: Path, persons: int) -> Path:
    """A project copy with a world of ``persons`` and a person_index from its truth."""
    import logging

    from omnicrm.synthetic.world import generate_world

    logging.getLogger("kedro").setLevel(logging.WARNING)
    for name in ("conf", "notebooks"):
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("local", ".ipynb_checkpoints"))
    (dest / "conf" / "local").mkdir(exist_ok=True)
    (dest / "src").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(ROOT / name, dest / name)
    for layer in ("00_truth", "01_raw", "03_primary"):
        (dest / "data" / layer).mkdir(parents=True)
    (dest / "reports").mkdir()
    world = generate_world(persons=persons, seed=7)
    for name, table in world.items():
        layer = "00_truth" if name.startswith("truth_") else "01_raw"
        table.to_parquet(dest / "data" / layer / f"{name}.parquet", index=False)
    world["truth_records"][["record_id", "channel", "person_id"]].assign(
        match_confidence=1.0).to_parquet(dest / "data" / "03_primary" / "person_index.parquet",
                                         index=False)
    return dest


def ours(project: str, campaign: str, scratch: str | None = None) -> dict:
    from omnicrm.reporting.render import render_report

    page = render_report(project, campaign)
    return {"bytes": page.stat().st_size}


def peer(project: str, campaign: str, scratch: str | None = None) -> dict:
    import nbformat

    template = Path(project) / "notebooks" / "templates" / "campaign_report.ipynb"
    nb = nbformat.read(template, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += f"\ncampaign_id = {campaign!r}\nproject_path = {project!r}\n"
    src = Path(project) / "reports" / f"peer_{campaign}.ipynb"
    nbformat.write(nb, src)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html",
                    "--no-input", str(src)], check=True, capture_output=True, cwd=project)
    return {"bytes": src.with_suffix(".html").stat().st_size}


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    size = f"1 campaign, {fmt_int(n)} persons"
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        progress(f"{NAME}: building a {fmt_int(n)}-person project")
        project = str(_project(Path(tmp), n))
        args = {"project": project, "campaign": CAMPAIGN}
        progress(f"{NAME}: ours = render_report({CAMPAIGN})")
        o = measure("benchmarks.bench_reports:ours", args, label=f"{NAME} ours",
                    preload=("omnicrm.reporting.render", "papermill", "nbconvert"),
                    max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: ours took {o.seconds:.1f} s; peer = {PEER}")
        p = measure("benchmarks.bench_reports:peer", args, label=f"{NAME} peer",
                    preload=("nbformat",), max_rss_gb=opts.max_rss_gb)
        progress(f"{NAME}: peer took {p.seconds:.1f} s")
    return [Row(NAME, size, "wall time", o.seconds, p.seconds, PEER, "s",
                f"target <= 60 s; page {o.info['bytes'] / 1e3:,.0f} kB self-contained, peer "
                f"{p.info['bytes'] / 1e3:,.0f} kB (loads require.js/MathJax from a CDN)")]
