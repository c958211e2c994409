"""Typed settings of the features pipeline: the ``features`` and ``feature_engine`` sections
of conf/base/parameters_features.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any, Literal

from omnicrm.config import Settings, settings_from


class FeatureSettings(Settings):
    """The feature definitions: the cut-off and the windows everything is counted over."""

    cutoff_date: str | None
    spend_window_days: int
    trend_window_days: int
    event_windows_days: list[int]
    new_arrival_days: int
    hour_buckets: dict[str, list[int]]


class FeatureEngineSettings(Settings):
    """Where the aggregation runs: duckdb, spark or pandas, with that engine's options."""

    name: Literal["duckdb", "spark", "pandas"]
    options: dict[str, Any]


def feature_settings(params: FeatureSettings | dict[str, Any] | None = None,
                     env: str | None = None) -> FeatureSettings:
    """``params`` as settings: a full ``params:features`` dict as it is; ``None`` or a few
    keys (``{"cutoff_date": "2026-06-01"}``) over conf's features section."""
    return settings_from(FeatureSettings, "features", params, env)


def engine_settings(params: FeatureEngineSettings | dict[str, Any] | None = None,
                    env: str | None = None) -> FeatureEngineSettings:
    """``params:feature_engine`` (or a few keys over conf's) as settings."""
    return settings_from(FeatureEngineSettings, "feature_engine", params, env)


class DemographicSettings(Settings):
    """The demographic bands of ``person_demographics`` (``params:demographics``)."""

    age_band_edges: list[int]
    min_age: int
    max_age: int


def demographic_settings(params: DemographicSettings | dict[str, Any] | None = None,
                         env: str | None = None) -> DemographicSettings:
    """``params:demographics`` (or a few keys over conf's) as settings."""
    return settings_from(DemographicSettings, "demographics", params, env)
