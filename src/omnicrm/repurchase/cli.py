"""``omnicrm repurchase``: our repurchase model and its baselines on any retailer's transaction
log (customer_id, date, amount; an event log is optional)."""

from __future__ import annotations

import json

import click


@click.group(name="repurchase")
def repurchase() -> None:
    """Repurchase models on any retailer's transaction log."""


@repurchase.command()
@click.option("--transactions", "transactions_path", required=True,
              type=click.Path(dir_okay=False),
              help="CSV or Parquet with columns customer_id, date, amount (one row a purchase).")
@click.option("--cutoff", required=True, help="YYYY-MM-DD: features see only data before it; "
              "outcomes are purchases in [cutoff, cutoff + horizon).")
@click.option("--horizon-days", type=click.IntRange(min=1), default=7, show_default=True)
@click.option("--events", "events_path", type=click.Path(dir_okay=False), default=None,
              help="Optional CSV/Parquet: customer_id, date, event_type "
                   "(view/collect/cart/purchase).")
@click.option("--training-cutoffs", type=click.IntRange(min=3), default=16, show_default=True,
              help="Weekly training cut-offs before the cut-off.")
@click.option("--step-days", type=click.IntRange(min=1), default=7, show_default=True)
@click.option("--trials", type=click.IntRange(min=1), default=20, show_default=True,
              help="Optuna trials.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(transactions_path: str, cutoff: str, horizon_days: int, events_path: str | None,
             training_cutoffs: int, step_days: int, trials: int, seed: int,
             as_json: bool) -> None:
    """Train on cut-offs before CUTOFF and print holdout AUC, PR-AUC, lift@10% and Brier of
    our model (XGBoost + Optuna) next to the recency/frequency heuristic, logistic
    regression and BG/NBD."""
    import pandas as pd

    from .transactions import TransactionLogError, evaluate_log, read_events, read_transactions

    try:
        try:
            cut = pd.Timestamp(cutoff)
        except (ValueError, TypeError) as exc:
            raise TransactionLogError(f"--cutoff {cutoff!r} is not a date (YYYY-MM-DD)") from exc
        tx = read_transactions(transactions_path)
        events = read_events(events_path) if events_path else None
        result = evaluate_log(tx, cut, horizon_days, events, n_cutoffs=training_cutoffs,
                              step_days=step_days, n_trials=trials, seed=seed)
    except TransactionLogError as exc:
        raise click.ClickException(str(exc)) from exc
    table = result.comparison.drop(columns="target")
    if as_json:
        click.echo(json.dumps({"target": f"buy_{horizon_days}d", "cutoff": str(cut.date()),
                               "models": table.to_dict(orient="records")}, indent=2))
        return
    click.echo(f"Holdout: purchases in [{cut.date()}, +{horizon_days} days), "
               f"{int(table['n'].iloc[0])} customers, base rate {table['base_rate'].iloc[0]:.2%}"
               f"{'' if events_path else ' (no event log: behaviour features are zeros)'}")
    shown = table[["model", "auc", "pr_auc", "lift_top10", "brier"]]
    click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
