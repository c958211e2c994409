"""The campaign pipeline: design the next campaign (``kedro run --pipeline campaign``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
