"""`kedro run --pipeline campaign` on the 3,000-person project after the main command: the
design lands in the raw campaign schema (the contracts accept it), exports hold the treated
members' channel keys only, and nothing personal reaches MLflow."""

from __future__ import annotations

import os
import shutil
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


# --- the loop: the design run in the synthetic world, then reported like any campaign ----

@pytest.fixture(scope="module")
def simulated(designed: Path, tmp_path_factory) -> Path:
    """A copy of the designed project after `omnicrm simulate` (the shared one stays as is)."""
    from click.testing import CliRunner

    from omnicrm.cli import cli

    dest = tmp_path_factory.mktemp("simulated") / "project"
    shutil.copytree(designed, dest, symlinks=True)
    cwd = Path.cwd()
    os.chdir(dest)
    try:
        result = CliRunner().invoke(cli, ["simulate"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert "true lift by arm: A +" in result.output
    return dest


def _raw(project: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(project / "data" / "01_raw" / f"{name}.parquet")


def test_the_simulated_campaign_is_appended_and_nothing_else_changes(designed: Path,
                                                                      simulated: Path):
    members = pd.read_parquet(designed / "data/07_model_output/campaign_design/members.parquet")
    for name in ("orders", "order_items", "events", "campaign_sends", "campaign_members",
                 "coupon_redemptions"):
        before, after = _raw(designed, name), _raw(simulated, name)
        assert len(after) > len(before), name
        pd.testing.assert_frame_equal(after.head(len(before)), before, check_dtype=False)
    orders = _raw(simulated, "orders")
    new = orders.iloc[len(_raw(designed, "orders")):]
    assert new["ordered_at"].min() > pd.Timestamp("2026-11-01")
    assert new["ordered_at"].max() < pd.Timestamp("2026-11-30")
    assert orders["order_id"].is_unique and _raw(simulated, "events")["event_id"].is_unique
    sends = _raw(simulated, "campaign_sends").query("campaign_id == 'N001'")
    group = members.set_index("record_id")["group"]
    assert (group[sends["record_id"]] == "treatment").all()  # the control is never contacted
    # wave 2 (SMS) goes only to records whose wave-1 message was not opened
    w1 = sends[sends["wave"] == 1].set_index("record_id")["opened_at"]
    w2 = sends[sends["wave"] == 2]
    assert len(w2) and w1.reindex(w2["record_id"]).isna().all()
    red = _raw(simulated, "coupon_redemptions").query("campaign_id == 'N001'")
    assert len(red) and (new.set_index("order_id").loc[red["order_id"], "coupon_discount"]
                         == 20).all()


def test_the_report_of_the_simulated_campaign_covers_the_true_effect(simulated: Path):
    from omnicrm.reporting.campaign import analyse_campaign
    from omnicrm.reporting.data import load_tables

    results = analyse_campaign("N001", load_tables(simulated))
    truth = pd.read_parquet(simulated / "data/00_truth/truth_campaign_outcomes.parquet")
    truth = truth[(truth["campaign_id"] == "N001") & (truth["group"] == "treatment")]
    effect = float((truth["p_buy_treated"] - truth["p_buy_control"]).mean())
    conv = results.lifts.loc["conversion"]
    assert effect > 0.005
    assert conv["abs_low"] <= effect <= conv["abs_high"], (conv, effect)
    # the segments it is cut by are from before the campaign (customer_segments' cut-off)
    assert any("before the campaign started" in n for n in results.notes), results.notes
    from omnicrm.summary import summary_lines

    members = pd.read_parquet(simulated / "data/07_model_output/campaign_design/members.parquet")
    line = next(ln for ln in summary_lines(simulated) if "campaign " in ln)
    assert f"N001: {len(members):,} members" in line and "not run yet" in line


def test_the_world_draws_match_its_own_expectations(designed: Path):
    """The drawn outcomes average to the truth's P(buy) in both groups (the simulator opens,
    redeems and buys as the response model says), over three independent runs."""
    from omnicrm.config import load_parameters
    from omnicrm.synthetic.simulate import simulate_campaign

    design_dir = designed / "data/07_model_output/campaign_design"
    design = {t: pd.read_parquet(design_dir / f"{t}.parquet")
              for t in ("campaigns", "offers", "members", "waves")}
    raw = {n: _raw(designed, n) for n in (
        "pos_members", "tmall_members", "wechat_members", "web_members", "stores", "products",
        "orders", "events", "campaigns", "coupon_redemptions")}
    truth = {n: pd.read_parquet(designed / f"data/00_truth/{n}.parquet")
             for n in ("truth_persons", "truth_records")}
    params = load_parameters(project_path=designed)["synthetic"]
    gaps = {"treatment": [], "control": []}
    for k in range(3):
        d = {**design, "campaigns": design["campaigns"].assign(campaign_id=f"R{k}"),
             "members": design["members"].assign(campaign_id=f"R{k}")}
        out = simulate_campaign(d, raw, truth, params).tables["truth_campaign_outcomes"]
        for g, rows in out.groupby("group"):
            col = "p_buy_treated" if g == "treatment" else "p_buy_control"
            gaps[g].append((rows["bought"].mean() - rows[col].mean(),
                            (rows[col] * (1 - rows[col])).sum() ** 0.5 / len(rows)))
    for g, runs in gaps.items():
        gap = sum(x for x, _ in runs) / 3
        se = (sum(s**2 for _, s in runs) ** 0.5) / 3
        assert abs(gap) < 3.5 * se, (g, runs)


def test_simulate_refuses_a_campaign_already_run_and_writes_nothing(simulated: Path,
                                                                    monkeypatch):
    from click.testing import CliRunner

    from omnicrm.cli import cli

    before = (simulated / "data/01_raw/orders.parquet").stat().st_mtime_ns
    monkeypatch.chdir(simulated)
    result = CliRunner().invoke(cli, ["simulate"])
    assert result.exit_code == 1
    assert "N001 is already in the raw campaigns table" in result.output
    assert (simulated / "data/01_raw/orders.parquet").stat().st_mtime_ns == before


def test_wave_two_is_exported_to_the_treated_who_did_not_open_wave_one(designed: Path,
                                                                       simulated: Path,
                                                                       monkeypatch):
    from click.testing import CliRunner

    from omnicrm.cli import cli

    monkeypatch.chdir(designed)  # wave 1 has not run there: nobody's opens are known
    refused = CliRunner().invoke(cli, ["campaign", "export", "--wave", "2"])
    assert refused.exit_code == 1 and "have no sends in campaign_sends yet" in refused.output
    assert not (designed / "data/09_exports/N001/pos_wave2.csv").exists()

    monkeypatch.chdir(simulated)
    result = CliRunner().invoke(cli, ["campaign", "export", "--wave", "2"])
    assert result.exit_code == 0, result.output
    export = pd.read_csv(simulated / "data/09_exports/N001/pos_wave2.csv", dtype=str)
    index = pd.read_parquet(simulated / "data/03_primary/person_index.parquet")
    person = index.set_index("record_id")["person_id"]
    pos = _raw(simulated, "pos_members")
    by_key = pos.set_index("member_card_no")["record_id"].map(person)
    members = pd.read_parquet(simulated / "data/07_model_output/campaign_design/members.parquet")
    treated = set(members.loc[members["group"] == "treatment", "record_id"].map(person))
    sends = _raw(simulated, "campaign_sends").query("campaign_id == 'N001' and wave == 1")
    openers = set(sends.loc[sends["opened_at"].notna(), "record_id"].map(person))
    expected = (treated - openers) & set(person[pos["record_id"]])
    assert len(expected) > 100 and set(by_key[export["member_key"]]) == expected
    assert (export["send_channel"] == "sms").all() and (export["arm"] == "A").all()
