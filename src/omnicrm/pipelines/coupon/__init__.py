"""Coupon: who gets a "spend X get Y off" coupon, which X and Y, and within which budget."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
