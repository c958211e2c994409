"""The synthetic omni-channel retail world: hidden persons, their channel records, orders,
behaviour events and randomised coupon campaigns, plus the ground truth to judge models by."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
