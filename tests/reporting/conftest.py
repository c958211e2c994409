"""A project copy holding the 3,000-person world as files, with a person_index built from the
truth (as the identity pipeline would write it, perfectly), for rendering reports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import git_init, make_project_copy

RAW = ["pos_members", "tmall_members", "wechat_members", "web_members", "stores", "products",
       "orders", "order_items", "events", "campaigns", "campaign_offers", "campaign_members",
       "campaign_sends", "coupon_redemptions"]


def write_world(world: dict, dest: Path, person_index: bool = True) -> Path:
    for name in RAW:
        world[name].to_parquet(dest / "data" / "01_raw" / f"{name}.parquet", index=False)
    for name in world:
        if name.startswith("truth_"):
            world[name].to_parquet(dest / "data" / "00_truth" / f"{name}.parquet", index=False)
    if person_index:
        idx = world["truth_records"][["record_id", "channel", "person_id"]].assign(
            match_confidence=1.0)
        idx.to_parquet(dest / "data" / "03_primary" / "person_index.parquet", index=False)
    return dest


def report_tables(world: dict) -> dict:
    """The tables analyse_campaign takes, straight from the in-memory world."""
    tables = {k: world[k] for k in ("campaigns", "campaign_offers", "campaign_members",
                                     "campaign_sends", "coupon_redemptions", "orders")}
    tables["person_index"] = world["truth_records"][["record_id", "channel", "person_id"]]
    tables["customer_segments"] = None
    tables["member_channels"] = pd.concat(
        [world[f"{c}_members"][["record_id", "registered_at"]].assign(channel=c)
         for c in ("pos", "tmall", "wechat", "web")], ignore_index=True)
    return tables


@pytest.fixture(scope="session")
def report_project(tmp_path_factory, world) -> Path:
    dest = make_project_copy(tmp_path_factory.mktemp("report_project"))
    git_init(dest)
    return write_world(world, dest)
