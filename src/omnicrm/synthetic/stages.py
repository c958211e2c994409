"""Nodes of the synthetic-world pipeline: each stage of the generator as a pure function of
its inputs and the ``synthetic`` parameters."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from omnicrm.config import parse
from omnicrm.contracts import TRUTH_CONTRACTS
from omnicrm.tracking import mlflow_metrics

from . import campaigns as camp
from . import commerce, persons, records
from .settings import SyntheticSettings

log = logging.getLogger(__name__)


def _span(params: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    start, end = pd.Timestamp(params["start_date"]), pd.Timestamp(params["end_date"])
    if end <= start + pd.Timedelta(days=int(params["campaigns"]["span_days"])):
        raise ValueError(f"synthetic.end_date {end:%Y-%m-%d} leaves no room for "
                         f"{params['campaigns']['span_days']} days of campaigns after "
                         f"start_date {start:%Y-%m-%d}")
    return start, end


def generate_persons(params: dict) -> pd.DataFrame:
    """Hidden persons with households, identities and latent traits. The first stage, so it
    checks the whole ``synthetic`` section (SyntheticSettings): a misspelt key stops here."""
    parse(SyntheticSettings, params, "synthetic")
    if int(params["persons"]) < 10:
        raise ValueError(f"synthetic.persons must be at least 10, got {params['persons']}")
    start, end = _span(params)
    people = persons.make_persons(params, start, end)
    log.info("generated %d persons in %d households", len(people),
             people["household_id"].nunique())
    return people


def generate_catalogue(params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    start, end = _span(params)
    return commerce.make_stores(params, start), commerce.make_products(params, start, end)


def simulate_purchases(people: pd.DataFrame, params: dict
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Natural purchase days (before campaigns), each person's purchase state, and the
    ``truth_persons`` table with the dropout date filled in."""
    start, end = _span(params)
    purchases, first_day, dropout_day = commerce.purchase_days(people, params, start, end)
    state = pd.DataFrame({"first_day": first_day, "dropout_day": dropout_day})
    truth = people.copy()
    truth["dropout_date"] = pd.to_datetime(
        np.where(dropout_day >= 0, (start + pd.to_timedelta(np.maximum(dropout_day, 0), "D"))
                 .to_numpy(), np.datetime64("NaT")))
    cols = TRUTH_CONTRACTS["truth_persons"].column_names
    truth = truth[cols + [c for c in truth.columns if c not in cols]]
    return purchases, state, truth


def generate_records(people: pd.DataFrame, stores: pd.DataFrame, params: dict):
    """The four channels' member tables and ``truth_records``."""
    _, end = _span(params)
    t = records.make_records(people, stores, params, end)
    log.info("generated %d member records (%s)", len(t["truth_records"]),
             t["truth_records"]["channel"].value_counts().to_dict())
    return (t["pos_members"], t["tmall_members"], t["wechat_members"], t["web_members"],
            t["truth_records"])


def _record_index(people: pd.DataFrame, truth_records: pd.DataFrame,
                  members: list[pd.DataFrame]) -> pd.DataFrame:
    reg = pd.concat([m[["record_id", "registered_at"]] for m in members], ignore_index=True)
    pos = pd.Series(np.arange(len(people)), index=people["person_id"].to_numpy())
    recs = truth_records.merge(reg, on="record_id", how="left")
    recs["p"] = pos.reindex(recs["person_id"]).to_numpy()
    return recs


def generate_campaigns(people, state, natural_purchases, truth_records, pos_members,
                       tmall_members, wechat_members, web_members, params):
    """Campaign plans and their randomised runs; returns all purchases after campaigns."""
    start, end = _span(params)
    recs = _record_index(people, truth_records, [pos_members, tmall_members, wechat_members,
                                                 web_members])
    campaigns, offers = camp.plan_campaigns(params, start, end)
    purchases, members, sends, outcomes = camp.run_campaigns(
        people, recs, natural_purchases, state["first_day"].to_numpy(),
        state["dropout_day"].to_numpy(), campaigns, offers, params, start, end)
    return campaigns, offers, members, sends, purchases, outcomes


def generate_orders(people, stores, products, truth_records, pos_members, tmall_members,
                    wechat_members, web_members, purchases, params):
    """Orders, their items and the coupon redemptions among them."""
    start, _ = _span(params)
    recs = _record_index(people, truth_records, [pos_members, tmall_members, wechat_members,
                                                 web_members])
    # an order is placed only in a channel whose record was registered by then
    orders, items = commerce.build_orders(people, products, stores, recs, purchases, params,
                                          start)
    orders = orders.sort_values("ordered_at", kind="stable").reset_index(drop=True)
    red = orders[orders["coupon_discount"] > 0]
    redemptions = pd.DataFrame({
        "coupon_id": np.char.add("CP", np.char.zfill(np.arange(1, len(red) + 1).astype(str), 8)),
        "campaign_id": red["campaign_id"].to_numpy(),
        "record_id": red["record_id"].to_numpy(),
        "order_id": red["order_id"].to_numpy(),
        "coupon_threshold": red["_threshold"].to_numpy(),
        "discount": red["coupon_discount"].to_numpy(),
        "redeemed_at": red["ordered_at"].to_numpy(),
    })
    log.info("generated %d orders with %d items; %d coupons redeemed", len(orders), len(items),
             len(redemptions))
    return orders.drop(columns=["_p", "_threshold"]), items, redemptions


