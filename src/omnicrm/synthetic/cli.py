"""``omnicrm simulate``: run the designed campaign in the synthetic world.

    omnicrm campaign plan          # design it (data/07_model_output/campaign_design/)
    omnicrm simulate               # send it in the world: its results land in data/01_raw
    omnicrm reports                # its report, like any past campaign's

Only on the synthetic world (it needs the hidden truth in data/00_truth); on a brand's own
data the results come from the marketing tool and the order system instead.
"""

from __future__ import annotations

import click

DESIGN = ("campaigns", "offers", "members", "waves")
RAW_READ = ("pos_members", "tmall_members", "wechat_members", "web_members", "stores",
            "products", "orders", "events", "campaigns", "campaign_offers", "campaign_members",
            "campaign_sends", "order_items", "coupon_redemptions")


@click.command()
@click.option("--env", default=None, help="Kedro conf environment merged over conf/base.")
def simulate(env: str | None) -> None:
    """Run the designed campaign in the synthetic world and append its results to the raw
    tables (never on a brand's own data)."""
    import logging
    import warnings

    import pandas as pd

    from omnicrm.cli import project_root
    from omnicrm.config import load_parameters
    from omnicrm.contracts import ALL_CONTRACTS, as_of_today, validate
    from omnicrm.reporting.data import _exists, _in_dir, project_catalog

    from .simulate import APPENDED, SimulationError, simulate_campaign

    warnings.filterwarnings("ignore")  # Kedro's config-loader notes: print only what matters
    logging.getLogger("kedro").setLevel(logging.WARNING)
    root = project_root()
    catalog = project_catalog(root, env)
    with _in_dir(root):
        if not _exists(catalog, "truth_persons"):
            raise click.ClickException(
                "omnicrm simulate runs only on the synthetic world: data/00_truth has no "
                "truth_persons (generate one with `omnicrm generate` or `kedro run --pipeline "
                "synthetic`). On your own data the results come from your tools instead.")
        missing = [t for t in DESIGN if not _exists(catalog, f"campaign_design_{t}")]
        if missing:
            raise click.ClickException(
                f"no campaign design (missing campaign_design_{missing[0]}): run "
                "`omnicrm campaign plan` first")
        design = {t: catalog.load(f"campaign_design_{t}") for t in DESIGN}
        raw = {t: catalog.load(t) for t in RAW_READ}
        truth = {t: catalog.load(t) for t in ("truth_persons", "truth_records",
                                              "truth_campaign_outcomes")}
    params = load_parameters(env, root)
    end = pd.Timestamp(design["campaigns"]["end_date"].max()) + pd.Timedelta(
        days=int(params["reporting"]["attribution_days"]))
    if end > as_of_today():
        raise click.ClickException(
            f"campaign {design['campaigns']['campaign_id'].iloc[0]}: its window (to "
            f"{end.date()}) ends after today ({as_of_today().date()}); the world cannot run "
            "into the future: plan it with earlier dates")
    click.echo(f"simulating campaign {design['campaigns']['campaign_id'].iloc[0]} "
               f"({len(design['members']):,} members) in the synthetic world ...")
    try:
        sim = simulate_campaign(design, raw, truth, params["synthetic"],
                                int(params["reporting"]["attribution_days"]))
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from None
    current = {**raw, **truth}
    # every table checked before any is written: a failure leaves the world as it was
    combined = {}
    for name in APPENDED:
        both = pd.concat([current[name], sim.tables[name]], ignore_index=True)
        combined[name] = validate(both, ALL_CONTRACTS[name], source="after the simulation",
                                  max_future_days=None)
    with _in_dir(root):
        for name, table in combined.items():
            catalog.save(name, table)
    s = sim.summary
    lifts = ", ".join(f"{a} {v:+.1%}" for a, v in s["true_lift_by_arm"].items())
    click.echo(f"  {s['treated']:,} treated, {s['control']:,} held out; {s['sends']:,} messages "
               f"sent, {s['opened_share']:.0%} of the treated opened")
    control = "no control" if s["conversion_control"] is None else \
        f"{s['conversion_control']:.2%} control"
    click.echo(f"  conversion {s['conversion_treated']:.2%} treated vs {control} (true lift by "
               f"arm: {lifts})")
    click.echo(f"  appended {s['orders']:,} orders, {s['redemptions']:,} redemptions, "
               f"{s['events']:,} events; the data now run to {s['data_end_after']}")
    click.echo("  next: `kedro run` refreshes features and models on the new days; "
               "`omnicrm reports` renders the campaign's report")
