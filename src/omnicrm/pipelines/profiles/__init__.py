"""Profiles: browse interests per person x category and the browse typology, and the
customer 360 joining the other pipelines' per-person outputs; the ``evaluation``-tagged node
judges browse interests against the world's true category preferences."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
