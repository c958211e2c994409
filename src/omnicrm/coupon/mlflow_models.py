"""MLflow pyfunc wrappers, so the chosen models are logged and registered: ``coupon_uplift``
(the uplift score of the chosen learner) and ``coupon_policy`` (the best offer per person)."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd


class UpliftPyfunc(mlflow.pyfunc.PythonModel):
    """person_features rows -> uplift score (incremental P(buy) of an offer)."""

    def __init__(self, policy):
        self.policy = policy

    def predict(self, context, model_input, params=None):
        return pd.DataFrame({"person_id": model_input["person_id"].astype(str).to_numpy(),
                             "uplift_score": self.policy.uplift_score(model_input)})


class PolicyPyfunc(mlflow.pyfunc.PythonModel):
    """person_features rows -> CouponPolicy.recommend (best offer or none per row)."""

    def __init__(self, policy):
        self.policy = policy

    def predict(self, context, model_input, params=None):
        return self.policy.recommend(model_input)
