"""Triggered journeys on hand-made tables whose triggers are known: each rule fires for the
persons it should and not for their near misses, and the holdout is the stated share, fixed
per person and trigger."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.contracts import RAW_CONTRACTS, validate
from omnicrm.journeys import holdout_draw, journey_audience
from omnicrm.journeys.settings import JourneySettings

TODAY = pd.Timestamp("2026-06-10")


def settings(share: float = 0.0) -> JourneySettings:
    rule = {"holdout_share": share, "channel": "wechat", "send_channel": "wechat"}
    return JourneySettings.model_validate({"as_of": None, "seed": 1, "triggers": {
        "new_follower": {**rule, "within_hours": 48},
        "cart_abandoned": {**rule, "nudge_days": [1, 3]},
        "coupon_unredeemed": {**rule, "days_before_expiry": 3},
        "browse_no_buy": {**rule, "window_days": 7, "min_products": 2},
        "first_purchase_no_second": {**rule, "days_after_first": 15}}})


def ts(days_before: float, hour: int = 12) -> pd.Timestamp:
    return TODAY - pd.Timedelta(days=days_before) + pd.Timedelta(hours=hour)


@pytest.fixture
def tables() -> dict:
    persons = [f"P{i}" for i in range(1, 15)]
    index = pd.DataFrame({"record_id": [f"W{i}" for i in range(1, 15)], "person_id": persons})
    reg = pd.DataFrame({"record_id": index["record_id"], "channel": "wechat",
                        "registered_at": [ts(400)] * 14})
    reg.loc[0, "registered_at"] = TODAY - pd.Timedelta(hours=10)   # P1: new follower
    reg.loc[1, "registered_at"] = TODAY - pd.Timedelta(hours=60)   # P2: too long ago
    ev = [  # record, sku, type, when
        ("W3", "S1", "cart", ts(1)),                      # P3: cart yesterday, no order
        ("W4", "S1", "cart", ts(1, 9)),                   # P4: cart yesterday, bought after
        ("W5", "S2", "cart", ts(3)),                      # P5: cart 3 days ago: wave 2
        ("W6", "S1", "view", ts(2)), ("W6", "S2", "view", ts(2)),
        ("W6", "S2", "collect", ts(2)),                   # P6: browsed 2, collected, no order
        ("W7", "S1", "view", ts(2)), ("W7", "S1", "collect", ts(2)),  # P7: one product only
        ("W8", "S1", "view", ts(20)),                     # P8: an old view (for today's date)
    ]
    events = pd.DataFrame(ev, columns=["record_id", "sku", "event_type", "event_at"])
    events = events.assign(channel="wechat", event_id=[f"E{i}" for i in range(len(ev))])
    od = [("W4", ts(1, 15)),                              # P4 bought after the cart
          ("W9", ts(15)),                                 # P9: first order 15 days ago
          ("W10", ts(15)), ("W10", ts(5)),                # P10: and a second one
          ("W11", ts(40)),                                # P11: first order 40 days ago
          ("W12", ts(30)),                                # P12: coupon taker (below)
          ("W13", ts(0.5, 0))]                            # the last order: today - 12h
    orders = pd.DataFrame(od, columns=["record_id", "ordered_at"])
    orders["order_id"] = [f"O{i}" for i in range(len(od))]
    campaigns = pd.DataFrame({"campaign_id": ["C1", "C2"],
                              "start_date": [ts(10, 0), ts(30, 0)],
                              "end_date": [TODAY + pd.Timedelta(days=1), ts(16, 0)]})
    members = pd.DataFrame({"campaign_id": ["C1", "C1", "C1", "C2"],
                            "record_id": ["W12", "W13", "W14", "W11"],
                            "group": ["treatment", "treatment", "control", "treatment"]})
    sends = pd.DataFrame({"campaign_id": ["C1", "C1", "C2"], "record_id": ["W12", "W13", "W11"],
                          "opened_at": [ts(9), ts(9), ts(29)]})
    redemptions = pd.DataFrame({"campaign_id": ["C1"], "record_id": ["W13"],
                                "redeemed_at": [ts(8)]})
    return {"orders": orders, "events": events, "registrations": reg, "person_index": index,
            "campaigns": campaigns, "campaign_members": members, "campaign_sends": sends,
            "coupon_redemptions": redemptions}


def fired(audience: pd.DataFrame, trigger: str) -> dict:
    rows = audience[audience["trigger"] == trigger]
    return dict(zip(rows["person_id"], rows["wave"], strict=True))


def test_each_trigger_fires_for_its_persons_and_not_their_near_misses(tables):
    audience, campaigns, counts = journey_audience(settings(), **tables)
    assert counts["as_of"] == str(TODAY.date())  # the day after the last order
    assert fired(audience, "new_follower") == {"P1": 1}
    assert fired(audience, "cart_abandoned") == {"P3": 1, "P5": 2}
    assert fired(audience, "browse_no_buy") == {"P6": 1}
    assert fired(audience, "first_purchase_no_second") == {"P9": 1}
    # P12 opened C1's coupon and has not redeemed it, C1 ends tomorrow; P13 redeemed, P14 is
    # control, C2 has already ended
    assert fired(audience, "coupon_unredeemed") == {"P12": 1}
    assert audience.loc[audience["trigger"] == "coupon_unredeemed", "detail"].tolist() == ["C1"]
    assert set(campaigns["campaign_id"]) == set(audience["campaign_id"])
    assert "J_CART_ABANDONED_20260610" in set(campaigns["campaign_id"])
    # in the raw campaign schema: read like any campaign by the reports
    validate(audience, RAW_CONTRACTS["campaign_members"], max_future_days=None)
    validate(campaigns, RAW_CONTRACTS["campaigns"], max_future_days=None)


def test_persons_without_a_record_in_the_triggers_channel_are_counted_not_sent(tables):
    tables["registrations"].loc[2, "channel"] = "pos"  # P3's only record is a POS card
    audience, _, counts = journey_audience(settings(), **tables)
    assert fired(audience, "cart_abandoned") == {"P5": 2}
    assert counts["cart_abandoned"] == {"triggered": 2, "reachable": 1, "control": 0}


def test_the_holdout_is_the_stated_share_and_fixed_per_person_and_trigger():
    persons = pd.Series([f"P{i:06d}" for i in range(20000)])
    draw = holdout_draw(persons, "cart_abandoned", 1)
    share = (draw < 0.1).mean()
    assert abs(share - 0.1) < 3 * np.sqrt(0.09 / len(persons))
    # a person's group does not depend on who else fired that day
    assert np.array_equal(draw[5000:5100], holdout_draw(persons[5000:5100], "cart_abandoned",
                                                        1))
    other = holdout_draw(persons, "new_follower", 1)
    assert np.corrcoef(draw, other)[0, 1] < 0.05  # triggers draw independently
