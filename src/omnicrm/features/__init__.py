"""Per-person customer features at a cut-off date, written once as narwhals lazy expressions and
run on DuckDB (default, out of core), PySpark (a cluster) or pandas (tests)."""

from .engine import lazy_tables, spark_session
from .person_features import (
    feature_columns,
    feature_domain,
    person_features,
    resolve_cutoff,
    source_tables,
)

__all__ = ["feature_columns", "feature_domain", "lazy_tables", "person_features", "resolve_cutoff",
           "source_tables", "spark_session"]
