"""The production scoring model: registered by the default run with lineage and a gate, equal
answers in process, in batch and over HTTP, and clear 4xx errors on bad requests."""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from omnicrm.scoring.inference import SCORE_COLUMNS, ScoringInputError, validate_input
from omnicrm.scoring.registry import gate_decision

MODEL = "omnicrm_scoring"
NUMERIC = ["repurchase_7d_probability", "churn_probability", "p_alive", "clv",
           "coupon_threshold", "discount", "uplift_score", "expected_incremental_margin",
           "expected_cost"]


def _client(project: Path):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    return mlflow.MlflowClient()


def _features(project: Path) -> pd.DataFrame:
    return pd.read_parquet(project / "data/04_feature/person_features.parquet")


def _batch_scores(project: Path) -> pd.DataFrame:
    return pd.read_parquet(project / "data/07_model_output/customer_scores.parquet")


def assert_same_scores(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    want = want.reset_index(drop=True)
    assert list(got.columns) == list(SCORE_COLUMNS)
    assert got["person_id"].tolist() == want["person_id"].tolist()
    for col in SCORE_COLUMNS:
        if col in NUMERIC:
            np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float),
                                       rtol=1e-6, atol=1e-9, err_msg=col)
        else:
            assert got[col].astype(str).tolist() == want[col].astype(str).tolist(), col


# ---------------------------------------------------------------- the default run's model

def test_default_run_registers_the_scoring_model_as_champion_with_lineage(ran: Path):
    client = _client(ran)
    champion = client.get_model_version_by_alias(MODEL, "champion")
    record = json.loads((ran / "data/08_reporting/scoring_model.json").read_text())
    assert record["promoted"] is True and int(champion.version) == record["version"]
    run = client.get_run(champion.run_id)
    assert run.data.tags["kedro_pipeline"] == "__default__"  # lineage to the Kedro run
    assert champion.tags["gate"] == "promoted"
    assert champion.tags["commit"] == run.data.tags["mlflow.source.git.commit"]
    for metric in ("repurchase.test_auc", "coupon.test_auuc"):
        value = float(champion.tags[f"test.{metric}"])
        assert value == pytest.approx(run.data.metrics[f"scoring.test.{metric}"], abs=1e-5)
    assert float(champion.tags["test.repurchase.test_auc"]) > 0.6  # a model, not a coin


def test_registered_model_equals_the_in_process_batch_scores(ran: Path):
    import mlflow

    _client(ran)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    features = _features(ran)
    assert_same_scores(model.predict(features), _batch_scores(ran))


def test_batch_scores_carry_the_segments_and_the_models_answers(ran: Path):
    scores = _batch_scores(ran)
    segments = pd.read_parquet(ran / "data/07_model_output/customer_segments.parquet")
    merged = scores.merge(segments, on="person_id", suffixes=("", "_seg"))
    assert len(merged) == len(scores) == len(segments)
    assert (merged["value_tier"] == merged["value_tier_seg"]).all()
    assert (merged["lifecycle_stage"] == merged["lifecycle_stage_seg"]).all()
    features = _features(ran)
    model = pickle.loads((ran / "data/06_models/repurchase_7d_model.pkl").read_bytes())
    np.testing.assert_allclose(scores["repurchase_7d_probability"],
                               model.predict_proba(features), rtol=1e-6)
    assert scores["repurchase_reasons"].str.len().gt(0).mean() > 0.99
    churn = pickle.loads((ran / "data/06_models/churn_model.pkl").read_bytes())
    active = (features["frequency"] > 0) & (features["recency_days"] < churn.active_within_days)
    assert scores.loc[~active.to_numpy(), "churn_probability"].isna().all()
    np.testing.assert_allclose(scores.loc[active.to_numpy(), "churn_probability"],
                               churn.predict_proba(features[active]), rtol=1e-6)
    value = pd.read_parquet(ran / "data/07_model_output/customer_value.parquet")
    np.testing.assert_allclose(scores["clv"], value["clv_12m"], rtol=1e-6)
    assert (scores["clv"].notna() == (features["frequency"] > 0)).all()
    offered = scores["coupon_threshold"] > 0
    assert (scores.loc[offered, "discount"] > 0).all()
    assert (scores.loc[~offered, "discount"] == 0).all()
    # the next best category is one the person has not bought, first of the top list, and the
    # cross-sell pipeline's table holds the same answer
    best = scores["next_best_category"].to_numpy()
    has = best != ""
    assert has.mean() > 0.9
    bought = [features[f"category_share_{c}"].iloc[i] > 0 for i, c in enumerate(best) if c]
    assert not any(bought)
    assert (scores["next_best_categories"].str.split(", ").str[0] == scores[
        "next_best_category"]).all()
    table = pd.read_parquet(ran / "data/07_model_output/next_best_categories.parquet")
    first = table[table["rank"] == 1].set_index("person_id")["category"]
    assert (first.reindex(scores.loc[has, "person_id"]).to_numpy() == best[has]).all()


