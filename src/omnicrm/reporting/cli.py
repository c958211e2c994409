"""``omnicrm reports``: render a report for every campaign that ended since the last run, and
the weekly business reports of the last complete weeks.

    omnicrm reports                      # campaigns ended since the last run (all, the first time)
    omnicrm reports --since 2026-06-01   # campaigns whose window closed on or after that day
    omnicrm reports --campaign C003 --force   # re-render one campaign
    omnicrm reports --week 2026-W40      # the weekly business report of one ISO week

Idempotent: a campaign already rendered is skipped (``reports/.rendered.json``). Exits 1, naming
each campaign and its reason, when a campaign has no control group or no data (the others are
still rendered). Also runnable as ``python -m omnicrm.reporting.cli``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")


def _date(ctx, param, value):
    if value is None:
        return None
    import pandas as pd

    try:
        return pd.Timestamp(value).date().isoformat()
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


@click.command(name="reports", help=__doc__)
@click.option("--since", callback=_date, default=None,
              help="Render campaigns whose attribution window closed on or after this date "
                   "(default: the last run's as-of date; everything on the first run).")
@click.option("--as-of", "as_of", callback=_date, default=None,
              help="Treat this day as today (default: the day of the last order in the data).")
@click.option("--campaign", "campaigns", multiple=True,
              help="Only these campaign ids (repeatable).")
@click.option("--week", "weeks", multiple=True,
              help="Render the weekly report of this ISO week, e.g. 2026-W43 (repeatable; "
                   "default: the last reporting.weekly_reports complete weeks).")
@click.option("--force", is_flag=True, help="Re-render reports already rendered.")
@click.option("--project", "project", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Kedro project root (default: the one around the cwd).")
@click.option("--env", default=None, help="Kedro configuration environment.")
@click.option("--no-mlflow", is_flag=True, help="Do not log the run to MLflow.")
def reports(since, as_of, campaigns, weeks, force, project, env, no_mlflow) -> None:
    """Render campaign reports into reports/ and log the run to MLflow."""
    import logging
    import warnings

    from omnicrm.interrupt import sigterm_as_exit
    from omnicrm.reporting.render import ReportError, run_reports
    from omnicrm.settings import find_project_root

    warnings.filterwarnings("ignore")
    logging.getLogger("kedro").setLevel(logging.WARNING)
    root = (project or find_project_root()).resolve()
    if not (root / "conf" / "base").is_dir():
        raise click.BadParameter(f"{root} is not an omnicrm project (no conf/base)",
                                 param_hint="--project")
    def progress(done: int, total: int, label: str, seconds: float | None,
                 error: str | None) -> None:
        state = f"failed: {error}" if error else f"{seconds:.0f} s"
        click.echo(f"  [{done}/{total}] {label} ({state})", err=True)

    try:
        with sigterm_as_exit():  # a kill unwinds through the render's clean-up
            summary = run_reports(root, since=since, as_of=as_of,
                                  campaign_ids=list(campaigns), force=force, env=env,
                                  track=not no_mlflow, weeks=list(weeks), progress=progress)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    window = f"since {summary.since}" if summary.since else "all ended campaigns"
    click.echo(f"as of {summary.as_of} ({window}): rendered {len(summary.rendered)}, "
               f"already rendered {len(summary.skipped)}, still running "
               f"{len(summary.not_ended)}, failed {len(summary.failed)}")
    for cid in summary.rendered:
        click.echo(f"  rendered {root / 'reports' / (cid + '.html')} "
                   f"({summary.seconds[cid]:.1f} s)")
    if summary.weeks:
        click.echo(f"weekly reports: rendered {', '.join(summary.weeks)}")
    elif summary.weekly_note:
        click.echo(f"weekly reports: none ({summary.weekly_note})")
    if summary.index is not None:
        click.echo(f"  index    {summary.index}")
    if summary.mlflow_run_id:
        click.echo(f"  mlflow run {summary.mlflow_run_id} (experiment omnicrm)")
    if summary.failed:
        lines = "\n".join(f"  - {msg}" for msg in summary.failed.values())
        raise click.ClickException(f"{len(summary.failed)} campaign(s) or week(s) could not be "
                                   f"reported:\n{lines}")


if __name__ == "__main__":
    reports(prog_name="omnicrm reports")
