"""Peer for the clv benchmark: the lifetimes package's BG/NBD, Pareto/NBD and gamma-gamma on
the CDNOW sample it ships, run in its own virtualenv (lifetimes pins an old scientific stack
and pulls autograd, which the project does not need).

    python benchmarks/peers/lifetimes_clv.py OUT_DIR

Writes OUT_DIR/cdnow_summary.csv (customer_id, x, t_x, T in weeks, monetary_value: the mean
spend of the repeat purchases) for our side to fit, and OUT_DIR/lifetimes.json with the
parameters lifetimes estimates and its fit times. Create the venv once:

    python3.11 -m venv .venv-lifetimes && .venv-lifetimes/bin/pip install lifetimes
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(out_dir: str) -> None:
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    cdnow = load_cdnow_summary_data_with_monetary_value()
    out = Path(out_dir)
    cdnow.rename(columns={"frequency": "x", "recency": "t_x"}).rename_axis(
        "customer_id").to_csv(out / "cdnow_summary.csv")
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    result = {"version": lifetimes.__version__, "params": {}, "seconds": {}}
    for name, fitter, args in (
            ("bgnbd", BetaGeoFitter(), (x, t_x, T)),
            ("paretonbd", ParetoNBDFitter(), (x, t_x, T)),
            ("gammagamma", GammaGammaFitter(),
             (x[x > 0], cdnow.loc[x > 0, "monetary_value"]))):
        start = time.perf_counter()
        fitter.fit(*args)
        result["seconds"][name] = time.perf_counter() - start
        result["params"][name] = {k: float(v) for k, v in fitter.params_.items()}
    (out / "lifetimes.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
