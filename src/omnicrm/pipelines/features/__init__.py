"""Features: the per-person feature store at a cut-off date (RFM, spend, shares, channel mix,
online behaviour windows, coupons, registration), on DuckDB by default or PySpark."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
