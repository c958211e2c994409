"""Production scoring: batch scores and the registered, gated MLflow scoring model."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
