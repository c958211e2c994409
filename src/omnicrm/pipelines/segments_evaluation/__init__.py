"""Segments judged against the synthetic truth: value tiers vs the latent value tier (and
plain k-means on raw features as the baseline), lifecycle stages vs true drop-out, tags vs
the latent traits. Evaluation nodes only: the one place segments may read ``truth_*``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
