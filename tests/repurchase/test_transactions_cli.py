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
    (7, (0.01, 0.03), 0.003, 0.7),   # 165 buyers over the 4 weeks (about 40 in one)
])
def test_ours_beats_bgnbd_on_transactions_only(log_csv: Path, horizon, base_rate, margin,
                                               share):
    # the holdout is the 4 weekly cut-offs up to 2026-09-01 (one window alone holds too few
    # buyers to tell the models apart); measured, BG/NBD ranking by expected purchases as the
    # reference does: 30 days 0.7795 vs BG/NBD 0.7746 (ours above it in 86.5% of customer
    # resamples), 7 days 0.7806 vs 0.7770 (73.5%)
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


# --------------------------------------------------------------- a cohort log, as papers use

@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory) -> Path:
    """1,500 customers acquired in the first 12 weeks of a 78-week log (2024-01-01 ..
    2025-06-29), transactions only, with a few returns and a doubled export row."""
    from omnicrm.synthetic.cohort_log import cohort_log

    log = cohort_log(1500, seed=3)
    returns = log.iloc[::100].assign(amount=lambda d: -d["amount"] / 2, quantity=1)
    log = pd.concat([log, returns, log.iloc[[5, 6]]], ignore_index=True)
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    log.to_csv(path, index=False)
    return path


def test_39_weeks_to_learn_and_39_to_predict_is_answered(cohort_csv: Path):
    # the customer-base papers' split: the history before the holdout is shorter than the
    # horizon, so no purged training cut-off exists at 273 days; the tool learns on a shorter
    # label window and still ranks for 273 days
    result = _evaluate("--transactions", str(cohort_csv), "--cutoff", "2024-09-30",
                       "--horizon-days", "273", "--test-cutoffs", "1", "--trials", "3",
                       "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output[result.output.index("{"):])
    assert out["test_cutoffs"] == ["2024-09-30"]
    assert 7 <= out["training_label_days"] < 273 and out["training_label_days"] % 7 == 0
    fallback = [n for n in out["notes"] if "too short" in n]
    assert len(fallback) == 1 and f"within {out['training_label_days']} days" in fallback[0]
    assert "BG/NBD" in fallback[0] and "273 days as asked" in fallback[0]
    models = {m["model"]: m for m in out["models"]}
    assert set(models) == {"xgboost", "rf_heuristic", "logistic", "bgnbd"}
    assert models["bgnbd"]["auc"] > 0.8 and models["xgboost"]["auc"] > 0.8
    assert models["xgboost"]["n"] == 1500     # every customer is acquired by week 12
    assert sum(m["recommended"] for m in out["models"]) == 1
    best = max(out["models"], key=lambda m: m["valid_auc"])
    assert best["recommended"]                # chosen on validation, not on the holdout
    # every 100th purchase half returned the same day (each stays a purchase), 2 doubled rows
    returns = int((pd.read_csv(cohort_csv)["amount"] < 0).sum())
    netted = [n for n in out["notes"] if "return row(s)" in n]
    assert len(netted) == 1 and netted[0].startswith(f"{returns} return row(s)")
    assert f"became {returns} purchase(s); 0 customer-day(s) with a net amount <= 0" in netted[0]
    assert any(n.startswith("2 exact duplicate row(s)") for n in out["notes"])


def test_text_output_marks_the_recommended_model(cohort_csv: Path):
    result = _evaluate("--transactions", str(cohort_csv), "--cutoff", "2025-03-31",
                       "--horizon-days", "91", "--test-cutoffs", "1", "--trials", "3")
    assert result.exit_code == 0, result.output
    returns = int((pd.read_csv(cohort_csv)["amount"] < 0).sum())
    assert f"Note: {returns} return row(s)" in result.output
    assert "too short" not in result.output   # 13 weeks fit in the history before it
    rows = [ln.split() for ln in result.output.splitlines()
            if ln.split() and ln.split()[0] in ("xgboost", "rf_heuristic", "logistic", "bgnbd")]
    assert len(rows) == 4 and sum(r[-1] == "*" for r in rows) == 1
    assert "the recommended model" in result.output


def test_returns_net_per_customer_day_and_duplicates_count_once():
    from omnicrm.repurchase.transactions import clean_transactions, validate_transactions

    day = "2025-01-0{}".format
    raw = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "b", "b", "c", "c"],
        # a: bought 100 and returned 30 on day 1 (one purchase of 70), returned 50 on day 2
        # with no purchase that day (no occasion), bought on day 3 twice (an exact double)
        "date": [day(1), day(1), day(2), day(3), day(1), day(4), day(4), day(2), day(5)],
        "amount": [100.0, -30.0, -50.0, 20.0, 10.0, 40.0, -40.0, 5.0, 6.0],
        "quantity": [2, -1, -1, 1, 1, 1, -1, 1, 1]})
    raw = pd.concat([raw, raw.iloc[[3]]], ignore_index=True)
    tx, notes = clean_transactions(validate_transactions(raw, today=pd.Timestamp("2025-02-01")))
    by = tx.groupby("customer_id")["amount"].apply(sorted).to_dict()
    assert by == {"a": [20.0, 70.0], "b": [10.0], "c": [5.0, 6.0]}
    assert tx.loc[tx["amount"] == 70.0, "quantity"].item() == 1
    assert notes[0].startswith("1 exact duplicate row(s)")
    assert notes[1].startswith("3 return row(s) (negative amount) netted")
    assert "5 row(s) on 3 customer-day(s) became 1 purchase(s); 2 customer-day(s)" in notes[1]


@pytest.mark.parametrize("rows, message", [
    ({"customer_id": ["a", "a", "a"], "date": ["2025-01-01", "2025-01-09", "2025-02-01"]},
     "the log has 1 customer"),
    ({"customer_id": ["a", "b", "c"], "date": ["2025-01-01", "2025-01-09", "2025-02-01"]},
     "each of the 3 customers bought on one day only"),
    ({"customer_id": ["a", "b", "a"], "date": ["2025-01-01", "2031-01-09", "2031-02-01"]},
     "2 row(s) are dated after today"),
])
def test_degenerate_logs_fail_in_one_line(tmp_path: Path, rows, message):
    path = tmp_path / "log.csv"
    pd.DataFrame({**rows, "amount": [10.0, 12.0, 14.0]}).to_csv(path, index=False)
    result = CliRunner().invoke(repurchase, ["evaluate", "--transactions", str(path),
                                             "--cutoff", "2025-01-20"])
    assert result.exit_code == 1 and result.exception is not None
    assert isinstance(result.exception, SystemExit)   # a ClickException, not a traceback
    assert message in result.output and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
