"""Nodes of the cleansing pipeline."""

from __future__ import annotations

import pandas as pd

from omnicrm.identity.api import standardise_tables


def standardise_members(pos_members: pd.DataFrame, tmall_members: pd.DataFrame,
                        wechat_members: pd.DataFrame, web_members: pd.DataFrame,
                        params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One standardised table of all member records (``source`` = channel) and the
    data-quality counts per channel and field."""
    tables = {"pos": pos_members, "tmall": tmall_members, "wechat": wechat_members,
              "web": web_members}
    return standardise_tables(tables, params["roles"])
