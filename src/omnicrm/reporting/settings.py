"""Typed settings of the campaign and weekly reports: the ``reporting`` section of
conf/base/parameters_reporting.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any

from omnicrm.config import Settings, settings_from


class ReportingSettings(Settings):
    attribution_days: int
    pre_period_days: int
    segment_columns: list[str]
    confidence: float
    gross_margin: float
    cost_per_member: float
    repeat_days: int
    relevant_relative_lift: float
    target_power: float
    min_pack_size: int
    min_control_buyers: int
    report_timeout_s: int
    weekly_reports: int
    render_workers: int


# what a campaign report notebook takes as papermill parameters (the rest is the runner's)
RUNNER_PARAMS = ("report_timeout_s", "weekly_reports", "render_workers")
ANALYSIS_PARAMS = [k for k in ReportingSettings.model_fields if k not in RUNNER_PARAMS]


def reporting_settings(params: ReportingSettings | dict[str, Any] | None = None,
                       env: str | None = None) -> ReportingSettings:
    """``params:reporting`` (or a few keys over conf's; ``None`` values are left out)."""
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if v is not None}
    return settings_from(ReportingSettings, "reporting", params, env)
