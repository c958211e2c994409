"""KPI values of one period against their targets from conf."""

from __future__ import annotations

import math

import pandas as pd

from omnicrm.kpi.settings import Target


def target_status(values: dict[str, float], targets: dict[str, Target], period: str
                  ) -> pd.DataFrame:
    """kpi, value, target, better, status ("met", "missed", or "no data" when the value is
    not known for the period)."""
    rows = []
    for kpi, t in targets.items():
        value = values.get(kpi, math.nan)
        if value is None or not math.isfinite(float(value)):
            status = "no data"
        elif t.better == "higher":
            status = "met" if value >= t.target else "missed"
        else:
            status = "met" if value <= t.target else "missed"
        rows.append({"period_label": period, "kpi": kpi, "value": value, "target": t.target,
                     "better": t.better, "status": status})
    return pd.DataFrame(rows)
