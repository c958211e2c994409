"""The retention pipeline: churn, customer value and the win-back audience
(``kedro run --pipeline retention``; part of ``kedro run``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
