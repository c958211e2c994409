"""Typed settings of the kpi pipeline: the ``kpi`` section of conf/base/parameters_kpi.yml
(no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any, Literal

from omnicrm.config import Settings, settings_from


class Target(Settings):
    target: float
    better: Literal["higher", "lower"]


class KpiSettings(Settings):
    as_of: str | None
    history_periods: int
    stage_periods: int
    second_purchase_days: int
    active_days: int
    targets: dict[str, Target]


def kpi_settings(params: KpiSettings | dict[str, Any] | None = None,
                 env: str | None = None) -> KpiSettings:
    """``params:kpi`` (or a few keys over conf's, e.g. ``{"stage_periods": 4}``)."""
    return settings_from(KpiSettings, "kpi", params, env)
