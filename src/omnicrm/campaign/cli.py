"""``omnicrm campaign plan``: design the next campaign from the brief in conf or a YAML file.

    omnicrm campaign plan                          # the brief in parameters_campaign.yml
    omnicrm campaign plan --brief winter.yml       # keys in the file replace conf's brief
    omnicrm campaign export --wave 2               # a later wave, once earlier opens are in
"""

from __future__ import annotations

import json
from pathlib import Path

import click


def _read_brief(path: Path) -> dict:
    import yaml

    try:
        brief = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise click.ClickException(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(brief, dict):
        raise click.ClickException(f"{path}: expected a mapping of brief keys")
    brief = brief.get("brief", brief)
    # dates as ISO strings: Kedro's runtime parameters hold plain values only
    return json.loads(json.dumps(brief, default=str))


@click.group()
def campaign() -> None:
    """Design campaigns as randomised experiments."""


@campaign.command()
@click.option("--brief", "brief_path", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path), default=None,
              help="YAML brief (campaign_id, arms, budget, waves ...) over conf's brief.")
@click.option("--env", default=None, help="Kedro conf environment merged over conf/base.")
def plan(brief_path: Path | None, env: str | None) -> None:
    """Design the next campaign: the holdout, the checks, the tables and the exports."""
    import logging

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from pydantic import ValidationError

    from omnicrm.campaign.design import CampaignDesignError
    from omnicrm.campaign.settings import CampaignSettings
    from omnicrm.cli import project_root
    from omnicrm.config import SettingsError

    root = project_root()
    bootstrap_project(root)
    runtime = {"campaign": {"brief": _read_brief(brief_path)}} if brief_path else {}
    with KedroSession.create(project_path=root, env=env, runtime_params=runtime) as session:
        # the command prints the design; Kedro's node-by-node log would bury it
        for name in ("kedro", "kedro_mlflow"):
            logging.getLogger(name).setLevel(logging.ERROR)
        context = session.load_context()
        try:  # a malformed brief is refused before anything runs
            CampaignSettings.model_validate(context.params["campaign"])
        except ValidationError as exc:
            lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise click.ClickException("the brief is not valid:\n" + "\n".join(lines)
                                       ) from None
        try:
            session.run(pipeline_names=["campaign"])
        except (CampaignDesignError, SettingsError) as exc:
            raise click.ClickException(str(exc)) from None
        catalog = context.catalog
        summary = catalog.load("campaign_design_summary").iloc[0]
        checks = catalog.load("campaign_design_checks")
    cid = summary["campaign_id"]
    click.echo(f"campaign {cid}: {int(summary['audience']):,} members, "
               f"{int(summary['control']):,} held out ({summary['control_share']:.1%}); "
               f"detects a {summary['mde_relative_detectable']:.0%} relative lift on "
               f"{summary['baseline_conversion']:.2%} conversion; expected cost "
               f"¥{summary['expected_cost']:,.0f} of ¥{summary['budget']:,.0f}")
    for _, c in checks.iterrows():
        click.echo(f"  [{'ok' if c['passed'] else 'FAILED'}] {c['check']}: {c['detail']}")
    exports = sorted((root / "data" / "09_exports" / str(cid)).glob("*.csv"))
    for path in exports:
        click.echo(f"  export {path.relative_to(root)}")
    click.echo(f"  design tables: data/07_model_output/campaign_design/ (copy them into "
               f"data/01_raw with the results once {cid} has run)")


@campaign.command()
@click.option("--wave", type=click.IntRange(min=2), required=True,
              help="The wave to export (its audience known once the waves before it ran).")
@click.option("--env", default=None, help="Kedro conf environment merged over conf/base.")
def export(wave: int, env: str | None) -> None:
    """Export a later wave of the designed campaign (e.g. SMS to wave-1 non-openers) once
    the earlier waves' sends, with their opens, are in campaign_sends."""
    import logging
    import warnings

    from omnicrm.campaign.design import (
        CampaignDesignError,
        later_wave_export,
        member_key_table,
    )
    from omnicrm.campaign.settings import campaign_settings
    from omnicrm.cli import project_root
    from omnicrm.config import load_parameters
    from omnicrm.reporting.data import _exists, _in_dir, project_catalog

    warnings.filterwarnings("ignore")
    logging.getLogger("kedro").setLevel(logging.WARNING)
    root = project_root()
    catalog = project_catalog(root, env)
    settings = campaign_settings(load_parameters(env, root)["campaign"])
    with _in_dir(root):
        design = {}
        for t in ("members", "offers", "waves"):
            if not _exists(catalog, f"campaign_design_{t}"):
                raise click.ClickException("no campaign design: run `omnicrm campaign plan` "
                                           "first")
            design[t] = catalog.load(f"campaign_design_{t}")
        channels = ("pos", "tmall", "wechat", "web")
        keys = member_key_table({c: catalog.load(f"{c}_members") for c in channels},
                                settings.member_keys)
        try:
            rows = later_wave_export(wave, design["members"], design["offers"], design["waves"],
                                     catalog.load("campaign_sends"),
                                     catalog.load("person_index"), keys)
        except CampaignDesignError as exc:
            raise click.ClickException(str(exc)) from None
        if rows.empty:
            raise click.ClickException(f"wave {wave}: nobody to send to (every treated member "
                                       "opened an earlier wave or has no key in its channel)")
        cid, channel = rows["campaign_id"].iloc[0], rows["channel"].iloc[0]
        catalog.save("campaign_exports",
                     {f"{cid}/{channel}_wave{wave}": rows.drop(columns=["campaign_id"])})
    click.echo(f"campaign {cid} wave {wave}: {len(rows):,} treated members who did not open "
               f"an earlier wave -> data/09_exports/{cid}/{channel}_wave{wave}.csv")
