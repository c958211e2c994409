"""The kpi pipeline: the weekly business KPIs (``kedro run --pipeline kpi``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
