"""Inputs of the features pipeline built from the session's small world (the person index
from the truth, as the identity pipeline would write it at perfect quality)."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.identity.golden import member_registrations

INPUTS = ("orders", "order_items", "products", "events", "campaign_members",
          "coupon_redemptions")


def person_index_from_truth(truth_records: pd.DataFrame) -> pd.DataFrame:
    return (truth_records[["record_id", "channel", "person_id"]]
            .assign(match_confidence=1.0).reset_index(drop=True))


@pytest.fixture(scope="session")
def feature_inputs(world) -> dict[str, pd.DataFrame]:
    """Keyword arguments of ``build_person_features`` (without params)."""
    return {**{name: world[name] for name in INPUTS},
            "registrations": member_registrations(world["pos_members"], world["tmall_members"],
                                                  world["wechat_members"], world["web_members"]),
            "person_index": person_index_from_truth(world["truth_records"])}
