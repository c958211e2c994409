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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omnicrm.datasets import atomic_write
from omnicrm.reporting import present
from omnicrm.reporting.campaign import CampaignDataError, analyse_campaign
from omnicrm.reporting.data import load_tables, reporting_params
from omnicrm.reporting.settings import ANALYSIS_PARAMS, reporting_settings
from omnicrm.reporting.weekly import WeeklyDataError, load_kpis

log = logging.getLogger(__name__)

TEMPLATE = Path("notebooks") / "templates" / "campaign_report.ipynb"
WEEKLY_TEMPLATE = Path("notebooks") / "templates" / "weekly_business_report.ipynb"
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


class WarmKernel:
    """One Jupyter kernel kept running for many renders in one thread: the kernel's start
    and the template's imports (pandas, matplotlib, omnicrm: about 8 s of a 13 s render) are
    paid once. Each render first clears the namespace (``%reset -f``, figures closed), so a
    report sees only its own parameters; a render that times out or kills the kernel stops
    it, and the next render starts a fresh one. The connection file lives in a
    ``TEMP_PREFIX`` folder that the next run's sweep removes if this process is killed."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.km = self.kc = None
        self.dir: Path | None = None

    def ensure(self):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        if self.km is not None and run_sync(self.km.is_alive)():
            return self
        self.stop()
        self.dir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        self.km = AsyncKernelManager(kernel_name="python3", config=kernel_config(self.dir))
        # the kernel's own start-up warnings (TCP without encryption, on localhost) are not
        # the reader's business
        run_sync(self.km.start_kernel)(cwd=str(self.cwd),
                                       extra_arguments=["--IPKernelApp.log_level=ERROR"])
        self.kc = self.km.client()
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=120)
        return self

    def stop(self) -> None:
        import shutil

        from jupyter_core.utils import run_sync

        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
        if self.km is not None:
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.km = self.kc = self.dir = None


class KernelPool:
    """A warm kernel per worker thread, all stopped on exit."""

    def __init__(self, cwd: Path):
        import threading

        self.cwd, self._local, self._all = cwd, threading.local(), []
        self._lock = threading.Lock()

    def get(self) -> WarmKernel:
        kernel = getattr(self._local, "kernel", None)
        if kernel is None:
            kernel = self._local.kernel = WarmKernel(self.cwd)
            with self._lock:
                self._all.append(kernel)
        return kernel

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for kernel in self._all:
            kernel.stop()


# run first in a warm kernel: the previous report's variables and figures are gone
_RESET = "%reset -f\nimport matplotlib.pyplot\nmatplotlib.pyplot.close('all')"


def _render(project_path: Path, template: Path, name: str, parameters: dict, title: str,
            out_dir: Path, timeout_s: int, label: str, kernel: WarmKernel | None = None
            ) -> Path:
    """Execute ``template`` with ``parameters`` and write ``<out_dir>/<name>.html`` (atomically:
    a failed or killed render leaves the previous page); in ``kernel`` when given (warm),
    else in a kernel of its own."""
    import nbformat
    import papermill as pm

    # nbconvert's "alternative text is missing" and jupyter_client's clean-up notes would
    # drown the progress lines; real failures raise
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
        executed = Path(tmp) / f"{name}.ipynb"
        source: str | nbformat.NotebookNode = str(template)
        run_in = {"config": kernel_config(Path(tmp))}
        if kernel is not None:
            kernel.ensure()
            source = nbformat.read(template, as_version=4)
            source.cells.insert(0, nbformat.v4.new_code_cell(
                _RESET, metadata={"tags": ["template-only"]}))
            run_in = {"km": kernel.km, "kc": kernel.kc}
        try:
            pm.execute_notebook(source, str(executed), parameters=parameters,
                                cwd=str(project_path), kernel_name="python3",
                                progress_bar=False, log_output=False,
                                execution_timeout=timeout_s, **run_in)
        except pm.PapermillExecutionError as exc:
            kind = exc.ename.rsplit(".", 1)[-1]
            raise ReportError(f"{label}: the report failed: {kind}: {exc.evalue}") from None
        except Exception as exc:
            from nbclient.exceptions import DeadKernelError

            if kernel is not None:  # a timeout or a dead kernel: start afresh next time
                kernel.stop()
            if isinstance(exc, TimeoutError):
                raise ReportError(f"{label}: the report did not finish within {timeout_s} s "
                                  "(report_timeout_s in parameters_reporting.yml)") from None
            if isinstance(exc, DeadKernelError):
                raise ReportError(f"{label}: the report's kernel died ({exc})") from None
            raise
        page = to_html(executed, title)
    target = out_dir / f"{name}.html"
    atomic_write(target, lambda p: p.write_text(page, encoding="utf-8"))
    return target


def render_report(project_path: str | Path, campaign_id: str, params: dict | None = None,
                  out_dir: str | Path | None = None, timeout_s: int | None = None,
                  kernel: WarmKernel | None = None) -> Path:
    """Execute the template for one campaign and write ``<out_dir>/<campaign_id>.html``
    (default ``<project>/reports``)."""
    project_path = Path(project_path).resolve()
    params = reporting_settings({**reporting_params(project_path), **(params or {})}
                                ).model_dump()
    out_dir = Path(out_dir) if out_dir else project_path / "reports"
    return _render(project_path, _project_template(project_path), campaign_id,
                   notebook_parameters(project_path, campaign_id, params),
                   f"Campaign {campaign_id} results", out_dir,
                   timeout_s or params["report_timeout_s"], f"campaign {campaign_id}", kernel)


def weekly_page(week: str, channel: str | None = None) -> str:
    return f"week-{week}" + (f"-{channel}" if channel else "")


def render_weekly(project_path: str | Path, week: str, channel: str | None = None,
                  out_dir: str | Path | None = None, timeout_s: int | None = None,
                  kernel: WarmKernel | None = None) -> Path:
    """Render the weekly business report of ``week`` (``2026-W43``) into
    ``<out_dir>/week-2026-W43[-channel].html``."""
    project_path = Path(project_path).resolve()
    template = project_path / WEEKLY_TEMPLATE
    if not template.exists():
        raise ReportError(f"report template not found: {template}")
    params = reporting_settings(reporting_params(project_path)).model_dump()
    out_dir = Path(out_dir) if out_dir else project_path / "reports"
    return _render(project_path, template, weekly_page(week, channel),
                   {"week": week, "channel": channel, "project_path": str(project_path)},
                   f"Week {week}" + (f" {channel}" if channel else ""), out_dir,
                   timeout_s or params["report_timeout_s"], f"week {week}", kernel)


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
    weeks: list[str] = field(default_factory=list)
    weekly_note: str | None = None
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


def _pct(value, sign: bool = True) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if v != v else f"{v:+.1%}" if sign else f"{v:.1%}"


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
    weeks = sorted(state.get("weekly", {}).values(), key=lambda r: r["week"], reverse=True)
    wrows = []
    for r in weeks:
        h = r["headline"]
        wrows.append(
            f"<tr><td><a href=\"{html.escape(r['html'])}\">{html.escape(r['week'])}</a></td>"
            f"<td>{html.escape(r['period_start'])}</td><td>{present.money(h['sales'])}</td>"
            f"<td>{_pct(h['sales_wow'])}</td><td>{_pct(h['sales_yoy'])}</td>"
            f"<td>{_count(h['visitors'])}</td><td>{_pct(h['conversion'], sign=False)}</td>"
            f"<td>{present.money(h['aov'])}</td><td>{_count(h['buyers'])} "
            f"({_count(h['new_buyers'])} new)</td><td>{r['rendered_at'][:16]}</td></tr>")
    weekly = (f"""<h2 id="weekly">Weekly business reports</h2>
