"""Segments: value tiers, lifecycle stages, RFM states and behavioural tags per person, with
tier profiles and plots; the ``evaluation``-tagged node judges them against the truth."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
