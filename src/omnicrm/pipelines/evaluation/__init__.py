"""``kedro run --pipeline evaluation``: every node tagged ``evaluation`` of every other pipeline
(the only nodes that may read the synthetic world's truth)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
