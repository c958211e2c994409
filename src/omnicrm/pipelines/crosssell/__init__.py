"""Cross-sell: association rules and bundles on baskets, the next best category per person."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
