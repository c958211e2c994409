"""Triggered audiences (journeys): the everyday audiences of the source material as rules over
the raw tables, each run giving a dated audience with its own randomised holdout.

Every trigger finds the persons (OneID) its rule fires for as of the data's "today" ``D``
(midnight; everything strictly before it is known):

- ``new_follower``: a WeChat record registered in the last ``within_hours`` hours;
- ``cart_abandoned``: a cart ``n`` days before (the day ``D - n``) for ``n`` in ``nudge_days``,
  with no order by the person since the cart (wave k for the k-th nudge day);
- ``coupon_unredeemed``: opened a campaign's coupon message (the coupon taken) and not
  redeemed it, the campaign ending within ``days_before_expiry`` days from ``D``;
- ``browse_no_buy``: in the last ``window_days`` days viewed ``min_products`` or more
  products and collected or carted, and no order in those days;
- ``first_purchase_no_second``: the first order exactly ``days_after_first`` days before
  ``D``, and no second since.

A triggered person is reached through their record in the trigger's channel (persons without
one are counted and left out). The holdout is a fixed hash of seed, trigger and person: the
same person is in the same group of a trigger every day (no one is nudged on Monday as a
control and on Tuesday as treated). Each trigger and day is one campaign
(``J_<TRIGGER>_<YYYYMMDD>``) in the raw campaign schema, so it is reported like any campaign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.campaign.design import unit_hash

from .settings import JourneySettings

AUDIENCE_COLUMNS = ["campaign_id", "record_id", "group", "arm", "assigned_at", "trigger",
                    "as_of", "wave", "person_id", "channel", "send_channel", "detail"]


def data_today(orders: pd.DataFrame, events: pd.DataFrame) -> pd.Timestamp:
    """The day after the last order or event (midnight)."""
    last = max(pd.Timestamp(orders["ordered_at"].max()), pd.Timestamp(events["event_at"].max()))
    return last.normalize() + pd.Timedelta(days=1)


def holdout_draw(person_ids: pd.Series, trigger: str, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per person, fixed by seed, trigger and person (the same
    hash as the campaign design's holdouts)."""
    return unit_hash(person_ids, f"journey|{seed}|{trigger}")


def _person(frame: pd.DataFrame, person_of: pd.Series) -> pd.DataFrame:
    return frame.assign(person_id=frame["record_id"].map(person_of)).dropna(
        subset=["person_id"])


def _fired(persons, wave: int = 1, detail=None, source=None) -> pd.DataFrame:
    """Who a trigger fired for; ``source``: the record that fired it, when one did (it is
    addressed if it is in the trigger's channel)."""
    persons = pd.Series(persons, dtype=object)
    d = detail if detail is not None else ""
    return pd.DataFrame({"person_id": persons.to_numpy(), "wave": wave, "detail": d,
                         "source": source})


def new_followers(registrations: pd.DataFrame, today: pd.Timestamp, hours: int,
                  person_of: pd.Series) -> pd.DataFrame:
    w = registrations[(registrations["channel"] == "wechat")
                      & (registrations["registered_at"] >= today - pd.Timedelta(hours=hours))
                      & (registrations["registered_at"] < today)]
    w = _person(w, person_of).sort_values("registered_at").drop_duplicates(
        "person_id", keep="last")
    return _fired(w["person_id"], source=w["record_id"].to_numpy())


def abandoned_carts(events: pd.DataFrame, orders: pd.DataFrame, today: pd.Timestamp,
                    nudge_days: list[int], person_of: pd.Series) -> pd.DataFrame:
    carts = _person(events[events["event_type"] == "cart"], person_of)
    bought = _person(orders, person_of).groupby("person_id")["ordered_at"].max()
    parts = []
    for wave, n in enumerate(nudge_days, start=1):
        day = today - pd.Timedelta(days=n)
        c = carts[(carts["event_at"] >= day) & (carts["event_at"] < day + pd.Timedelta(days=1))]
        last_cart = c.sort_values("event_at").groupby("person_id").agg(
            at=("event_at", "max"), sku=("sku", "last"), record=("record_id", "last"))
        after = bought.reindex(last_cart.index)
        open_ = last_cart[~(after >= last_cart["at"]).to_numpy()]
        parts.append(_fired(open_.index, wave, open_["sku"].astype(str).to_numpy(),
                            open_["record"].to_numpy()))
    return pd.concat(parts, ignore_index=True)


def unredeemed_coupons(campaigns: pd.DataFrame, members: pd.DataFrame, sends: pd.DataFrame,
                       redemptions: pd.DataFrame, today: pd.Timestamp, days: int,
                       person_of: pd.Series) -> pd.DataFrame:
    ends = pd.to_datetime(campaigns["end_date"])
    live = campaigns[(ends >= today) & (ends < today + pd.Timedelta(days=days))]
    if live.empty:
        return _fired([])
    ids = set(live["campaign_id"])
    treated = members[members["campaign_id"].isin(ids) & (members["group"] == "treatment")]
    opened = sends[sends["campaign_id"].isin(ids) & sends["opened_at"].notna()
                   & (sends["opened_at"] < today)]
    taken = _person(opened[opened["record_id"].isin(treated["record_id"])], person_of)
    red = _person(redemptions[redemptions["campaign_id"].isin(ids)
                              & (redemptions["redeemed_at"] < today)], person_of)
    done = set(zip(red["campaign_id"], red["person_id"], strict=True))
    keep = taken[[(c, p) not in done for c, p in zip(taken["campaign_id"], taken["person_id"],
                                                     strict=True)]]
    keep = keep.drop_duplicates("person_id")
    return _fired(keep["person_id"], 1, keep["campaign_id"].astype(str).to_numpy(),
                  keep["record_id"].to_numpy())