<p>{len(weeks)} week(s): the KPI tree, the sales bridge, cohorts, lifecycle migration and OneID
health of each ISO week (older weeks: <code>omnicrm reports --since DATE</code>).</p>
<table class="omni"><thead><tr><th>week</th><th>from</th><th>sales</th><th>WoW</th><th>YoY</th>
<th>visitors</th><th>conversion</th><th>AOV</th><th>buyers</th><th>rendered</th></tr></thead>
<tbody>{''.join(wrows)}</tbody></table>""" if weeks else "")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>omnicrm reports</title>{present.CSS}
<style>body{{font-family:system-ui,sans-serif;margin:24px;}}</style></head><body>
<h1>omnicrm reports</h1>
{weekly}
<h2 id="campaigns">Campaign reports</h2>
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
WEEK_HEADLINE = ("sales", "sales_wow", "sales_yoy", "visitors", "conversion", "aov", "buyers",
                 "new_buyers")


def _outcome(fn):
    """``fn`` returning (value..., None) or (None, None, message) on a ReportError."""
    def call(job):
        try:
            return (*fn(job), None)
        except ReportError as exc:
            return None, None, str(exc)
    return call


def _label(kind: str, key: str) -> str:
    """How a render job is named to people: ``C001`` or ``week 2026-W43``."""
    return key if kind == "campaign" else f"week {key}"


def _week_row(kpis: dict, week: str) -> pd.Series:
    w = kpis["kpi_weekly"]
    return w[(w["slice"] == "all") & (w["period_label"] == week)].iloc[0]


def _due_weeks(kpis: dict, weeks: list[str] | None, since: str | None, last: int
               ) -> dict[str, str]:
    """The weeks to have a report of, each with the hash of its KPI rows (a week whose
    figures changed, e.g. late orders, is rendered again): the asked ``weeks``, else the last
    ``last`` complete weeks and, with ``since``, every complete week starting on or after it."""
    w = kpis["kpi_weekly"]
    known = w.loc[w["slice"] == "all"].sort_values("pno")
    if weeks:
        unknown = sorted(set(weeks) - set(known["period_label"]))
        if unknown:
            raise ReportError(f"no KPIs for week(s) {', '.join(unknown)} (complete weeks "
                              f"{known['period_label'].iloc[0]} to "
                              f"{known['period_label'].iloc[-1]})")
        chosen = list(weeks)
    else:
        chosen = known["period_label"].tolist()[-last:] if last > 0 else []
        if since:
            starts = pd.to_datetime(known["period_start"])
            chosen = sorted(set(chosen) | set(known.loc[starts >= pd.Timestamp(since),
                                                        "period_label"]))
    out = {}
    for week in chosen:
        rows = w[w["period_label"] == week].sort_values(["slice", "slice_value"])
        out[week] = hashlib.sha1(rows.to_json(orient="records", double_precision=6)
                                 .encode()).hexdigest()[:12]
    return out


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
                env: str | None = None, track: bool = True,
                weeks: list[str] | None = None,
                progress: Callable[[int, int, str, float | None, str | None], None] | None = None
                ) -> RunSummary:
    """Render every campaign that ended since the last run (or ``since``), skipping those
    already rendered (unless ``force``), then write the index and log the run to MLflow.

    ``progress(done, total, label, seconds, error)`` is called as each render finishes.

    Campaigns that cannot be judged (no control group, no data) are reported in
    ``summary.failed`` and retried on the next run; the others are still rendered."""
    project_path = Path(project_path).resolve()
    reports_dir = project_path / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale_renders()
    with _state_lock(reports_dir):
        return _run_reports(project_path, reports_dir, since, as_of, campaign_ids, force, env,
                            track, weeks, progress)


def _run_reports(project_path: Path, reports_dir: Path, since, as_of, campaign_ids, force,
                 env, track, weeks=None, progress=None) -> RunSummary:
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
    if weeks and not campaign_ids:  # only the asked weeks: no campaign is due
        ended, running = [], []
    # campaigns that failed before are retried even when they ended before `since`
    retry = [c for c in state.get("failed", {}) if c in set(campaigns["campaign_id"])
             and c not in running and c not in ended and not campaign_ids and not weeks]
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
    stale = [] if campaign_ids or weeks else [
        c for c, done in state["reports"].items()
        if done.get("params_hash") != phash and c in known and c not in due]
    jobs: list[tuple[str, str, object]] = []  # (kind, key, campaign results or week)
    for cid in [*ended, *retry, *stale]:
        done = state["reports"].get(cid)
        # a report rendered under other parameters (another confidence level ...) is stale
        if done and not force and (reports_dir / done["html"]).exists() \
                and done.get("params_hash") == phash:
            summary.skipped.append(cid)
            continue
        try:
            jobs.append(("campaign", cid, analyse_campaign(cid, tables, params)))
        except CampaignDataError as exc:  # fails fast with a clear reason, before rendering
            summary.failed[cid] = str(exc)
            failed_before[cid] = str(exc)
    weekly_state = state.setdefault("weekly", {})
    week_hashes: dict[str, str] = {}
    if not campaign_ids or weeks:
        kpis = None
        try:
            kpis = load_kpis(project_path, env)
        except WeeklyDataError as exc:
            summary.weekly_note = str(exc)
        if kpis is not None:
            due_weeks = _due_weeks(kpis, weeks, since if since else None,
                                   int(params["weekly_reports"]))
            for week, data_hash in due_weeks.items():
                done = weekly_state.get(week)
                if done and not force and (reports_dir / done["html"]).exists() \
                        and done.get("data_hash") == data_hash:
                    summary.skipped.append(f"week {week}")
                    continue
                week_hashes[week] = data_hash
                jobs.append(("week", week, kpis))

    def render(job):
        kind, key, _ = job
        t0 = time.perf_counter()
        if kind == "campaign":
            page = render_report(project_path, key, params, reports_dir, kernel=kernels.get())
        else:
            page = render_weekly(project_path, key, out_dir=reports_dir, kernel=kernels.get())
        return page, time.perf_counter() - t0

    workers = max(1, min(int(params["render_workers"]), len(jobs)))
    outcomes: list = [None] * len(jobs)
    # a warm kernel per worker: only each worker's first render pays the start and imports
    with KernelPool(project_path) as kernels, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_outcome(render), job): i for i, job in enumerate(jobs)}
        for n, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            outcomes[i] = future.result()
            if progress is not None:
                progress(n, len(jobs), _label(*jobs[i][:2]), *outcomes[i][1:])
    for (kind, key, payload), (page, seconds, error) in zip(jobs, outcomes, strict=True):
        if error is not None:
            summary.failed[_label(kind, key)] = error
            if kind == "campaign":
                failed_before[key] = error
            continue
        pages.append(page)
        if kind == "week":
            summary.weeks.append(key)
            summary.seconds[_label(kind, key)] = seconds
            row = _week_row(payload, key)
            weekly_state[key] = {
                "week": key, "html": page.name, "data_hash": week_hashes[key],
                "period_start": str(row["period_start"]),
                "rendered_at": dt.datetime.now().isoformat(timespec="seconds"),
                "headline": {k: present.safe(row[k]) for k in WEEK_HEADLINE}}
            metrics[f"week_{key}.render_seconds"] = seconds
            continue
        results = payload
        summary.seconds[key] = seconds
        summary.rendered.append(key)
        failed_before.pop(key, None)
        headline = {k: present.safe(v) for k, v in results.headline.items()}
        c = results.campaign
        state["reports"][key] = {
            "campaign_id": key, "campaign_name": c["campaign_name"],
            "start_date": c["start_date"], "end_date": c["end_date"], "html": page.name,
            "rendered_at": dt.datetime.now().isoformat(timespec="seconds"),
            "as_of": summary.as_of, "params_hash": phash, "headline": headline,
        }
        metrics.update({f"{key}.{k}": v for k, v in headline.items()})
        metrics[f"{key}.render_seconds"] = seconds
    if last_order is not None:
        # only advance: an old --as-of must not move the window back
        prev = state.get("last_as_of")
        state["last_as_of"] = max(filter(None, [prev, summary.as_of]))
    state["failed"] = failed_before
    state["confidence"] = float(params["confidence"])
    _write_state(reports_dir, state)
    summary.index = write_index(reports_dir, state)
    if track and (summary.rendered or summary.weeks or summary.failed):
        metrics["reports_rendered"] = len(summary.rendered)
        metrics["weekly_reports_rendered"] = len(summary.weeks)
        metrics["reports_failed"] = len(summary.failed)
        summary.mlflow_run_id = _log_mlflow(project_path, summary, params, metrics,
                                            [*pages, summary.index])
    return summary
