"""Nodes of the cleansing pipeline."""

from __future__ import annotations

import logging

import pandas as pd

from omnicrm.identity.standardise import standardise_records

log = logging.getLogger(__name__)


def standardise_members(pos_members: pd.DataFrame, tmall_members: pd.DataFrame,
                        wechat_members: pd.DataFrame, web_members: pd.DataFrame,
                        params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One standardised table of all member records (``source`` = channel) and the
    data-quality counts per channel and field."""
    tables = {"pos": pos_members, "tmall": tmall_members, "wechat": wechat_members,
              "web": web_members}
    parts, quality = [], []
    for channel, df in tables.items():
        std, dq = standardise_records(df, params["roles"][channel], channel)
        parts.append(std)
        quality.append(dq)
        log.info("standardised %d %s records", len(std), channel)
    dq = pd.concat(quality, ignore_index=True)
    dq["rejected_share"] = dq["invalid"] / dq["records"]
    dq["repaired_share"] = dq["repaired"] / dq["records"]
    return pd.concat(parts, ignore_index=True), dq
