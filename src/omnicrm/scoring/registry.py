"""Export the inference pipeline as one MLflow pyfunc model (models from code), register it,
and gate the ``champion`` alias on test metrics.

The gate: a new version becomes champion only if, for every metric in
``scoring.gate.metrics``, it is at least as good as the current champion's (``max`` metrics
may not drop by more than ``tolerance``, ``min`` metrics may not rise by more). The decision and
both sides' numbers are logged to the run (tags ``scoring.gate.*`` and ``scoring_gate.json``)
and to the model version's tags, so the registry shows why a version is or is not champion.
"""

from __future__ import annotations

import json
import logging
import pickle
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from omnicrm.scoring.inference import BOOLEAN_FEATURES
from omnicrm.scoring.run import run_inference
from omnicrm.tracking import pinned

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).with_name("mlflow_model.py")
CHAMPION = "champion"
#: What the served model needs installed (the project's own venv has all of it).
REQUIREMENTS = ("mlflow", "kedro", "pandas", "numpy", "scikit-learn", "xgboost", "shap",
                "scipy", "pyarrow")


def typed_input(features: pd.DataFrame, required: list[str]) -> pd.DataFrame:
    """The model's input columns with the signature's types: person_id text, flags boolean,
    every other feature double (so a client's integers are accepted too)."""
    out = features[required].reset_index(drop=True).copy()
    out["person_id"] = out["person_id"].astype(str)
    for col in required[1:]:
        out[col] = out[col].astype(bool) if col in BOOLEAN_FEATURES else \
            out[col].astype("float64")
    return out


def scoring_signature(input_example: pd.DataFrame, output_example: pd.DataFrame):
    """The signature inferred from the examples, with the 0/1 flags declared ``any``: as
    ``boolean``, MLflow's JSON parsing casts any text to True (``"false"``, ``"no"`` scored
    as a POS member, HTTP 200); as ``any`` the value reaches the model's own check, which
    takes booleans and 0/1 and refuses the rest naming the column."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inferred = infer_signature(input_example, output_example)
    inputs = Schema([ColSpec(AnyType(), c.name, required=c.required)
                     if c.name in BOOLEAN_FEATURES else c for c in inferred.inputs.inputs])
    return ModelSignature(inputs=inputs, outputs=inferred.outputs)


def _requirements() -> list[str]:
    return pinned(*REQUIREMENTS)


def gate_decision(candidate: dict[str, float], champion: dict[str, float] | None,
                  gate: dict) -> tuple[bool, str]:
    """(promote?, why) for a candidate's test metrics against the champion's."""
    if champion is None:
        return True, "no champion yet"
    tolerance = float(gate["tolerance"])
    reasons = []
    for metric, direction in gate["metrics"].items():
        new, old = candidate.get(metric), champion.get(metric)
        if new is None:
            return False, f"candidate has no test metric '{metric}'"
        if old is None:
            reasons.append(f"{metric}={new:.4f} (champion has none)")
            continue
        worse = new < old - tolerance if direction == "max" else new > old + tolerance
        if worse:
            return False, f"{metric} {new:.4f} is worse than the champion's {old:.4f}"
        reasons.append(f"{metric} {new:.4f} vs champion {old:.4f}")
    return True, "; ".join(reasons)


def _champion(client: mlflow.MlflowClient, name: str):
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def log_scoring_model(models: dict, params: dict, example: pd.DataFrame, required: list[str],
                      test_metrics: dict[str, float], scoring_params: dict) -> dict:
    """Log, register and gate; returns the registration record (name, version, run id,
    metrics, promoted, reason, model URI)."""
    from omnicrm.scoring.pipeline import create_inference_pipeline

    name = scoring_params["registered_model_name"]
    gate = scoring_params["gate"]
    input_example = typed_input(example, required)
    output_example = run_inference(create_inference_pipeline(), input_example, models, params)
    signature = scoring_signature(input_example, output_example)
    started = mlflow.active_run() is None
    run = mlflow.start_run(run_name="scoring") if started else mlflow.active_run()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            artifacts = {}
            for key, model in models.items():
                path = Path(tmp) / f"{key}.pkl"
                path.write_bytes(pickle.dumps(model))
                artifacts[key] = str(path)
            path = Path(tmp) / "parameters.json"
            path.write_text(json.dumps(params, indent=2, default=str), encoding="utf-8")
            artifacts["parameters"] = str(path)
            info = mlflow.pyfunc.log_model(
                name="scoring_model", python_model=str(MODEL_FILE), artifacts=artifacts,
                signature=signature, input_example=input_example,
                pip_requirements=_requirements(), registered_model_name=name,
                metadata={"inference_pipeline": "omnicrm.scoring.pipeline:"
                                                "create_inference_pipeline",
                          "input_columns": len(required)})
        # on the run, and on the logged model so the registry's version page shows them
        mlflow.log_metrics({f"scoring.test.{k}": v for k, v in test_metrics.items()})
        mlflow.log_metrics({f"test.{k}": v for k, v in test_metrics.items()},
                           model_id=info.model_id)
        client = mlflow.MlflowClient()
        model_version = str(info.registered_model_version)
        run_tags = client.get_run(run.info.run_id).data.tags
        for key, value in test_metrics.items():
            client.set_model_version_tag(name, model_version, f"test.{key}", f"{value:.6f}")
        for key in ("kedro_pipeline", "mlflow.source.git.commit"):
            if key in run_tags:
                client.set_model_version_tag(name, model_version, key.split(".")[-1],
                                             run_tags[key])
        current = _champion(client, name)
        champion_metrics = None if current is None else {
            k.removeprefix("test."): float(v) for k, v in current.tags.items()
            if k.startswith("test.")}
        promoted, reason = gate_decision(test_metrics, champion_metrics, gate)
        if promoted:
            client.set_registered_model_alias(name, CHAMPION, model_version)
        decision = {"registered_model_name": name, "version": int(model_version),
                    "run_id": run.info.run_id, "model_uri": info.model_uri,
                    "promoted": promoted, "reason": reason,
                    "previous_champion": None if current is None else int(current.version),
                    "test_metrics": test_metrics, "champion_metrics": champion_metrics,
                    "input_columns": required}
        client.set_model_version_tag(name, model_version, "gate",
                                     "promoted" if promoted else "rejected")
        client.set_model_version_tag(name, model_version, "gate_reason", reason[:500])
        mlflow.set_tags({"scoring.gate.promoted": str(promoted),
                         "scoring.gate.reason": reason[:500],
                         "scoring.model_version": model_version})
        mlflow.log_dict(decision, "scoring_gate.json")
        log.info("scoring model %s version %s: %s (%s)", name, model_version,
                 "promoted to champion" if promoted else "not promoted", reason)
        return decision
    finally:
        if started:
            mlflow.end_run()
