"""Typed settings of the campaign pipeline: the ``campaign`` section of
conf/base/parameters_campaign.yml, whose ``brief`` is the next campaign (a YAML file passed to
``omnicrm campaign plan --brief`` replaces it). No defaults here: every value lives in conf."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from omnicrm.config import Settings, settings_from

CHANNELS = ("pos", "tmall", "wechat", "web")


class Arm(Settings):
    arm: str
    coupon_threshold: float = Field(ge=0)
    discount: float = Field(gt=0)


class Wave(Settings):
    wave: int = Field(ge=1)
    channel: Literal["pos", "tmall", "wechat", "web"]  # whose member key the export carries
    send_channel: Literal["wechat", "sms", "email", "app"]
    send_on: dt.date
    audience: Literal["all", "non_openers"]  # non_openers: of the waves before, after them


class Brief(Settings):
    campaign_id: str
    campaign_name: str
    audience: Literal["coupon_plan", "segment"]
    segment: dict[str, list[str]] | None  # column -> allowed values (audience: segment)
    arms: list[Arm] = Field(min_length=1)
    budget: float = Field(gt=0)
    waves: list[Wave] = Field(min_length=1)
    start_date: dt.date
    end_date: dt.date
    baseline_conversion: float | None = Field(gt=0, lt=1)  # None: from past controls
    mde_relative: float = Field(gt=0)
    power: float = Field(gt=0, lt=1)
    alpha: float = Field(gt=0, lt=1)
    allow_overlap: bool
    expected_redemption: float = Field(gt=0, le=1)  # share of treated who redeem (cost)
    cost_per_member: float = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self):
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        names = [a.arm for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names repeat: {names}")
        waves = sorted(w.wave for w in self.waves)
        if waves != list(range(1, len(waves) + 1)):
            raise ValueError(f"waves must be numbered 1..n, got {waves}")
        if self.audience == "segment" and not self.segment:
            raise ValueError("audience 'segment' needs a segment rule (column: [values])")
        return self


class Stratification(Settings):
    columns: list[str] = Field(min_length=1)
    seed: int


class GlobalHoldout(Settings):
    share: float = Field(ge=0, lt=1)
    season: str  # a new season draws a new holdout


class CampaignSettings(Settings):
    brief: Brief
    stratify: Stratification
    global_holdout: GlobalHoldout
    min_control_share: float = Field(gt=0, lt=0.5)
    max_control_share: float = Field(gt=0, le=0.5)
    frequency_cap: int = Field(ge=1)  # messages per member in frequency_window_days
    frequency_window_days: int = Field(ge=1)
    member_keys: dict[str, str]  # member channel -> the column the export carries
    balance_covariates: list[str]
    smd_threshold: float = Field(gt=0)


def campaign_settings(params: CampaignSettings | dict[str, Any] | None = None,
                      env: str | None = None) -> CampaignSettings:
    """``params:campaign`` (or a few keys over conf's, e.g. ``{"brief": {...}}``)."""
    return settings_from(CampaignSettings, "campaign", params, env)

