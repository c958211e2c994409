"""Segments: value tiers (clustering on buying power), lifecycle stages, RFM states and
behavioural tags per person, with tier profiles and plots; judged against the truth in
``segments_evaluation``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
