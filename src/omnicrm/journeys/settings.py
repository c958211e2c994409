"""Typed settings of the journeys pipeline: the ``journeys`` section of
conf/base/parameters_journeys.yml. No defaults here: every value lives in conf."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from omnicrm.config import Settings, settings_from

MemberChannel = Literal["pos", "tmall", "wechat", "web"]
SendChannel = Literal["wechat", "sms", "email", "app"]


class Trigger(Settings):
    holdout_share: float = Field(ge=0, lt=1)  # of the triggered persons, kept as control
    channel: MemberChannel                    # whose record (and key) the message goes to
    send_channel: SendChannel


class NewFollower(Trigger):
    within_hours: int = Field(gt=0)


class CartAbandoned(Trigger):
    nudge_days: list[int] = Field(min_length=1)  # T+n: wave k is the k-th entry


class CouponUnredeemed(Trigger):
    days_before_expiry: int = Field(ge=1)


class BrowseNoBuy(Trigger):
    window_days: int = Field(ge=1)
    min_products: int = Field(ge=1)


class FirstPurchaseNoSecond(Trigger):
    days_after_first: int = Field(ge=1)


class Triggers(Settings):
    new_follower: NewFollower
    cart_abandoned: CartAbandoned
    coupon_unredeemed: CouponUnredeemed
    browse_no_buy: BrowseNoBuy
    first_purchase_no_second: FirstPurchaseNoSecond


class JourneySettings(Settings):
    as_of: dt.date | None  # None: the data's today (the day after the last order or event)
    seed: int
    triggers: Triggers


def journey_settings(params: JourneySettings | dict[str, Any] | None = None,
                     env: str | None = None) -> JourneySettings:
    """``params:journeys``."""
    return settings_from(JourneySettings, "journeys", params, env)
