"""The administrative-division table (GB/T 2260 codes) shipped with the package."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

# Suffixes that people drop when writing addresses ('上海' for '上海市').
DIVISION_SUFFIXES = ("壮族自治区", "维吾尔自治区", "回族自治区", "自治区", "省", "市", "新区", "区")


@lru_cache(maxsize=1)
def admin_divisions() -> pd.DataFrame:
    """One row per district: code, province, city, district, city_tier."""
    path = resources.files("omnicrm.chinese") / "data" / "admin_divisions.csv"
    with resources.as_file(path) as p:
        return pd.read_csv(p, dtype={"code": str, "city_tier": int})


def short_name(name: str) -> str:
    """'上海市' -> '上海', '广西壮族自治区' -> '广西', '浦东新区' -> '浦东'."""
    for suffix in DIVISION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name
