"""Triggered audiences (journeys): the everyday audiences of the source material as rules over
the raw tables, each run a dated audience with its own randomised holdout (audience.py)."""

from .audience import data_today, holdout_draw, journey_audience

__all__ = ["data_today", "holdout_draw", "journey_audience"]
