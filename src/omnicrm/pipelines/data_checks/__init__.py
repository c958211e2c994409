"""Data checks: load every raw table through its contract and profile it, so bad exports
fail early with a clear message and every run records what data it saw."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
