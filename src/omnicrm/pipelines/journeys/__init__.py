"""The journeys pipeline: today's triggered audiences (``kedro run --pipeline journeys``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
