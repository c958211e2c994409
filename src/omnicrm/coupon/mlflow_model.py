"""The coupon models as MLflow "models from code": MLflow copies this file into each model and
runs it at load time, so no pickled PythonModel goes stale across versions. One file serves
both registered models; ``model_config["output"]`` says which answer it gives:

- ``uplift`` (``coupon_uplift``): person_features rows -> the chosen learner's uplift score
  (incremental P(buy) of an offer);
- ``policy`` (``coupon_policy``): person_features rows -> CouponPolicy.recommend (the best
  offer or none per row).
"""

from __future__ import annotations

import pickle

import mlflow
import pandas as pd


class CouponModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.output = (context.model_config or {}).get("output", "policy")
        with open(context.artifacts["coupon_policy"], "rb") as fh:
            self.policy = pickle.load(fh)  # noqa: S301  (our own training run's)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if self.output == "uplift":
            return pd.DataFrame({"person_id": model_input["person_id"].astype(str).to_numpy(),
                                 "uplift_score": self.policy.uplift_score(model_input)})
        return self.policy.recommend(model_input)


mlflow.models.set_model(CouponModel())