def browsers_without_purchase(events: pd.DataFrame, orders: pd.DataFrame, today: pd.Timestamp,
                              window_days: int, min_products: int, person_of: pd.Series
                              ) -> pd.DataFrame:
    since = today - pd.Timedelta(days=window_days)
    ev = _person(events[(events["event_at"] >= since) & (events["event_at"] < today)],
                 person_of)
    views = ev[ev["event_type"] == "view"].groupby("person_id")["sku"].nunique()
    keen = set(ev.loc[ev["event_type"].isin(["collect", "cart"]), "person_id"])
    o = _person(orders[(orders["ordered_at"] >= since) & (orders["ordered_at"] < today)],
                person_of)
    fired = views[(views >= min_products) & views.index.isin(keen)
                  & ~views.index.isin(set(o["person_id"]))]
    return _fired(fired.index, 1, fired.astype(str).to_numpy())


def first_purchase_no_second(orders: pd.DataFrame, today: pd.Timestamp, days: int,
                             person_of: pd.Series) -> pd.DataFrame:
    o = _person(orders[orders["ordered_at"] < today], person_of)
    g = o.groupby("person_id")["ordered_at"]
    first, count = g.min(), g.size()
    day = today - pd.Timedelta(days=days)
    fired = first[(first >= day) & (first < day + pd.Timedelta(days=1)) & (count == 1)]
    return _fired(fired.index)


def journey_audience(s: JourneySettings, orders: pd.DataFrame, events: pd.DataFrame,
                     registrations: pd.DataFrame, person_index: pd.DataFrame,
                     campaigns: pd.DataFrame, campaign_members: pd.DataFrame,
                     campaign_sends: pd.DataFrame, coupon_redemptions: pd.DataFrame
                     ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Every trigger's audience as of ``s.as_of`` (default: the data's today): the members
    table (raw campaign schema plus trigger, wave, person, channel and detail columns), the
    campaigns table (one per trigger that fired) and counts per trigger."""
    today = pd.Timestamp(s.as_of) if s.as_of else data_today(orders, events)
    person_of = person_index.drop_duplicates("record_id").set_index("record_id")["person_id"]
    t = s.triggers
    fired = {
        "new_follower": new_followers(registrations, today, t.new_follower.within_hours,
                                      person_of),
        "cart_abandoned": abandoned_carts(events, orders, today, t.cart_abandoned.nudge_days,
                                          person_of),
        "coupon_unredeemed": unredeemed_coupons(
            campaigns, campaign_members, campaign_sends, coupon_redemptions, today,
            t.coupon_unredeemed.days_before_expiry, person_of),
        "browse_no_buy": browsers_without_purchase(
            events, orders, today, t.browse_no_buy.window_days, t.browse_no_buy.min_products,
            person_of),
        "first_purchase_no_second": first_purchase_no_second(
            orders, today, t.first_purchase_no_second.days_after_first, person_of),
    }
    # each person's record in a channel: the earliest registered one
    reg = registrations.merge(person_index[["record_id", "person_id"]], on="record_id")
    reg = reg.sort_values(["registered_at", "record_id"]).drop_duplicates(
        ["person_id", "channel"])
    members, camps, counts = [], [], {}
    for name, f in fired.items():
        rule = getattr(t, name)
        rec = reg[reg["channel"] == rule.channel].set_index("person_id")["record_id"]
        in_channel = set(registrations.loc[registrations["channel"] == rule.channel,
                                           "record_id"])
        # one message per person and trigger a day: the earliest wave that fired
        reachable = f[f["person_id"].isin(rec.index)].sort_values("wave", kind="stable")
        reachable = reachable.drop_duplicates("person_id")
        counts[name] = {"triggered": int(f["person_id"].nunique()),
                        "reachable": int(reachable["person_id"].nunique())}
        if reachable.empty:
            continue
        cid = f"J_{name.upper()}_{today:%Y%m%d}"
        control = holdout_draw(reachable["person_id"], name, s.seed) < rule.holdout_share
        members.append(pd.DataFrame({
            "campaign_id": cid,
            "record_id": np.where(reachable["source"].isin(in_channel), reachable["source"],
                                  rec.reindex(reachable["person_id"]).to_numpy()),
            "group": np.where(control, "control", "treatment"),
            "arm": np.where(control, None, "nudge"), "assigned_at": today,
            "trigger": name, "as_of": today, "wave": reachable["wave"].to_numpy(),
            "person_id": reachable["person_id"].to_numpy(), "channel": rule.channel,
            "send_channel": rule.send_channel, "detail": reachable["detail"].to_numpy()}))
        camps.append({"campaign_id": cid, "campaign_name": f"journey {name} {today:%Y-%m-%d}",
                      "start_date": today, "end_date": today + pd.Timedelta(days=6),
                      "control_share": float(rule.holdout_share),
                      "audience_rule": f"journey:{name}"})
        counts[name]["control"] = int(control.sum())
    audience = (pd.concat(members, ignore_index=True) if members
                else pd.DataFrame({c: pd.Series(dtype=object) for c in AUDIENCE_COLUMNS}))
    journey_campaigns = pd.DataFrame(camps, columns=["campaign_id", "campaign_name",
                                                     "start_date", "end_date",
                                                     "control_share", "audience_rule"])
    return audience[AUDIENCE_COLUMNS], journey_campaigns, {"as_of": str(today.date()),
                                                           **counts}