# ---------------------------------------------------------------- the promotion gate

def test_gate_promotes_only_when_no_metric_gets_worse():
    gate = {"metrics": {"auc": "max", "brier": "min"}, "tolerance": 0.0}
    assert gate_decision({"auc": 0.7, "brier": 0.1}, None, gate)[0]
    assert gate_decision({"auc": 0.71, "brier": 0.1}, {"auc": 0.7, "brier": 0.1}, gate)[0]
    promoted, why = gate_decision({"auc": 0.69, "brier": 0.05}, {"auc": 0.7, "brier": 0.1}, gate)
    assert not promoted and "auc" in why
    promoted, why = gate_decision({"auc": 0.8, "brier": 0.2}, {"auc": 0.7, "brier": 0.1}, gate)
    assert not promoted and "brier" in why
    assert not gate_decision({"brier": 0.1}, {"auc": 0.7, "brier": 0.1}, gate)[0]
    loose = {**gate, "tolerance": 0.02}
    assert gate_decision({"auc": 0.69, "brier": 0.1}, {"auc": 0.7, "brier": 0.1}, loose)[0]


def test_a_worse_version_is_registered_but_not_promoted_and_a_better_one_is(ran: Path):
    import mlflow

    from omnicrm.scoring.inference import required_columns
    from omnicrm.scoring.registry import log_scoring_model

    client = _client(ran)
    before = client.get_model_version_by_alias(MODEL, "champion")
    metrics = {k.removeprefix("test."): float(v) for k, v in before.tags.items()
               if k.startswith("test.")}
    from omnicrm.scoring.pipeline import MODELS

    models = {name: pickle.loads((ran / f"data/06_models/{name}.pkl").read_bytes())
              for name in MODELS}
    conf = ran / "conf" / "base"
    params = {"segments": yaml.safe_load((conf / "parameters_segments.yml").read_text())
              ["segments"],
              "scoring": yaml.safe_load((conf / "parameters_scoring.yml").read_text())["scoring"]}
    required = required_columns(models["repurchase_7d_model"], models["coupon_policy"],
                                params["segments"], models["churn_model"],
                                models["next_best_category_model"])
    example = _features(ran).head(3)
    mlflow.set_experiment("omnicrm")
    worse = {**metrics, "repurchase.test_auc": metrics["repurchase.test_auc"] - 0.05}
    rejected = log_scoring_model(models, params, example, required, worse, params["scoring"])
    assert not rejected["promoted"] and "repurchase.test_auc" in rejected["reason"]
    assert int(client.get_model_version_by_alias(MODEL, "champion").version) == \
        int(before.version)
    version = client.get_model_version(MODEL, str(rejected["version"]))
    assert version.tags["gate"] == "rejected"
    better = {**metrics, "repurchase.test_auc": metrics["repurchase.test_auc"] + 0.01}
    promoted = log_scoring_model(models, params, example, required, better, params["scoring"])
    assert promoted["promoted"] and promoted["previous_champion"] == int(before.version)
    assert int(client.get_model_version_by_alias(MODEL, "champion").version) == \
        promoted["version"]
    # put the default run's champion back for the other tests
    client.set_registered_model_alias(MODEL, "champion", before.version)


# ---------------------------------------------------------------- input checks

