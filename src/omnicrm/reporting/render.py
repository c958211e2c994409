"""Renders campaign reports: papermill executes notebooks/templates/campaign_report.ipynb per
campaign, nbconvert turns it into one self-contained HTML page without code into
``reports/<campaign_id>.html``; the scheduled run renders every campaign that ended since the
last run (idempotently, via ``reports/.rendered.json``), writes ``reports/index.html`` and logs
the run to MLflow with the pages attached."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omnicrm.datasets import atomic_write
from omnicrm.reporting import present
from omnicrm.reporting.campaign import CampaignDataError, analyse_campaign
from omnicrm.reporting.data import load_tables, reporting_params
from omnicrm.reporting.settings import ANALYSIS_PARAMS, reporting_settings

log = logging.getLogger(__name__)

TEMPLATE = Path("notebooks") / "templates" / "campaign_report.ipynb"
STATE_FILE = ".rendered.json"
NOTEBOOK_PARAMS = ANALYSIS_PARAMS  # every analysis parameter is a notebook parameter

# nbconvert's lab template without the CDN scripts (require.js, MathJax, mermaid): the page is
# self-contained (images embedded), loads nothing from the network and runs no script.
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


class ReportError(RuntimeError):
    """A report could not be rendered; the message says which campaign and why."""


def _project_template(project_path: Path) -> Path:
    path = project_path / TEMPLATE
    if not path.exists():
        raise ReportError(f"report template not found: {path}")
    return path


def notebook_parameters(project_path: Path, campaign_id: str, params: dict) -> dict:
    out = {k: params[k] for k in NOTEBOOK_PARAMS if k in params}
    out.update({"campaign_id": campaign_id, "project_path": str(project_path)})
    return out


def to_html(executed: Path, title: str) -> str:
    """The executed notebook as a clean page: no code cells, no prompts, no external scripts."""
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True,
                            extra_loaders=[DictLoader({"omnicrm_report.html.j2": _HTML_TEMPLATE})],
                            template_file="omnicrm_report.html.j2")
    # cells tagged 'template-only' explain the template to its editors, not to readers
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"template-only"}),
                                   enabled=True)
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    return body


def kernel_config(render_dir: Path):
    """Kernel settings for one render: its connection file inside the render's own folder.
    jupyter_client's default is an anonymous ``/tmp/tmpXXXX.json`` that a SIGKILLed render
    leaves behind for good; inside ``render_dir`` the next run's sweep removes it with the
    folder (the kernel itself exits when its parent dies: ipykernel's parent poller)."""
    from traitlets.config import Config

    config = Config()
    config.KernelManager.connection_file = str(render_dir / "kernel.json")
    return config


def render_report(project_path: str | Path, campaign_id: str, params: dict | None = None,
                  out_dir: str | Path | None = None, timeout_s: int | None = None) -> Path:
    """Execute the template for one campaign and write ``<out_dir>/<campaign_id>.html``
    (default ``<project>/reports``)."""
    import papermill as pm

    project_path = Path(project_path).resolve()
    params = reporting_settings({**reporting_params(project_path), **(params or {})}
                                ).model_dump()
    out_dir = Path(out_dir) if out_dir else project_path / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    template = _project_template(project_path)
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
        executed = Path(tmp) / f"{campaign_id}.ipynb"
        try:
            pm.execute_notebook(str(template), str(executed),
                                parameters=notebook_parameters(project_path, campaign_id,
                                                               params),
                                cwd=str(project_path), kernel_name="python3",
                                progress_bar=False, log_output=False,
                                execution_timeout=timeout_s or params["report_timeout_s"],
                                config=kernel_config(Path(tmp)))
        except pm.PapermillExecutionError as exc:
            name = exc.ename.rsplit(".", 1)[-1]
            raise ReportError(f"campaign {campaign_id}: the report failed: {name}: "
                              f"{exc.evalue}") from None
        page = to_html(executed, f"Campaign {campaign_id} results")
    target = out_dir / f"{campaign_id}.html"
    atomic_write(target, lambda p: p.write_text(page, encoding="utf-8"))
    return target


# --- the scheduled run -------------------------------------------------------------------

@dataclass
class RunSummary:
    as_of: str
    since: str | None
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_ended: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    mlflow_run_id: str | None = None
    index: Path | None = None


def read_state(reports_dir: Path) -> dict:
    path = reports_dir / STATE_FILE
    if not path.exists():
        return {"last_as_of": None, "reports": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_state(reports_dir: Path, state: dict) -> None:
    text = json.dumps(state, indent=2, sort_keys=True, default=str)
    atomic_write(reports_dir / STATE_FILE, lambda p: p.write_text(text, encoding="utf-8"))


def _params_hash(params: dict) -> str:
    return hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]


def due_campaigns(campaigns: pd.DataFrame, as_of: pd.Timestamp, since: pd.Timestamp | None,
                  attribution_days: int) -> tuple[list[str], list[str]]:
    """Campaigns whose attribution window closed on or before ``as_of`` (and on or after
    ``since``), and those still running."""
    closes = pd.to_datetime(campaigns["end_date"]) + pd.Timedelta(days=attribution_days)
    ended = closes <= as_of
    if since is not None:
        ended &= closes >= since
    running = closes > as_of
    return (campaigns.loc[ended, "campaign_id"].tolist(),
            campaigns.loc[running, "campaign_id"].tolist())


def _count(value) -> str:
    """A count as a count: 6,351, not the 6,351.0 a JSON round trip makes of it."""
    try:
        return f"{int(round(float(value))):,}"
    except (TypeError, ValueError):
        return "-"


def write_index(reports_dir: Path, state: dict) -> Path:
    """reports/index.html: every rendered report with its headline figures."""
    rows = sorted(state["reports"].values(), key=lambda r: (r["start_date"], r["campaign_id"]))
    body = []
    for r in rows:
        h = r["headline"]
        body.append(
            f"<tr><td><a href=\"{html.escape(r['html'])}\">{html.escape(r['campaign_id'])}</a>"
            f"</td><td>{html.escape(r['campaign_name'])}</td><td>{r['start_date']}</td>"
            f"<td>{r['end_date']}</td><td>{_count(h['treatment_members'])} / "
            f"{_count(h['control_members'])}"
            f"</td><td>{present.pp(h['conversion_lift'], 2)} "
            f"[{present.pp(h['conversion_lift_low'], 2)}, "
            f"{present.pp(h['conversion_lift_high'], 2)}]"
            f"</td><td>{present.pvalue(h['conversion_p_value'])}</td>"
            f"<td>{present.money(h['incremental_revenue'], sign=True)}</td>"
            f"<td>{present.money(h['incremental_margin'], sign=True)}</td>"
            f"<td>{present.roi(h['roi_margin'])}</td><td>{r['rendered_at'][:16]}</td></tr>")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Campaign reports</title>{present.CSS}
<style>body{{font-family:system-ui,sans-serif;margin:24px;}}</style></head><body>
<h1>Campaign reports</h1>
<p>{len(rows)} campaign(s); data as of {html.escape(str(state.get('last_as_of')))}. Lift is the
conversion-rate difference treatment − control with its {state.get('confidence', 0.95):.0%}
confidence interval.</p>
<table class="omni"><thead><tr><th>campaign</th><th>name</th><th>start</th><th>end</th>
<th>treated / control</th><th>conversion lift</th><th>p</th><th>incremental revenue</th>
<th>incremental margin</th><th>ROI on margin</th><th>rendered</th></tr></thead>
<tbody>{''.join(body)}</tbody></table></body></html>"""
    path = reports_dir / "index.html"
    atomic_write(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path


def _log_mlflow(project_path: Path, summary: RunSummary, params: dict, metrics: dict,
                pages: list[Path]) -> str:
    import mlflow

    from omnicrm.hooks import git_state
    from omnicrm.settings import _project_uri

    cwd = Path.cwd()
    os.chdir(project_path)  # the store is anchored at the project root
    previous = mlflow.get_tracking_uri()
    try:
        mlflow.set_tracking_uri(_project_uri("mlruns/mlflow.db", "sqlite"))
        name = "omnicrm"
        if mlflow.get_experiment_by_name(name) is None:
            mlflow.create_experiment(name, artifact_location=_project_uri("mlruns/artifacts"))
        mlflow.set_experiment(name)
        with mlflow.start_run(run_name="reports") as run:
            mlflow.set_tags({"kedro_pipeline": "reporting", "report_as_of": summary.as_of,
                             "reports_rendered": ",".join(summary.rendered),
                             "reports_failed": ",".join(summary.failed),
                             **git_state(str(project_path))})
            mlflow.log_params({f"reporting.{k}": v for k, v in params.items()
                               if k in NOTEBOOK_PARAMS})
            mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})
            for page in pages:
                mlflow.log_artifact(str(page), artifact_path="reports")
            return run.info.run_id
    finally:
        mlflow.set_tracking_uri(previous)
        os.chdir(cwd)


TEMP_PREFIX = "omnicrm-report-"


def sweep_stale_renders(max_age_s: float = 3600.0, root: str | None = None) -> list[Path]:
    """Remove render folders a killed run left in the temp directory (SIGKILL cannot clean
    up; SIGTERM can: ``omnicrm reports`` runs under ``sigterm_as_exit``): those older than
    ``max_age_s``. Returns them."""
    import shutil

    now, gone = time.time(), []
    for path in Path(root or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime > max_age_s:
                shutil.rmtree(path, ignore_errors=True)
                gone.append(path)
        except OSError:
            continue
    return gone


@contextlib.contextmanager
def _state_lock(reports_dir: Path):
    """One ``run_reports`` at a time per reports folder: a second run (a scheduler firing
    while a manual run is on) waits for the first, then reads the state it left, instead of
    both writing the state and one campaign vanishing from it for good."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not POSIX: no lock)
        yield
        return
    with open(reports_dir / ".rendered.lock", "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_reports(project_path: str | Path, since: str | None = None, as_of: str | None = None,
                campaign_ids: list[str] | None = None, force: bool = False,
                env: str | None = None, track: bool = True) -> RunSummary:
    """Render every campaign that ended since the last run (or ``since``), skipping those
    already rendered (unless ``force``), then write the index and log the run to MLflow.

    Campaigns that cannot be judged (no control group, no data) are reported in
    ``summary.failed`` and retried on the next run; the others are still rendered."""
    project_path = Path(project_path).resolve()
    reports_dir = project_path / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale_renders()
    with _state_lock(reports_dir):
        return _run_reports(project_path, reports_dir, since, as_of, campaign_ids, force, env,
                            track)


def _run_reports(project_path: Path, reports_dir: Path, since, as_of, campaign_ids, force,
                 env, track) -> RunSummary:
    params = reporting_settings(reporting_params(project_path, env)).model_dump()
    tables = load_tables(project_path, env)
    campaigns = tables["campaigns"]
    if campaigns.empty:
        raise ReportError("no data: the campaigns table is empty")
    last_order = pd.Timestamp(tables["orders"]["ordered_at"].max()) \
        if len(tables["orders"]) else None
    if as_of is None and last_order is None:
        raise ReportError("no data: the orders table is empty")
    # a campaign is judged once its data is in: by default 'now' is the day of the last order
    as_of_ts = pd.Timestamp(as_of) if as_of else last_order.normalize()
    state = read_state(reports_dir)
    since_ts = pd.Timestamp(since) if since else (pd.Timestamp(state["last_as_of"])
                                                  if state.get("last_as_of") else None)
    ended, running = due_campaigns(campaigns, as_of_ts, since_ts,
                                   int(params["attribution_days"]))
    if campaign_ids:
        unknown = sorted(set(campaign_ids) - set(campaigns["campaign_id"]))
        if unknown:
            raise ReportError(f"unknown campaign(s): {', '.join(unknown)}")
        ended = [c for c in campaign_ids if c not in running]
        running = [c for c in campaign_ids if c in running]
    # campaigns that failed before are retried even when they ended before `since`
    retry = [c for c in state.get("failed", {}) if c in set(campaigns["campaign_id"])
             and c not in running and c not in ended and not campaign_ids]
    summary = RunSummary(as_of=as_of_ts.date().isoformat(),
                         since=since_ts.date().isoformat() if since_ts is not None else None,
                         not_ended=running)
    metrics: dict = {}
    pages: list[Path] = []
    phash = _params_hash({k: params[k] for k in NOTEBOOK_PARAMS})
    failed_before = dict(state.get("failed", {}))
    # reports rendered under other parameters are rendered again, whenever they ended: the
    # index must not show an old 95% interval under today's confidence level
    known, due = set(campaigns["campaign_id"]), {*ended, *retry, *running}
    stale = [] if campaign_ids else [
        c for c, done in state["reports"].items()
        if done.get("params_hash") != phash and c in known and c not in due]
    for cid in [*ended, *retry, *stale]:
        done = state["reports"].get(cid)
        # a report rendered under other parameters (another confidence level ...) is stale
        if done and not force and (reports_dir / done["html"]).exists() \
                and done.get("params_hash") == phash:
            summary.skipped.append(cid)
            continue
        t0 = time.perf_counter()
        try:
            results = analyse_campaign(cid, tables, params)  # fails fast with a clear reason
            page = render_report(project_path, cid, params, reports_dir)
        except (CampaignDataError, ReportError) as exc:
            summary.failed[cid] = str(exc)
            failed_before[cid] = str(exc)
            continue
        summary.seconds[cid] = time.perf_counter() - t0
        summary.rendered.append(cid)
        failed_before.pop(cid, None)
        pages.append(page)
        headline = {k: present.safe(v) for k, v in results.headline.items()}
        c = results.campaign
        state["reports"][cid] = {
            "campaign_id": cid, "campaign_name": c["campaign_name"],
            "start_date": c["start_date"], "end_date": c["end_date"], "html": page.name,
            "rendered_at": dt.datetime.now().isoformat(timespec="seconds"),
            "as_of": summary.as_of, "params_hash": phash, "headline": headline,
        }
        metrics.update({f"{cid}.{k}": v for k, v in headline.items()})
        metrics[f"{cid}.render_seconds"] = summary.seconds[cid]
    if last_order is not None:
        # only advance: an old --as-of must not move the window back
        prev = state.get("last_as_of")
        state["last_as_of"] = max(filter(None, [prev, summary.as_of]))
    state["failed"] = failed_before
    state["confidence"] = float(params["confidence"])
    _write_state(reports_dir, state)
    summary.index = write_index(reports_dir, state)
    if track and (summary.rendered or summary.failed):
        metrics["reports_rendered"] = len(summary.rendered)
        metrics["reports_failed"] = len(summary.failed)
        summary.mlflow_run_id = _log_mlflow(project_path, summary, params, metrics,
                                            [*pages, summary.index])
    return summary
