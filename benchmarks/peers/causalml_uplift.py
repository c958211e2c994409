"""Peer for the coupon benchmark: causalml's uplift random forest, run in its own virtualenv
(causalml pulls lightgbm, shap, numba, statsmodels ... that the project does not need).

    python benchmarks/peers/causalml_uplift.py IN.npz OUT.npy

IN.npz holds X_fit, treated_fit, y_fit and X_held; OUT.npy gets the uplift scores of X_held.
Create the venv once (our pins, so the comparison is on the same libraries):

    python3.11 -m venv .venv-causalml
    .venv-causalml/bin/pip install causalml==0.18.0 pandas==3.1.1 numpy==2.4.6 \\
        scikit-learn==1.9.1 xgboost==3.2.0
"""

from __future__ import annotations

import sys

import numpy as np


def main(src: str, dst: str, n_estimators: int = 100) -> None:
    from causalml.inference.tree import UpliftRandomForestClassifier

    d = np.load(src)
    X = np.nan_to_num(d["X_fit"], nan=-1.0)
    arm = np.where(d["treated_fit"] > 0, "treatment", "control")
    model = UpliftRandomForestClassifier(control_name="control", n_estimators=n_estimators,
                                         max_depth=6, min_samples_leaf=100,
                                         min_samples_treatment=50, evaluationFunction="KL",
                                         n_jobs=2, random_state=0)
    model.fit(X, arm, d["y_fit"].astype(int))
    score = model.predict(np.nan_to_num(d["X_held"], nan=-1.0))
    np.save(dst, np.asarray(score, float).reshape(len(d["X_held"]), -1)[:, 0])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
