"""``omnicrm repurchase``: train and evaluate the repurchase model on any transaction log."""

from __future__ import annotations

import click


@click.group(name="repurchase")
def repurchase() -> None:
    """Repurchase models on any retailer's transaction log."""