def test_input_check_names_what_is_wrong():
    good = pd.DataFrame({"person_id": ["P1", "P2"], "x": [1, 2.5], "has_pos": [True, False]})
    out = validate_input(good.assign(extra="ignored"), ["person_id", "x", "has_pos"])
    assert list(out.columns) == ["person_id", "x", "has_pos"]
    assert out["x"].dtype == "float64" and out["has_pos"].dtype == bool
    assert validate_input(good.assign(has_pos=[1, 0]), ["person_id", "has_pos"])[
        "has_pos"].tolist() == [True, False]
    cases = [
        (good.head(0), "empty batch"),
        (good.drop(columns="x"), "missing input column(s): x"),
        (good.assign(x=["1", "abc"]), "not numeric"),
        (good.assign(has_pos=[2, 0]), "has_pos"),
        (good.assign(person_id=[None, "P2"]), "person_id is null"),
        (good.assign(person_id=["P1", "P1"]), "person_id repeated: P1"),
        (good.assign(x=[1.0, np.inf]), "x"),
        (good.assign(x=[-3.0, 2.0]), "x (e.g. -3; must be in [0, inf])"),
    ]
    for frame, message in cases:
        with pytest.raises(ScoringInputError, match=re.escape(message)):
            validate_input(frame, ["person_id", "x", "has_pos"])
    shares = pd.DataFrame({"person_id": ["P1"], "promo_order_share": [7.0],
                           "purchase_trend": [-0.5]})
    with pytest.raises(ScoringInputError, match=re.escape("promo_order_share (e.g. 7; must be "
                                                          "in [0, 1])")):
        validate_input(shares, ["person_id", "promo_order_share", "purchase_trend"])
    assert validate_input(shares.assign(promo_order_share=0.4),
                          ["person_id", "promo_order_share", "purchase_trend"]).shape == (1, 3)


# ---------------------------------------------------------------- batch command

