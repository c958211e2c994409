"""Profile of the raw tables (after their contracts passed on load)."""

from __future__ import annotations

import pandas as pd

from omnicrm.contracts import RAW_CONTRACTS
from omnicrm.tracking import mlflow_metrics


def profile_raw_tables(*tables: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One row per table and column: type, null share, distinct values, min/max for numbers
    and dates. PII columns get counts only, never values. Returns the profile and MLflow
    metrics (rows per table)."""
    rows, metrics = [], {}
    for contract, df in zip(RAW_CONTRACTS.values(), tables, strict=False):
        metrics.update(mlflow_metrics({f"{contract.name}.rows": len(df)}))
        for col in contract.columns:
            s = df[col.name]
            show_range = not col.pii and col.dtype in ("int", "float", "date", "timestamp")
            rows.append({
                "table": contract.name,
                "column": col.name,
                "dtype": col.dtype,
                "pii": col.pii,
                "rows": len(s),
                "null_share": float(s.isna().mean()),
                "distinct": int(s.nunique()),
                "min": str(s.min()) if show_range and s.notna().any() else None,
                "max": str(s.max()) if show_range and s.notna().any() else None,
            })
    return pd.DataFrame(rows), metrics
