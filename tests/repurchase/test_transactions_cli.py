"""`omnicrm repurchase evaluate` on a plain transaction log: the synthetic world's orders reduced
to customer_id, date, amount; and clear errors on malformed logs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from omnicrm.repurchase.cli import repurchase
from omnicrm.repurchase.transactions import synthetic_orders_log


@pytest.fixture(scope="module")
def log_csv(world, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tx") / "transactions.csv"
    synthetic_orders_log(world["orders"], world["truth_records"]).to_csv(path, index=False)
    return path


def _evaluate(*args: str):
    return CliRunner().invoke(repurchase, ["evaluate", *args], catch_exceptions=False)


def test_ours_beats_bgnbd_on_transactions_only(log_csv: Path):
    result = _evaluate("--transactions", str(log_csv), "--cutoff", "2026-09-01",
                       "--horizon-days", "30", "--trials", "10", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output[result.output.index("{"):])
    models = {m["model"]: m for m in out["models"]}
    assert set(models) == {"xgboost", "rf_heuristic", "logistic", "bgnbd"}
    assert models["xgboost"]["n"] > 2000 and 0.03 < models["xgboost"]["base_rate"] < 0.12
    assert models["bgnbd"]["auc"] > 0.7          # BG/NBD is a real competitor here
    assert models["xgboost"]["auc"] > models["bgnbd"]["auc"]
    assert models["xgboost"]["auc"] > models["rf_heuristic"]["auc"]
    assert models["xgboost"]["brier"] < models["xgboost"]["base_rate"] * (
        1 - models["xgboost"]["base_rate"])


def test_table_output_and_optional_events(world, log_csv: Path, tmp_path: Path):
    ev = world["events"].merge(world["truth_records"][["record_id", "person_id"]],
                               on="record_id")
    events = tmp_path / "events.csv"
    pd.DataFrame({"customer_id": ev["person_id"], "date": ev["event_at"],
                  "event_type": ev["event_type"]}).to_csv(events, index=False)
    result = _evaluate("--transactions", str(log_csv), "--cutoff", "2026-09-01",
                       "--horizon-days", "30", "--trials", "5", "--events", str(events))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = {ln.split()[0]: float(ln.split()[1]) for ln in lines
            if ln.split() and ln.split()[0] in ("xgboost", "bgnbd")}
    # with views, collects and carts as well, our model still beats BG/NBD
    assert "no event log" not in result.output
    assert rows["xgboost"] > rows["bgnbd"] > 0.7


@pytest.mark.parametrize("mutate, message", [
    (lambda df: df.drop(columns="amount"), "missing column(s) ['amount']"),
    (lambda df: df.assign(date=df["date"].where(df.index % 50 != 0, "31/31/2025")),
     "cannot be parsed"),
    (lambda df: df.assign(amount=df["amount"].where(df.index % 40 != 0, -12.5)),
     "negative amount"),
    (lambda df: df.assign(amount=df["amount"].astype(object).where(df.index != 3, "abc")),
     "not a number"),
    (lambda df: df.iloc[:0], "empty"),
])
def test_malformed_logs_fail_clearly(log_csv: Path, tmp_path: Path, mutate, message):
    bad = tmp_path / "bad.csv"
    mutate(pd.read_csv(log_csv)).to_csv(bad, index=False)
    result = _evaluate("--transactions", str(bad), "--cutoff", "2026-09-01")
    assert result.exit_code != 0
    assert message in result.output


def test_cutoff_without_outcomes_or_history_fails_clearly(log_csv: Path):
    late = _evaluate("--transactions", str(log_csv), "--cutoff", "2026-10-30",
                     "--horizon-days", "30")
    assert late.exit_code != 0 and "before the end of the horizon" in late.output
    early = _evaluate("--transactions", str(log_csv), "--cutoff", "2020-01-01")
    assert early.exit_code != 0 and "not after the log's first" in early.output
    garbage = _evaluate("--transactions", str(log_csv), "--cutoff", "soon")
    assert garbage.exit_code != 0 and "is not a date" in garbage.output
    missing = _evaluate("--transactions", "/nonexistent.csv", "--cutoff", "2026-09-01")
    assert missing.exit_code != 0 and "no such file" in missing.output


def test_registered_in_the_omnicrm_command():
    from omnicrm.cli import cli

    assert "repurchase" in cli.commands
    assert "evaluate" in cli.commands["repurchase"].commands
