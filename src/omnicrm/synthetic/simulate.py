"""Run a designed campaign inside the synthetic world (``omnicrm simulate``).

The design (``campaign_design_*``: the raw campaign tables' schema) is sent in the world as the
generator sends its own campaigns: the world's clock moves on from its last day to the end of
the campaign's attribution window, everyone keeps buying at their own seasonal rate, and the
campaign's members' purchases in the window are replaced by one draw from the world's response
model (treated members with their arm's offer, control members without). The resulting sends,
orders, order items, behaviour events and redemptions are appended to the raw tables under the
design's campaign id, and both potential outcomes of every member to
``truth_campaign_outcomes``, so the report of the campaign can be checked against the truth.

Only for the synthetic world: it reads the hidden persons (data/00_truth), which a brand's own
data does not have.

Conventions shared with the generator (campaigns.py): a purchase process per person (Poisson
at the seasonal rate until the person drops out, after each purchase with their dropout
probability); at most one purchase per member in the campaign window (the response model's
P(buy)); wave 1 is opened with the person's open probability, every later wave with half of it
by those who have not opened yet (the generator's SMS reminder).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import campaigns as camp
from . import commerce, stages
from .common import calendar, fmt_ids, rng_for, sample_days, seasonality

#: raw tables the simulation appends to, and the truth table it appends to
APPENDED = ("campaigns", "campaign_offers", "campaign_members", "campaign_sends", "orders",
            "order_items", "events", "coupon_redemptions", "truth_campaign_outcomes")
SEND_HOUR = 10


class SimulationError(ValueError):
    """A design that cannot be run in this world: the message says why and what would do."""


@dataclass
class Simulated:
    """The rows to append to each table (``tables``) and headline numbers (``summary``)."""

    tables: dict[str, pd.DataFrame]
    summary: dict


def _ids_after(ids: pd.Series, prefix: str) -> int:
    """The first free number of ids written ``<prefix><digits>``."""
    if ids.empty:
        return 1
    nums = pd.to_numeric(ids.astype(str).str.removeprefix(prefix), errors="coerce")
    return int(nums.max()) + 1 if nums.notna().any() else 1


def _check(design: dict[str, pd.DataFrame], raw: dict[str, pd.DataFrame],
           data_end: pd.Timestamp) -> pd.Series:
    camps = design["campaigns"]
    if len(camps) != 1:
        raise SimulationError(f"the design holds {len(camps)} campaigns; expected one "
                              "(run `omnicrm campaign plan` first)")
    c = camps.iloc[0]
    cid = str(c["campaign_id"])
    if cid in set(raw["campaigns"]["campaign_id"].astype(str)):
        raise SimulationError(f"campaign {cid} is already in the raw campaigns table: it has "
                              "been simulated or imported; design a new campaign id")
    start = pd.Timestamp(c["start_date"])
    if start <= data_end:
        raise SimulationError(f"campaign {cid} starts {start.date()}, not after the world's "
                              f"last day {data_end.date()}: design it for the future")
    if design["members"].empty or not (design["members"]["group"] == "treatment").any():
        raise SimulationError(f"campaign {cid}: the design has no treated members")
    waves = design["waves"]
    send_on = pd.to_datetime(waves["send_on"])
    late = waves[(send_on < start) | (send_on > pd.Timestamp(c["end_date"]))]
    if not late.empty:
        raise SimulationError(f"campaign {cid}: wave(s) {late['wave'].tolist()} are sent "
                              "outside the campaign's dates")
    return c


def natural_purchases(people: pd.DataFrame, buyer: np.ndarray, alive: np.ndarray,
                      lo: int, hi: int, cum: np.ndarray, rng) -> tuple[pd.DataFrame, np.ndarray]:
    """Each alive buyer's purchases on days [lo, hi) (day indices of ``cum``): Poisson at the
    seasonal rate, dropping out after each purchase with the person's dropout probability.
    Returns the purchases (``p``, ``day``) and the day each person dropped out (-1: still
    active at ``hi``)."""
    n = len(people)
    rate = people["purchase_rate"].to_numpy() / 365.0
    active = buyer & alive
    counts = np.where(active, rng.poisson(rate * (cum[hi] - cum[lo])), 0)
    # purchases made before dropping out: geometric in the dropout probability (>= 1)
    allowed = rng.geometric(np.clip(people["dropout_prob"].to_numpy(), 1e-9, 1.0))
    pid = np.repeat(np.arange(n), counts)
    d = sample_days(cum, np.full(len(pid), lo), np.full(len(pid), hi), rng) if len(pid) \
        else pid
    order = np.lexsort((d, pid))
    pid, d = pid[order], d[order]
    k = np.arange(len(pid)) - np.repeat(np.r_[0, np.cumsum(counts)[:-1]], counts)
    keep = k < allowed[pid]
    dropped_at = np.full(n, -1)
    last = keep & (k == allowed[pid] - 1)  # the purchase after which the person drops out
    dropped_at[pid[last]] = d[last]
    return pd.DataFrame({"p": pid[keep], "day": d[keep]}), dropped_at


def open_any(o1: np.ndarray, waves: int) -> np.ndarray:
    """P(a treated member opens any of ``waves`` messages)."""
    return 1 - (1 - o1) * (1 - 0.5 * o1) ** max(waves - 1, 0)


def simulate_campaign(design: dict[str, pd.DataFrame], raw: dict[str, pd.DataFrame],
                      truth: dict[str, pd.DataFrame], params: dict,
                      attribution_days: int = 0) -> Simulated:
    """Run the designed campaign in the world; returns the rows to append.

    ``design``: campaigns, offers, members, waves (the campaign pipeline's tables).
    ``raw``: the raw tables (members of the four channels, stores, products, orders, events,
    campaigns, coupon_redemptions). ``truth``: truth_persons, truth_records. ``params``: the
    ``synthetic`` section the world was generated with."""
    people = truth["truth_persons"].reset_index(drop=True)
    orders = raw["orders"]
    data_end = pd.Timestamp(orders["ordered_at"].max()).normalize()
    c = _check(design, raw, data_end)
    cid = str(c["campaign_id"])
    start = pd.Timestamp(params["start_date"])
    c_start, c_end = pd.Timestamp(c["start_date"]), pd.Timestamp(c["end_date"])
    ext_end = c_end + pd.Timedelta(days=int(attribution_days))
    rng = rng_for(int(params["seed"]), f"simulate:{cid}")
    model = params["response_model"]

    days = calendar(start, ext_end)
    cum = np.r_[0.0, np.cumsum(seasonality(days))]
    T = (data_end - start).days + 1           # first day after the data
    t0 = (c_start - start).days
    window = (c_end - c_start).days + 1
    hi = (ext_end - start).days + 1

    members = [raw[f"{ch}_members"] for ch in ("pos", "tmall", "wechat", "web")]
    recs = stages._record_index(people, truth["truth_records"], members)
    if recs["p"].isna().any():
        raise SimulationError("truth_records names persons that truth_persons lacks: the truth "
                              "and the raw tables are from different worlds")
    recs["p"] = recs["p"].astype(int)
    # the world's state on its last day: bought at least once, and not dropped out since
    p_of = recs.set_index("record_id")["p"]
    bought = np.zeros(len(people), dtype=bool)
    bought[p_of.reindex(orders["record_id"]).dropna().astype(int).to_numpy()] = True
    drop = pd.to_datetime(people["dropout_date"])
    alive_T = drop.isna().to_numpy() | (drop >= data_end + pd.Timedelta(days=1)).to_numpy()

    natural, dropped_at = natural_purchases(people, bought, alive_T, T, hi, cum, rng)

    # the campaign members and their arms. OneID may have split a person into two members of
    # the design; the world draws one outcome per true person: treated if any of their records
    # is (with the first treated record's arm), contacted through each treated record
    dm = design["members"].reset_index(drop=True)
    rp = p_of.reindex(dm["record_id"]).to_numpy(dtype=float)
    if np.isnan(rp).any():
        unknown = dm.loc[np.isnan(rp), "record_id"].head(3).tolist()
        raise SimulationError(f"campaign {cid}: member records unknown to the world, e.g. "
                              f"{unknown}")
    rp = rp.astype(int)
    row_treated = (dm["group"] == "treatment").to_numpy()
    by_person = np.lexsort((~row_treated, rp))  # per person, a treated record first
    pi, first = np.unique(rp[by_person], return_index=True)
    primary = by_person[first]  # the record that stands for the person
    u_of_row = np.searchsorted(pi, rp)
    m = len(pi)
    treated = row_treated[primary]
    offers = design["offers"].set_index("arm")
    arm = dm["arm"].astype(object).to_numpy()[primary]
    arm = np.where(treated, arm, None)
    X = np.where(treated, pd.Series(arm).map(offers["coupon_threshold"]).astype(float)
                 .fillna(0).to_numpy(), 0.0)
    Y = np.where(treated, pd.Series(arm).map(offers["discount"]).astype(float)
                 .fillna(0).to_numpy(), 0.0)

    # baseline P(buy in the window): alive at the start (not dropped out in between)
    first_day = np.where(bought, 0, -1)
    dropout_day = np.where(alive_T, dropped_at, 0)  # -1: not dropped out by the end
    p0_all, alive_all = camp.window_state(people, first_day, dropout_day, t0, window, cum,
                                          params)
    tr = camp._traits(people, pi)
    p0, alive = p0_all[pi], alive_all[pi]
    waves = design["waves"].sort_values("wave").reset_index(drop=True)
    o1 = tr["open_prob"]
    o_any = open_any(o1, len(waves))
    Xr = np.where(treated, X, offers["coupon_threshold"].iloc[0])
    Yr = np.where(treated, Y, offers["discount"].iloc[0])
    resp_t = camp.offer_response(tr, p0, alive, o_any, Xr, Yr, model)
    resp_c = camp.offer_response(tr, p0, alive, o_any, np.zeros(m), 0.0, model)

    # sends and opens, wave by wave: one open draw per person, shown on their primary record
    opened_on = np.full(m, -1)  # day index of the person's first open
    is_primary = np.zeros(len(dm), dtype=bool)
    is_primary[primary] = True
    sends = []
    for w in waves.itertuples(index=False):
        reach = treated.copy()
        if w.audience == "non_openers":
            reach &= opened_on < 0
        p_open = np.where(opened_on < 0, o1 if w.wave == 1 else 0.5 * o1, o1)
        person_open = reach & (rng.random(m) < p_open)
        k = np.flatnonzero(row_treated & reach[u_of_row])
        is_open = person_open[u_of_row[k]] & is_primary[k]
        sent = pd.Timestamp(w.send_on) + pd.Timedelta(hours=SEND_HOUR)
        opened_on[person_open & (opened_on < 0)] = (pd.Timestamp(w.send_on) - start).days
        sends.append(camp.send_rows(cid, dm["record_id"].to_numpy()[k], int(w.wave),
                                    w.send_channel, np.datetime64(sent, "ns"), is_open, rng))
    opened = opened_on >= 0

    # one draw per member in the window (common random numbers with the truth above)
    p_now = np.where(treated & opened, resp_t["p_buy_opened"], p0)
    buys = rng.random(m) < p_now
    basket = np.exp(tr["basket_mu"] + tr["basket_sigma"] * rng.standard_normal(m))
    q = model["topup_prob_base"] + model["topup_prob_slope"] * tr["price_sensitivity"]
    near = (basket < X) & (basket >= X * (1 - tr["topup_range"]))
    topup = treated & opened & near & (rng.random(m) < q)
    basket = np.where(topup, X * (1 + 0.05 * rng.random(m)), basket)
    redeem = treated & opened & buys & (basket >= X) & (X > 0)
    from_day = np.where(redeem, np.maximum(opened_on, t0), t0)
    buy_day = from_day + (rng.random(m) * (t0 + window - from_day)).astype(int)
    buy_day = np.minimum(buy_day, t0 + window - 1)

    in_win = (natural["day"] >= t0) & (natural["day"] < t0 + window) & natural["p"].isin(pi)
    drawn = pd.DataFrame({
        "p": pi[buys], "day": buy_day[buys], "basket": basket[buys],
        "coupon_discount": np.where(redeem, Y, 0.0)[buys],
        "campaign_id": np.where(redeem, cid, None)[buys],
        "coupon_threshold": np.where(redeem, X, np.nan)[buys]})
    purchases = pd.concat([natural[~in_win].assign(basket=np.nan, coupon_discount=0.0,
                                                   campaign_id=None, coupon_threshold=np.nan),
                           drawn], ignore_index=True)
    purchases = purchases.sort_values(["day", "p"], kind="stable").reset_index(drop=True)

    stream = f"simulate-orders:{cid}"
    new_orders, items = commerce.build_orders(
        people, raw["products"], raw["stores"], recs, purchases, params, start, stream=stream,
        order_id_offset=_ids_after(orders["order_id"], "O"))
    new_orders = new_orders.sort_values("ordered_at", kind="stable").reset_index(drop=True)
    red = new_orders[new_orders["coupon_discount"] > 0]
    redemptions = pd.DataFrame({
        "coupon_id": fmt_ids("CP", len(red), 8,
                             start=_ids_after(raw["coupon_redemptions"]["coupon_id"], "CP")),
        "campaign_id": red["campaign_id"].to_numpy(),
        "record_id": red["record_id"].to_numpy(),
        "order_id": red["order_id"].to_numpy(),
        "coupon_threshold": red["_threshold"].to_numpy(),
        "discount": red["coupon_discount"].to_numpy(),
        "redeemed_at": red["ordered_at"].to_numpy(),
    })
    new_orders = new_orders.drop(columns=["_p", "_threshold"])
    # behaviour on the new days: the funnel in front of each online order, and browsing
    ev_params = {**params, "seed": int(params["seed"]) * 7919 + zlib.crc32(cid.encode())}
    people_drop = people.assign(dropout_date=pd.to_datetime(np.where(
        alive_T & (dropped_at >= 0),
        (start + pd.to_timedelta(np.maximum(dropped_at, 0), "D")).to_numpy(),
        people["dropout_date"].to_numpy())))
    events = commerce.make_events(people_drop, raw["products"], recs, new_orders, items,
                                  ev_params, data_end + pd.Timedelta(days=1), ext_end)
    events["event_id"] = fmt_ids("E", len(events), 10,
                                 start=_ids_after(raw["events"]["event_id"], "E"))

    campaign_row = design["campaigns"].assign(
        start_date=pd.to_datetime(design["campaigns"]["start_date"]),
        end_date=pd.to_datetime(design["campaigns"]["end_date"]))
    outcomes = pd.DataFrame({
        "campaign_id": cid, "person_id": people["person_id"].to_numpy()[pi],
        "group": np.where(treated, "treatment", "control"), "arm": arm,
        "p_buy_control": resp_c["p_buy"], "p_buy_treated": resp_t["p_buy"],
        "margin_control": resp_c["margin"], "margin_treated": resp_t["margin"],
        "bought": buys})
    # the world's clock: the design was made on its last day (a plan made today for a world
    # that ended earlier would otherwise be assigned after its own start)
    assigned = min(pd.Timestamp(dm["assigned_at"].min()), c_start - pd.Timedelta(days=2))
    assigned = max(assigned, data_end + pd.Timedelta(days=1))
    tables = {
        "campaigns": campaign_row, "campaign_offers": design["offers"],
        "campaign_members": dm.assign(assigned_at=assigned),
        "campaign_sends": pd.concat(sends, ignore_index=True),
        "orders": new_orders, "order_items": items, "events": events,
        "coupon_redemptions": redemptions, "truth_campaign_outcomes": outcomes,
    }
    t = outcomes["group"] == "treatment"
    true_lift = {str(a): float((g["p_buy_treated"] - g["p_buy_control"]).mean())
                 for a, g in outcomes[t].groupby("arm")}
    summary = {
        "campaign_id": cid, "data_end_before": data_end.date().isoformat(),
        "data_end_after": ext_end.date().isoformat(), "members": m,
        "treated": int(treated.sum()), "control": int((~treated).sum()),
        "sends": int(sum(len(s) for s in sends)), "opened_share": float(opened[treated].mean()),
        "conversion_treated": float(buys[treated].mean()),
        "conversion_control": float(buys[~treated].mean()) if (~treated).any() else None,
        "true_lift_by_arm": true_lift, "orders": len(new_orders),
        "redemptions": len(redemptions), "events": len(events),
    }
    return Simulated(tables, summary)
