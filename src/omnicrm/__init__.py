"""omnicrm: the CRM data-science workbench (OneID, segments, repurchase and coupon models,
campaign reports) as a Kedro project."""

import os

# XGBoost's OpenMP threads spin while they wait for work (libgomp's default ACTIVE policy).
# On a small machine shared with anything else (a second fit, DuckDB, a notebook kernel) the
# spinning threads steal the cores the working ones need: on 2 busy cores one 8.7k-row fit
# took 2.8-10.7 s with 2 threads against 0.4-0.6 s with PASSIVE waiting. It must be set
# before libgomp loads, so here, on the package's first import; a user's own value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
