"""Typed settings of the profiles pipeline: the ``profiles`` section of
conf/base/parameters_profiles.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from omnicrm.config import Settings, settings_from


class BrowseSettings(Settings):
    """Browse interest per person x category (omnicrm.profiles.browse)."""

    lookback_days: int
    half_life_days: float
    weights: dict[str, float]
    threshold: float

    @field_validator("weights")
    @classmethod
    def _event_types(cls, v: dict) -> dict:
        unknown = set(v) - {"view", "collect", "cart"}
        if unknown:
            raise ValueError(f"browse events are view, collect and cart, not {sorted(unknown)}")
        return v


class ProfileSettings(Settings):
    browse: BrowseSettings


def profile_settings(params: ProfileSettings | dict[str, Any] | None = None,
                     env: str | None = None) -> ProfileSettings:
    """``params:profiles`` (or a few keys over conf's) as settings."""
    return settings_from(ProfileSettings, "profiles", params, env)
