"""The registered scoring model, as MLflow "models from code": MLflow copies this file into the
model and runs it at load time (no pickled Python object to go stale across versions).

It loads the fitted artifacts the training run packed (value-tier model, 7-day repurchase
model, churn model, customer value model, coupon policy, next best category model,
parameters) into an in-memory Kedro
catalog and runs the Kedro inference pipeline on each request. Requests that cannot be scored
raise an MlflowException with INVALID_PARAMETER_VALUE, which the scoring server answers with
HTTP 400 and a clear message.
"""

from __future__ import annotations

import json
import pickle

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE


class OmnicrmScoringModel(mlflow.pyfunc.PythonModel):
    """person features -> tier, lifecycle stage, P(buy in 7 days), P(churn), CLV, the
    coupon offer and the next best category."""

    def load_context(self, context) -> None:
        from omnicrm.scoring.pipeline import MODELS, create_inference_pipeline

        self.models = {}
        for name in MODELS:
            with open(context.artifacts[name], "rb") as fh:
                self.models[name] = pickle.load(fh)  # noqa: S301  (our own training run's)
        with open(context.artifacts["parameters"], encoding="utf-8") as fh:
            self.params = json.load(fh)
        self.pipeline = create_inference_pipeline()

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from omnicrm.scoring.inference import ScoringInputError
        from omnicrm.scoring.run import run_inference

        try:
            return run_inference(self.pipeline, model_input, self.models, self.params)
        except ScoringInputError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(OmnicrmScoringModel())
