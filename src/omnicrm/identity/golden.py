"""Survivorship: one golden record per person from their linked records, and the
activity summary joining a person's channels, orders and events (the customer 360 of the
profiles pipeline builds on the other capabilities' outputs instead)."""

from __future__ import annotations

import pandas as pd

from omnicrm.contracts import CHANNELS

# Who we believe first for names and birth dates: a clerk saw the card holder (POS), the
# person typed it themselves (web), a delivery label (Tmall), a social profile (WeChat).
CHANNEL_TRUST = {"pos": 0, "web": 1, "tmall": 2, "wechat": 3}
GOLDEN_FIELDS = {
    # field: how the surviving value is chosen
    "name_hanzi": "trusted", "name_py": "trusted", "gender": "trusted",
    "birth_date": "trusted", "id_number": "trusted",
    "mobile": "recent", "email": "recent",
    "province": "complete", "city": "complete", "district": "complete",
    "address_detail": "complete",
}


def member_registrations(pos_members: pd.DataFrame, tmall_members: pd.DataFrame,
                         wechat_members: pd.DataFrame, web_members: pd.DataFrame
                         ) -> pd.DataFrame:
    """When each member record registered, in which channel (``registrations`` of
    :func:`person_features`): the only member columns the features need, no personal data."""
    parts = [df[["record_id", "registered_at"]].assign(channel=channel)
             for channel, df in zip(CHANNELS, (pos_members, tmall_members, wechat_members,
                                               web_members), strict=True)]
    return pd.concat(parts, ignore_index=True)[["record_id", "channel", "registered_at"]]


def golden_records(person_index: pd.DataFrame, standardised: pd.DataFrame,
                   members_registered: pd.DataFrame) -> pd.DataFrame:
    """One row per person. Names, gender, birth date and ID come from the most trusted
    channel that has them; mobile and email from the most recently registered record that
    has one (people change numbers); the address from the most complete record (district
    and street), most recent first. ``source_<field>`` says which record each came from."""
    df = standardised.merge(person_index[["record_id", "person_id"]], on="record_id")
    df = df.merge(members_registered[["record_id", "registered_at"]], on="record_id", how="left")
    df["trust"] = df["source"].map(CHANNEL_TRUST).fillna(9)
    df["completeness"] = df[["province", "city", "district", "address_detail"]].notna().sum(axis=1)
    orders = {
        "trusted": (["trust", "registered_at"], [True, False]),
        "recent": (["registered_at"], [False]),
        "complete": (["completeness", "registered_at"], [False, False]),
    }
    out = pd.DataFrame({"person_id": sorted(df["person_id"].unique())}).set_index("person_id")
    for rule, (by, asc) in orders.items():
        fields = [f for f, r in GOLDEN_FIELDS.items() if r == rule]
        ranked = df.sort_values(["person_id", *by], ascending=[True, *asc], kind="stable")
        if rule == "complete":
            best = ranked.drop_duplicates("person_id").set_index("person_id")
            best = best[best["completeness"] > 0]
            out = out.join(best[fields])
            out["source_address"] = best["record_id"]
            continue
        for f in fields:
            has = ranked.dropna(subset=[f]).drop_duplicates("person_id").set_index("person_id")
            out[f] = has[f]
            out[f"source_{f}"] = has["record_id"]
    counts = df.groupby("person_id").agg(records=("record_id", "size"),
                                         channels=("source", lambda s: ",".join(sorted(set(s)))),
                                         first_registered_at=("registered_at", "min"))
    return out.join(counts).reset_index()


def person_activity(person_index: pd.DataFrame, orders: pd.DataFrame,
                 events: pd.DataFrame, cutoff: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per person (no personal data): records and channels, orders, spend, first and last
    order, online events by type. Everyone in the index appears, buyers or not."""
    idx = person_index[["record_id", "channel", "person_id"]]
    people = idx.groupby("person_id").agg(
        records=("record_id", "size"),
        channels=("channel", lambda s: ",".join(sorted(set(s)))))
    for ch in CHANNELS:
        people[f"in_{ch}"] = people["channels"].str.contains(ch)
    o = orders.merge(idx[["record_id", "person_id"]], on="record_id")
    if cutoff is not None:
        o = o[o["ordered_at"] < cutoff]
    buys = o.groupby("person_id").agg(
        orders=("order_id", "size"), spend=("paid_amount", "sum"),
        first_order_at=("ordered_at", "min"), last_order_at=("ordered_at", "max"),
        order_channels=("channel", "nunique"))
    e = events.merge(idx[["record_id", "person_id"]], on="record_id")
    if cutoff is not None:
        e = e[e["event_at"] < cutoff]
    ev = e.pivot_table(index="person_id", columns="event_type", values="event_id",
                       aggfunc="size", fill_value=0).add_prefix("events_")
    out = people.join(buys).join(ev)
    num = [c for c in out.columns if c.startswith("events_")] + ["orders", "order_channels"]
    out[num] = out[num].fillna(0).astype("int64")
    out["spend"] = out["spend"].fillna(0.0).round(2)
    return out.reset_index()
