"""`omnicrm repurchase evaluate` on a plain transaction log: the synthetic world's orders reduced
to customer_id, date, amount; and clear errors on malformed logs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


@pytest.mark.parametrize("horizon, base_rate, margin, share", [
    (30, (0.03, 0.12), 0.002, 0.75),
    (7, (0.01, 0.03), 0.003, 0.8),   # 165 buyers over the 4 weeks (about 40 in one)
])
def test_ours_beats_bgnbd_on_transactions_only(log_csv: Path, horizon, base_rate, margin,
                                               share):
    # the holdout is the 4 weekly cut-offs up to 2026-09-01 (one window alone holds too few
    # buyers to tell the models apart); measured: 30 days 0.780 vs BG/NBD 0.775 (ours above
    # it in 85% of customer resamples), 7 days 0.784 vs 0.777 (90%)
    result = _evaluate("--transactions", str(log_csv), "--cutoff", "2026-09-01",
                       "--horizon-days", str(horizon), "--trials", "10", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output[result.output.index("{"):])
    assert out["test_cutoffs"] == ["2026-08-11", "2026-08-18", "2026-08-25", "2026-09-01"]
    models = {m["model"]: m for m in out["models"]}
    assert set(models) == {"xgboost", "rf_heuristic", "logistic", "bgnbd"}
    assert models["xgboost"]["n"] > 8000
    assert base_rate[0] < models["xgboost"]["base_rate"] < base_rate[1]
    assert models["bgnbd"]["auc"] > 0.7          # BG/NBD is a real competitor here
    assert models["xgboost"]["auc"] > models["bgnbd"]["auc"] + margin
    assert models["xgboost"]["auc"] > models["rf_heuristic"]["auc"] + 0.01
    assert models["xgboost"]["brier"] < models["xgboost"]["base_rate"] * (
        1 - models["xgboost"]["base_rate"])
    for m in models.values():  # the interval is around the estimate, the spread is real
        assert m["auc_ci_low"] < m["auc"] < m["auc_ci_high"] < m["auc_ci_low"] + 0.1
        assert m["auc_cutoff_min"] <= m["auc_cutoff_max"]
    assert models["xgboost"]["beats_bgnbd"] > share and models["bgnbd"]["beats_bgnbd"] == 0


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
    (lambda df: df.assign(date=df["date"].where(df.index % 40 != 0, "2099-01-02")),
     "are dated after today"),
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


def test_timing_features_are_gaps_between_visit_days():
    from omnicrm.repurchase.transactions import purchase_timing_features

    day = pd.Timestamp("2026-03-01")
    purchases = pd.DataFrame({
        "person_id": ["a", "a", "a", "a", "b", "c"],
        # a: visits 40, 20 and 10 days before the cut-off (two receipts on the last day);
        # b: once, 3 days before; c: only after the cut-off
        "ordered_at": [day - pd.Timedelta(days=40), day - pd.Timedelta(days=20),
                       day - pd.Timedelta(days=10), day - pd.Timedelta(days=10, hours=-2),
                       day - pd.Timedelta(days=3), day + pd.Timedelta(days=1)]})
    out = purchase_timing_features(purchases, pd.Series(["a", "b", "c"]), day).set_axis(
        ["a", "b", "c"])
    assert out.loc["a", "mean_gap_days"] == 15 and out.loc["a", "median_gap_days"] == 15
    assert out.loc["a", "days_since_second_last"] == 20
    assert out.loc["a", "recency_over_gap"] == pytest.approx(10 / 15)
    assert np.isnan(out.loc["b", "mean_gap_days"]) and np.isnan(out.loc["c", "recency_over_gap"])