def test_score_command_writes_the_same_scores_in_chunks_and_fails_cleanly(ran: Path,
                                                                          tmp_path: Path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{ran / 'mlruns' / 'mlflow.db'}"}
    out = tmp_path / "scores.parquet"
    omnicrm = Path(sys.executable).with_name("omnicrm")
    done = subprocess.run([omnicrm, "score", "--input",
                           ran / "data/04_feature/person_features.parquet", "--output", out,
                           "--chunk-rows", "700"], env=env, capture_output=True, text=True,
                          cwd=ran, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same_scores(pd.read_parquet(out), _batch_scores(ran))
    # the refusals, in process (the same command, without a second MLflow start-up each)
    from click.testing import CliRunner

    from omnicrm.scoring.cli import score

    def refused(*args) -> str:
        result = CliRunner(env={"MLFLOW_TRACKING_URI": env["MLFLOW_TRACKING_URI"]}).invoke(
            score, [str(a) for a in args])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
        assert not bad_out.exists() and not list(tmp_path.glob(".*partial"))
        return result.output

    broken = tmp_path / "broken.csv"
    _features(ran).drop(columns=["recency_days"]).head(50).to_csv(broken, index=False)
    bad_out = tmp_path / "bad.parquet"
    assert "recency_days" in refused("--input", broken, "--output", bad_out)
    # the same person in two chunks: refused before anything is scored (a chunk sees only its
    # own rows, so this used to write the person twice)
    features = _features(ran)
    twice = tmp_path / "twice.parquet"
    pd.concat([features, features.head(1)], ignore_index=True).to_parquet(twice, index=False)
    said = refused("--input", twice, "--output", bad_out, "--chunk-rows", "700")
    assert "person_id repeated" in said and features["person_id"].iloc[0] in said
    said = refused("--input", ran / "data/04_feature/person_features.parquet", "--output",
                   bad_out, "--model", "models:/omnicrm_scoring@no_such_alias")
    assert "no model at models:/omnicrm_scoring@no_such_alias" in said
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in refused("--input", empty, "--output", bad_out)


def test_a_killed_score_run_leaves_no_partial_file(ran: Path, tmp_path: Path):
    """SIGTERM mid-run removes the hidden partial output; one left by a SIGKILL is swept by
    the next run, which then writes the scores."""
    import signal

    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{ran / 'mlruns' / 'mlflow.db'}"}
    out = tmp_path / "scores.parquet"
    partial = tmp_path / ".scores.parquet.partial"
    omnicrm = Path(sys.executable).with_name("omnicrm")
    cmd = [str(omnicrm), "score", "--input", str(ran / "data/04_feature/person_features.parquet"),
           "--output", str(out), "--chunk-rows", "40"]
    proc = subprocess.Popen(cmd, env=env, cwd=ran, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not partial.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert partial.exists(), "the run never started writing"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert not partial.exists() and not out.exists()
    partial.write_bytes(b"left by a killed run")
    done = subprocess.run(cmd[:-2], env=env, cwd=ran, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not partial.exists() and len(pd.read_parquet(out)) == len(_features(ran))


# ---------------------------------------------------------------- served model

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(ran: Path):
    """`omnicrm serve` (mlflow models serve, local env manager) on a loopback port."""
    import requests

    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{ran / 'mlruns' / 'mlflow.db'}"}
    log = open(ran / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([Path(sys.executable).with_name("omnicrm"), "serve", "--port",
                             str(port)], cwd=ran, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise AssertionError((ran / "serve.log").read_text()[-3000:])
            try:
                if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("the served model did not come up in 120 s")
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()


def _post(url: str, frame: pd.DataFrame | None = None, body: str | None = None):
    import requests

    if body is None:
        body = json.dumps({"dataframe_split": json.loads(
            frame.to_json(orient="split", index=False, date_format="iso"))})
    return requests.post(f"{url}/invocations", data=body,
                         headers={"Content-Type": "application/json"}, timeout=120)


def test_served_champion_answers_like_the_in_process_pipeline(ran: Path, served: str):
    features = _features(ran).sample(200, random_state=1)
    reply = _post(served, features.assign(unknown_extra_column=1))
    assert reply.status_code == 200, reply.text[:2000]
    got = pd.DataFrame(reply.json()["predictions"])
    want = _batch_scores(ran).set_index("person_id").loc[features["person_id"]].reset_index()
    assert_same_scores(got[list(SCORE_COLUMNS)], want[list(SCORE_COLUMNS)])


def test_served_model_rejects_bad_requests_with_a_clear_4xx(ran: Path, served: str):
    features = _features(ran).head(5).drop(columns=["cutoff_date"])
    cases = {
        "missing column": (features.drop(columns=["recency_days"]), "recency_days"),
        "wrong type": (features.assign(recency_days="yesterday"), "recency_days"),
        "empty batch": (features.head(0), "empty batch"),
        "null person id": (features.assign(person_id=None), "person_id"),
        # a flag as text was cast to True by MLflow while the signature said boolean
        "flag as text": (features.assign(has_pos="false"), "has_pos"),
        "flag as no": (features.assign(has_pos="no"), "has_pos"),
        "negative recency": (features.assign(recency_days=-5.0), "recency_days"),
        "share above 1": (features.assign(promo_order_share=7.0), "promo_order_share"),
    }
    for case, (frame, needle) in cases.items():
        reply = _post(served, frame)
        assert 400 <= reply.status_code < 500, (case, reply.status_code)
        message = reply.json()["message"]
        assert needle in message, (case, message[-500:])
        assert "Traceback" not in reply.text, case
        assert "stack_trace" not in reply.json(), case   # no internals for the caller
    reply = _post(served, body="this is not json: secret-1234")
    assert reply.status_code == 400 and "Traceback" not in reply.text
    assert "secret-1234" not in reply.text and "not valid JSON" in reply.json()["message"]


def test_served_model_bounds_the_request(served: str):
    """A body over scoring.serve.max_body_mb (16) or a batch over max_rows (10,000) is refused
    with 413 before the model sees it, and the server keeps answering."""
    big = _post(served, body='{"dataframe_split": "' + "x" * (17 * 2**20) + '"}')
    assert big.status_code == 413 and "limit" in big.json()["message"]
    rows = {"dataframe_split": {"columns": ["person_id"], "data": [[f"P{i}"] for i in
                                                                   range(10_001)]}}
    many = _post(served, body=json.dumps(rows))
    assert many.status_code == 413 and "10,001 rows" in many.json()["message"]
    import requests

    assert requests.get(f"{served}/ping", timeout=10).status_code == 200


def test_rows_of_a_request_are_counted_in_every_mlflow_shape():
    from omnicrm.scoring.server import batch_rows, error_message

    dump = "Failed to predict data '   person_id  x\n0  P1  1.0\n[1 rows x 2 columns]'. " \
           "Error: missing input column(s): recency_days"
    assert error_message(dump) == "missing input column(s): recency_days"
    assert error_message("Failed to convert column x.\n Error: bad") == \
        "Failed to convert column x. Error: bad"

    assert batch_rows({"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}) == 2
    assert batch_rows({"dataframe_records": [{"a": 1}] * 3}) == 3
    assert batch_rows({"inputs": {"a": [1, 2, 3, 4]}}) == 4
    assert batch_rows({"instances": []}) == 0
    assert batch_rows(["not", "a", "request"]) is None