def generate_events(people, products, truth_records, pos_members, tmall_members,
                    wechat_members, web_members, orders, order_items, truth_persons, params):
    start, end = _span(params)
    recs = _record_index(people, truth_records, [pos_members, tmall_members, wechat_members,
                                                 web_members])
    people = people.assign(dropout_date=truth_persons["dropout_date"].to_numpy())
    events = commerce.make_events(people, products, recs, orders, order_items, params, start,
                                  end)
    log.info("generated %d behaviour events", len(events))
    return events


def generate_offer_outcomes(people, state, params):
    start, end = _span(params)
    return camp.offer_outcomes(people, state["first_day"].to_numpy(),
                               state["dropout_day"].to_numpy(), params, start, end)


def summarise_world(truth_persons: pd.DataFrame, truth_records: pd.DataFrame,
                    orders: pd.DataFrame, events: pd.DataFrame, campaign_members: pd.DataFrame,
                    coupon_redemptions: pd.DataFrame, truth_campaign_outcomes: pd.DataFrame,
                    truth_offer_outcomes: pd.DataFrame) -> tuple[dict, dict]:
    """Headline statistics of the generated world (an evaluation node: it reads the truth).
    Returns the summary for data/08_reporting and the same numbers as MLflow metrics."""
    person_of = truth_records.set_index("record_id")["person_id"]
    n_persons = len(truth_persons)
    channels = truth_records.groupby("person_id")["channel"].nunique()
    o = orders.assign(person_id=person_of.reindex(orders["record_id"]).to_numpy())
    o = o.sort_values(["person_id", "ordered_at"])
    per_buyer = o.groupby("person_id").size()
    first = o.groupby("person_id")["ordered_at"].transform("min")
    second = o[o["ordered_at"] > first].groupby("person_id")["ordered_at"].min()
    first_by = o.groupby("person_id")["ordered_at"].min()
    end = o["ordered_at"].max()
    observable = first_by[first_by <= end - pd.Timedelta(days=45)]
    gap = (second.reindex(observable.index) - observable).dt.days
    # does a cart foreshadow a purchase more than a collect? P(purchase within 7 days | event)
    ev = events.sort_values("event_at")
    buys = ev[ev["event_type"] == "purchase"][["record_id", "event_at"]].rename(
        columns={"event_at": "buy_at"})

    def p_buy_after(kind: str) -> float:
        e = ev[ev["event_type"] == kind][["record_id", "event_at"]].sample(
            min(20000, (ev["event_type"] == kind).sum()), random_state=0).sort_values("event_at")
        nxt = pd.merge_asof(e, buys.sort_values("buy_at"), left_on="event_at",
                            right_on="buy_at", by="record_id", direction="forward")
        return float(((nxt["buy_at"] - nxt["event_at"]) <= pd.Timedelta(days=7)).mean())

    cm = campaign_members.assign(person_id=person_of.reindex(campaign_members["record_id"])
                                 .to_numpy())
    out = truth_campaign_outcomes.merge(cm[["campaign_id", "person_id", "record_id"]],
                                        on=["campaign_id", "person_id"])
    treated = out[out["group"] == "treatment"]
    control = out[out["group"] == "control"]
    best = truth_offer_outcomes[truth_offer_outcomes["coupon_threshold"] > 0]
    oracle = best.groupby("person_id")["incremental_margin"].max().clip(lower=0)
    noise = truth_records
    stats = {
        "persons": n_persons,
        "households": int(truth_persons["household_id"].nunique()),
        "member_records": len(truth_records),
        "records_per_person": len(truth_records) / n_persons,
        "share_persons_in_2plus_channels": float((channels >= 2).mean()),
        "duplicate_registrations": int(truth_records["duplicate_registration"].sum()),
        "orders": len(orders),
        "share_persons_who_bought": len(per_buyer) / n_persons,
        "orders_per_buyer": float(per_buyer.mean()),
        "repurchase_rate": float((per_buyer >= 2).mean()),
        "second_purchase_within_45d_rate": float((gap <= 45).mean()),
        "average_order_value": float(orders["paid_amount"].mean()),
        "events": len(events),
        "p_purchase_7d_after_cart": p_buy_after("cart"),
        "p_purchase_7d_after_collect": p_buy_after("collect"),
        "p_purchase_7d_after_view": p_buy_after("view"),
        "campaigns": int(campaign_members["campaign_id"].nunique()),
        "campaign_audience": len(campaign_members),
        "coupon_redemption_rate": len(coupon_redemptions) / max(len(treated), 1),
        "conversion_treatment": float(treated["bought"].mean()),
        "conversion_control": float(control["bought"].mean()),
        "observed_uplift_pp": 100 * float(treated["bought"].mean() - control["bought"].mean()),
        "true_average_uplift_pp": 100 * float((treated["p_buy_treated"]
                                               - treated["p_buy_control"]).mean()),
        "true_incremental_margin_per_treated": float((treated["margin_treated"]
                                                      - treated["margin_control"]).mean()),
        "oracle_incremental_margin_per_person": float(oracle.mean()),
        "share_persons_with_profitable_offer": float((oracle > 0).mean()),
        "records_homophone_name": int((noise["name_noise"] == "homophone").sum()),
        "records_traditional_name": int((noise["name_noise"] == "traditional").sum()),
        "records_pinyin_name": int(noise["name_noise"].str.startswith("pinyin").sum()),
        "records_masked_mobile": int((noise["mobile_noise"] == "masked").sum()),
        "records_family_shared_mobile": int((noise["mobile_noise"] == "family_shared").sum()),
        "records_transposed_id": int((noise["id_noise"] == "transposed").sum()),
        "persons_with_common_name": int(truth_persons["common_name"].sum()),
    }
    stats = {k: (round(v, 4) if isinstance(v, float) else int(v)) for k, v in stats.items()}
    metrics = mlflow_metrics(stats)
    return stats, metrics
