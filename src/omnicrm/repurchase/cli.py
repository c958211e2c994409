"""``omnicrm repurchase``: our repurchase model and its baselines on any retailer's transaction
log (customer_id, date, amount; an event log is optional)."""

from __future__ import annotations

import json

import click
import numpy as np


@click.group(name="repurchase")
def repurchase() -> None:
    """Repurchase models on any retailer's transaction log."""


@repurchase.command()
@click.option("--transactions", "transactions_path", required=True,
              type=click.Path(dir_okay=False),
              help="CSV or Parquet with columns customer_id, date, amount (one row a purchase; a "
                   "negative amount is a return) and optionally quantity.")
@click.option("--cutoff", required=True, help="YYYY-MM-DD: features see only data before it; "
              "outcomes are purchases in [cutoff, cutoff + horizon).")
@click.option("--horizon-days", type=click.IntRange(min=1), default=None,
              help="Label window [default: repurchase.transaction_log.horizon_days, 7].")
@click.option("--events", "events_path", type=click.Path(dir_okay=False), default=None,
              help="Optional CSV/Parquet: customer_id, date, event_type "
                   "(view/collect/cart/purchase).")
@click.option("--training-cutoffs", type=click.IntRange(min=6), default=None,
              help="Weekly cut-offs before the holdout to learn from (the last 5 of them "
                   "validate Optuna's trials).")
@click.option("--test-cutoffs", type=click.IntRange(min=1), default=None,
              help="Holdout cut-offs: the last K weekly (--step-days) cut-offs up to --cutoff, "
                   "each scored on purchases in [c, c + horizon).")
@click.option("--step-days", type=click.IntRange(min=1), default=None)
@click.option("--trials", type=click.IntRange(min=1), default=None, help="Optuna trials.")
@click.option("--seed", type=int, default=None)
@click.option("--env", default=None,
              help="Kedro conf environment merged over conf/base: unset options come from "
                   "its repurchase.transaction_log settings.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(transactions_path: str, cutoff: str, horizon_days: int | None,
             events_path: str | None, training_cutoffs: int | None, test_cutoffs: int | None,
             step_days: int | None, trials: int | None, seed: int | None, env: str | None,
             as_json: bool) -> None:
    """Train on cut-offs before the holdout and print holdout AUC (with a person-bootstrap 95%
    CI, its range over the holdout cut-offs and how often each model beats BG/NBD on
    resampled customers), PR-AUC, lift@10% and Brier of our model (XGBoost + Optuna, stacked
    on BG/NBD) next to the recency/frequency heuristic, logistic regression and BG/NBD.

    \b
    Recommended (* in the recommended column, "recommended": true in --json): the one
    model the tool would deploy, the highest AUC on the validation cut-offs (before the
    holdout, never the holdout itself; ours is its best Optuna trial's).
    \b
    The log: exact duplicate rows count once; returns (negative amounts) are netted per
    customer-day, a day whose net is <= 0 is no purchase; dates after today, a log of one
    customer or of one-time buyers only are refused. When the history before the holdout is
    too short for purged training cut-offs at the horizon (e.g. 39 weeks to learn from and
    39 to predict), our model learns on a shorter label window and ranks for the asked one;
    the output says so."""
    import pandas as pd

    from omnicrm.config import SettingsError, load_settings

    from .settings import RepurchaseSettings
    from .transactions import TransactionLogError, evaluate_log, read_events, read_transactions

    given = {"horizon_days": horizon_days, "training_cutoffs": training_cutoffs,
             "test_cutoffs": test_cutoffs, "step_days": step_days, "n_trials": trials,
             "seed": seed}
    try:
        conf = load_settings(RepurchaseSettings, "repurchase", env).transaction_log
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = conf.model_copy(update={k: v for k, v in given.items() if v is not None})
    horizon_days = settings.horizon_days
    try:
        try:
            cut = pd.Timestamp(cutoff)
        except (ValueError, TypeError) as exc:
            raise TransactionLogError(f"--cutoff {cutoff!r} is not a date (YYYY-MM-DD)") from exc
        tx = read_transactions(transactions_path)
        events = read_events(events_path) if events_path else None
        result = evaluate_log(tx, cut, settings, events)
    except TransactionLogError as exc:
        raise click.ClickException(str(exc)) from exc
    table = result.comparison.drop(columns="target")
    holdout = sorted(pd.Timestamp(c) for c in result.predictions["cutoff_date"].unique())
    if as_json:
        click.echo(json.dumps({"target": f"buy_{horizon_days}d", "cutoff": str(cut.date()),
                               "test_cutoffs": [str(c.date()) for c in holdout],
                               "training_label_days": result.label_days,
                               "notes": result.notes,
                               "models": table.to_dict(orient="records")}, indent=2))
        return
    for note in result.notes:
        click.echo(f"Note: {note}.")
    buyers = int(result.predictions["label"].sum())
    click.echo(f"Holdout: purchases in [c, c + {horizon_days} days) at {len(holdout)} cut-off(s) "
               f"{holdout[0].date()}..{holdout[-1].date()}, {int(table['n'].iloc[0])} "
               f"customer-cut-offs, {buyers} buyers, base rate {table['base_rate'].iloc[0]:.2%}"
               f"{'' if events_path else ' (no event log: behaviour features are zeros)'}")
    columns = ["model", "auc", "auc_ci_low", "auc_ci_high", "auc_cutoff_min", "auc_cutoff_max",
               "beats_bgnbd", "pr_auc", "lift_top10", "brier", "valid_auc"]
    shown = table[[c for c in columns if c in table]].copy()
    shown["recommended"] = np.where(table["recommended"], "*", "")
    click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    click.echo("auc_ci_*: 95% interval from resampling customers; auc_cutoff_*: lowest and "
               "highest AUC over the holdout cut-offs; beats_bgnbd: share of resamples in "
               "which the model's AUC is above BG/NBD's; valid_auc: AUC on the validation "
               "cut-offs before the holdout; * the recommended model (best valid_auc).")
