"""`kedro run --pipeline campaign` on the 3,000-person project after the main command: the
design lands in the raw campaign schema (the contracts accept it), exports hold the treated
members' channel keys only, and nothing personal reaches MLflow."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from omnicrm.contracts import RAW_CONTRACTS, validate
from tests.conftest import kedro_run

# the 3k world's coupon audience is too small for the conf brief's 30% lift: ask for what it
# can detect, with one arm
BRIEF = {"campaign.brief.mde_relative": 1.2,
         "campaign.brief.arms": [{"arm": "A", "coupon_threshold": 200, "discount": 20}]}


@pytest.fixture(scope="module")
def designed(ran: Path) -> Path:
    kedro_run(ran, "campaign", params=BRIEF)
    return ran


def test_the_design_is_in_the_raw_campaign_schema(designed: Path):
    out = designed / "data" / "07_model_output" / "campaign_design"
    for table, name in (("campaigns", "campaigns"), ("campaign_offers", "offers"),
                        ("campaign_members", "members")):
        frame = pd.read_parquet(out / f"{name}.parquet")
        validate(frame, RAW_CONTRACTS[table])  # raises on a wrong column or value
    members = pd.read_parquet(out / "members.parquet")
    summary = pd.read_csv(designed / "data/08_reporting/campaign_design_summary.csv").iloc[0]
    assert len(members) == summary["audience"] > 1000
    share = (members["group"] == "control").mean()
    assert share == pytest.approx(summary["control_share"], abs=0.01)
    assert summary["mde_relative_detectable"] <= 1.2
    plan = pd.read_parquet(designed / "data/07_model_output/coupon_plan.parquet")
    index = pd.read_parquet(designed / "data/03_primary/person_index.parquet")
    persons = set(index.set_index("record_id").loc[members["record_id"], "person_id"])
    assert persons <= set(plan.loc[plan["coupon_threshold"] > 0, "person_id"])


def test_exports_carry_channel_keys_of_the_treated_only(designed: Path):
    out = designed / "data" / "07_model_output" / "campaign_design"
    members = pd.read_parquet(out / "members.parquet")
    export = pd.read_csv(designed / "data/09_exports/N001/wechat_wave1.csv", dtype=str)
    wechat = pd.read_parquet(designed / "data/01_raw/wechat_members.parquet")
    index = pd.read_parquet(designed / "data/03_primary/person_index.parquet")
    key_person = wechat[["record_id", "openid"]].merge(index, on="record_id").set_index(
        "openid")["person_id"]
    group = index.merge(members, on="record_id").drop_duplicates("person_id").set_index(
        "person_id")["group"]
    assert len(export) > 500 and export["member_key"].isin(key_person.index).all()
    assert (group[key_person[export["member_key"]]] == "treatment").all()
    assert not (designed / "data/09_exports/N001/pos_wave2.csv").exists()  # non-openers later
    checks = pd.read_csv(designed / "data/08_reporting/campaign_design_checks.csv")
    assert checks["passed"].all(), checks


def test_the_design_run_is_tracked_without_the_exports(designed: Path):
    mlflow.set_tracking_uri(f"sqlite:///{designed / 'mlruns' / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["omnicrm"])
    run = runs[runs["metrics.campaign_design_metrics.control_share"].notna()].iloc[0]
    arts = mlflow.MlflowClient().list_artifacts(run["run_id"])
    names = {a.path for a in arts}
    assert "campaign_design_checks.csv" in names
    assert not any("wave" in n or "export" in n for n in names)


@pytest.mark.parametrize("brief, message", [
    ("campaign_id: N009\narms:\n  - {arm: A, coupon_threshold: 200}\nbudget: -1\n",
     ["brief.arms.0.discount: Field required", "brief.budget: Input should be greater than 0"]),
    ("campaign_id: N009\nmde_relative: 0.05\n", ["cannot detect a 5% relative lift"]),
    ("campaign_id: C001\n", ["campaign C001 already exists"]),
])
def test_plan_refuses_a_bad_brief_with_one_message_and_writes_nothing(designed: Path, tmp_path,
                                                                       monkeypatch, brief,
                                                                       message):
    from click.testing import CliRunner

    from omnicrm.cli import cli

    path = tmp_path / "brief.yml"
    path.write_text(brief, encoding="utf-8")
    monkeypatch.chdir(designed)
    result = CliRunner().invoke(cli, ["campaign", "plan", "--brief", str(path)])
    assert result.exit_code == 1, result.output
    assert all(m in result.output for m in message), result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert not (designed / "data/09_exports/N009").exists()
    assert not (designed / "data/09_exports/C001").exists()
