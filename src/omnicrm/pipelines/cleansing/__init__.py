"""Cleansing: every channel's member records standardised into one comparable table, with a
data-quality table of what was missing, repaired or rejected per channel and field."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
