"""Randomised "spend X get Y off" campaigns and the response model behind them.

The response model is the ground truth the coupon models are judged on. For one person and a
campaign window it gives, in closed form, the chance to buy and the expected revenue, margin
and discount cost with no offer and with any offer (X, Y):

- baseline: P(buy) = 1 - exp(-seasonal rate x window) if the person is still active;
- an opened coupon raises the purchase hazard by beta x g, with g growing with Y/X, with the
  person's price sensitivity and with the chance their usual basket is within reach of X;
- a basket that falls a little under X (within the person's top-up range) is topped up to X
  with probability q; every basket >= X of an opener redeems the coupon (costing Y), including
  baskets that would have been bought anyway.
Baskets are log-normal per person, so every expectation has a closed form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from .common import calendar, fmt_ids, rng_for, seasonality

TOPUP_LIFT = 1.025  # a topped-up basket lands on average 2.5% above X


def _lognormal_tail(x, mu, sigma):
    """P(V >= x) and E[V; V >= x] for V ~ LogNormal(mu, sigma)."""
    z = (np.log(x) - mu) / sigma
    mean = np.exp(mu + sigma**2 / 2)
    return norm.sf(z), mean * norm.sf(z - sigma)


def offer_response(traits: dict, p0, alive, open_p, X, Y, model: dict) -> dict:
    """Closed-form expectations for one offer (X, Y) per person (arrays broadcast).
    X = 0 means no offer. Returns p_buy, revenue, margin, cost (discounts paid plus the cost of
    sending the offer), and p_buy_opened."""
    mu, sigma = traits["basket_mu"], traits["basket_sigma"]
    s, r = traits["price_sensitivity"], traits["topup_range"]
    gm = model["gross_margin"]
    mean = np.exp(mu + sigma**2 / 2)
    base = {"p_buy": p0, "revenue": p0 * mean, "margin": p0 * gm * mean,
            "cost": np.zeros_like(p0), "p_buy_opened": p0}
    X = np.asarray(X, dtype=float)
    if np.all(X == 0):
        return base
    Xs = np.where(X > 0, X, 1.0)
    S_x, E_x = _lognormal_tail(Xs, mu, sigma)
    S_a, E_a = _lognormal_tail(Xs * (1 - r), mu, sigma)
    band_p, band_e = S_a - S_x, E_a - E_x
    q = model["topup_prob_base"] + model["topup_prob_slope"] * s
    g = (Y / Xs) / 0.1 * S_a * (model["sensitivity_floor"]
                                             + model["sensitivity_slope"]
                                             * s ** model["sensitivity_power"])
    p1 = np.where(alive, 1 - (1 - p0) * np.exp(-model["beta_active"] * g),
                  1 - (1 - p0) * np.exp(-model["beta_dormant"] * g))
    e_basket = mean + q * (Xs * TOPUP_LIFT * band_p - band_e)
    p_redeem = S_x + q * band_p
    opened_rev = p1 * (e_basket - Y * p_redeem)
    opened_margin = p1 * (gm * e_basket - Y * p_redeem)
    send = model["cost_per_offer"]
    out = {
        "p_buy": (1 - open_p) * p0 + open_p * p1,
        "revenue": (1 - open_p) * base["revenue"] + open_p * opened_rev,
        "margin": (1 - open_p) * base["margin"] + open_p * opened_margin - send,
        "cost": open_p * p1 * Y * p_redeem + send,
        "p_buy_opened": p1,
    }
    none = X == 0
    return {k: np.where(none, base[k], v) for k, v in out.items()}


def window_state(persons: pd.DataFrame, first_day, dropout_day, t0: int, window: int,
                 season_cum: np.ndarray, params: dict):
    """Baseline purchase probability in [t0, t0 + window) and whether the person is still an
    active customer at t0 (a dropped-out person or one who never buys responds much less)."""
    rate = persons["purchase_rate"].to_numpy() / 365.0
    hi = min(t0 + window, len(season_cum) - 1)
    mass = season_cum[hi] - season_cum[min(t0, hi)]
    if hi - t0 < window:  # window runs past the calendar: extend at the mean intensity
        mass += window - (hi - t0)
    active = (first_day >= 0) & (first_day < t0) & ((dropout_day < 0) | (dropout_day >= t0))
    prospect = (first_day >= t0)  # joined, first purchase still to come
    p_active = 1 - np.exp(-rate * mass)
    p_prospect = 1 - np.exp(-window / params["days_to_first_purchase"])
    p0 = np.where(active, p_active, np.where(prospect, p_prospect, 0.0))
    return p0, active | prospect


def _traits(persons: pd.DataFrame, idx=None) -> dict:
    cols = ["basket_mu", "basket_sigma", "price_sensitivity", "topup_range", "open_prob"]
    sub = persons if idx is None else persons.iloc[idx]
    return {c: sub[c].to_numpy() for c in cols}


def open_probability(open_prob):
    """Opened the first touch, or the SMS reminder sent to those who did not."""
    return open_prob + (1 - open_prob) * 0.5 * open_prob


def plan_campaigns(params: dict, start: pd.Timestamp, end: pd.Timestamp
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = rng_for(params["seed"], "campaign_plan")
    cp = params["campaigns"]
    n, window = int(cp["count"]), int(cp["window_days"])
    T = (end - start).days + 1
    first = T - int(cp["span_days"])
    step = (int(cp["span_days"]) - window - 7) // max(n - 1, 1)
    starts = start + pd.to_timedelta(first + step * np.arange(n), unit="D")
    menu = [(x, y) for x in cp["thresholds"] for y in cp["discounts"] if y < x]
    order = rng.permutation(len(menu))
    rules = np.array(cp["audience_rules"])[np.arange(n) % len(cp["audience_rules"])]
    campaigns = pd.DataFrame({
        "campaign_id": fmt_ids("C", n, 3),
        "campaign_name": [f"{d:%Y-%m} spend-and-save" for d in starts],
        "start_date": starts,
        "end_date": starts + pd.Timedelta(days=window - 1),
        "control_share": float(cp["control_share"]),
        "audience_rule": rules,
    })
    offers = []
    for i, cid in enumerate(campaigns["campaign_id"]):
        for a in range(int(cp["arms"])):
            x, y = menu[order[(i * int(cp["arms"]) + a) % len(menu)]]
            offers.append({"campaign_id": cid, "arm": f"A{a + 1}", "coupon_threshold": float(x),
                           "discount": float(y)})
    return campaigns, pd.DataFrame(offers)


CLICK_SHARE = 0.35  # of openers


def send_rows(campaign_id: str, record_ids: np.ndarray, wave: int, send_channel,
              sent: np.datetime64, is_open: np.ndarray, rng) -> pd.DataFrame:
    """campaign_sends rows of one wave: opened some hours after the send (exponential, mean
    8 h) where ``is_open``, clicked 90 s after by CLICK_SHARE of the openers."""
    n = len(record_ids)
    sent = np.datetime64(sent, "ns")
    o_at = sent + (rng.exponential(8 * 3600, n) * 10**9).astype("timedelta64[ns]")
    click = is_open & (rng.random(n) < CLICK_SHARE)
    return pd.DataFrame({
        "campaign_id": campaign_id, "record_id": record_ids, "wave": wave,
        "send_channel": send_channel, "sent_at": sent,
        "opened_at": np.where(is_open, o_at, np.datetime64("NaT")),
        "clicked_at": np.where(click, o_at + np.timedelta64(90, "s"), np.datetime64("NaT"))})


def contact_records(recs: pd.DataFrame, assigned_at: pd.Timestamp) -> pd.DataFrame:
    """One record per person that a campaign assigned at ``assigned_at`` can address, among
    the records registered by then: WeChat, else a card with a mobile, else a web account,
    else Tmall."""
    pref = {"wechat": 0, "pos": 1, "web": 2, "tmall": 3}
    r = recs[~recs["duplicate_registration"] & (recs["registered_at"] < assigned_at)].copy()
    r["rank"] = r["channel"].map(pref)
    r = r.sort_values(["p", "rank"]).drop_duplicates("p")
    return r[["p", "channel", "record_id"]]


def run_campaigns(persons: pd.DataFrame, recs: pd.DataFrame, purchases: pd.DataFrame,
                  first_day: np.ndarray, dropout_day: np.ndarray, campaigns: pd.DataFrame,
                  offers: pd.DataFrame, params: dict, start: pd.Timestamp, end: pd.Timestamp):
    """Run every campaign as a randomised experiment over the natural purchase stream.

    Audience members' natural purchases inside the window are replaced by one draw from the
    response model (common random numbers, so the potential outcomes are coherent)."""
    rng = rng_for(params["seed"], "campaigns")
    model = params["response_model"]
    cp = params["campaigns"]
    window = int(cp["window_days"])
    days = calendar(start, end)
    cum = np.r_[0.0, np.cumsum(seasonality(days))]
    first_seen = ((pd.to_datetime(persons["first_seen"]) - start).dt.days).to_numpy()
    purchases = purchases.assign(basket=np.nan, coupon_discount=0.0, campaign_id=None,
                                 coupon_threshold=np.nan)
    members, sends, truth, extra = [], [], [], []
    for c in campaigns.itertuples(index=False):
        t0 = (c.start_date - start).days
        p0_all, alive_all = window_state(persons, first_day, dropout_day, t0, window, cum, params)
        assigned = c.start_date - pd.Timedelta(days=2)
        contact = contact_records(recs, assigned)
        contact_p = contact["p"].to_numpy()
        eligible = first_seen[contact_p] < t0
        if c.audience_rule == "bought_last_365":
            last = purchases[(purchases["day"] < t0) & (purchases["day"] >= t0 - 365)]["p"]
            eligible &= np.isin(contact_p, last.to_numpy())
        elif c.audience_rule == "lapsed_90":
            recent = purchases[(purchases["day"] < t0) & (purchases["day"] >= t0 - 90)]["p"]
            eligible &= ~np.isin(contact_p, recent.to_numpy())
        pool = np.flatnonzero(eligible)
        chosen = pool[rng.random(len(pool)) < cp["audience_share"]]
        aud = contact.iloc[chosen].reset_index(drop=True)
        pi = aud["p"].to_numpy()
        m = len(pi)
        treated = rng.random(m) >= c.control_share
        arm_offers = offers[offers["campaign_id"] == c.campaign_id].reset_index(drop=True)
        arm_idx = rng.integers(0, len(arm_offers), m)
        X = np.where(treated, arm_offers["coupon_threshold"].to_numpy()[arm_idx], 0.0)
        Y = np.where(treated, arm_offers["discount"].to_numpy()[arm_idx], 0.0)
        tr = _traits(persons, pi)
        p0, alive = p0_all[pi], alive_all[pi]
        o1 = tr["open_prob"]
        opened1 = rng.random(m) < o1
        opened2 = ~opened1 & (rng.random(m) < 0.5 * o1)
        opened = opened1 | opened2
        Xa = arm_offers["coupon_threshold"].to_numpy()[arm_idx]
        Ya = arm_offers["discount"].to_numpy()[arm_idx]
        resp_t = offer_response(tr, p0, alive, open_probability(o1), Xa, Ya, model)
        resp_c = offer_response(tr, p0, alive, open_probability(o1), np.zeros(m), 0.0, model)
        u = rng.random(m)
        p_now = np.where(treated & opened, resp_t["p_buy_opened"], p0)
        bought = u < p_now
        basket = np.exp(tr["basket_mu"] + tr["basket_sigma"] * rng.standard_normal(m))
        q = model["topup_prob_base"] + model["topup_prob_slope"] * tr["price_sensitivity"]
        near = (basket < X) & (basket >= X * (1 - tr["topup_range"]))
        topup = treated & opened & near & (rng.random(m) < q)
        basket = np.where(topup, X * (1 + 0.05 * rng.random(m)), basket)
        redeem = treated & opened & bought & (basket >= X) & (X > 0)
        # replace audience members' natural purchases in the window by the drawn outcome
        in_win = ((purchases["day"] >= t0) & (purchases["day"] < t0 + window)
                  & purchases["p"].isin(pi))
        purchases = purchases[~in_win]
        first_open = np.where(opened1, 0, 3)
        buy_day = t0 + np.where(redeem, first_open + rng.integers(0, window - 3, m),
                                rng.integers(0, window, m))
        buy_day = np.minimum(buy_day, t0 + window - 1)
        extra.append(pd.DataFrame({
            "p": pi[bought], "day": buy_day[bought], "basket": basket[bought],
            "coupon_discount": np.where(redeem, Y, 0.0)[bought],
            "campaign_id": np.where(redeem, c.campaign_id, None)[bought],
            "coupon_threshold": np.where(redeem, X, np.nan)[bought]}))
        rec_ids = aud["record_id"].to_numpy()
        members.append(pd.DataFrame({
            "campaign_id": c.campaign_id, "record_id": rec_ids,
            "group": np.where(treated, "treatment", "control"),
            "arm": np.where(treated, arm_offers["arm"].to_numpy()[arm_idx], None),
            "assigned_at": assigned}))
        send_ch = aud["channel"].map({"wechat": "wechat", "pos": "sms", "web": "email",
                                      "tmall": "app"}).to_numpy()
        t_send = np.datetime64(c.start_date + pd.Timedelta(hours=10), "ns")
        for wave, sel, ch, opened_w, lag_days in (
                (1, treated, send_ch, opened1, 0), (2, treated & ~opened1, "sms", opened2, 3)):
            k = np.flatnonzero(sel)
            sends.append(send_rows(c.campaign_id, rec_ids[k], wave,
                                   ch if isinstance(ch, str) else ch[k],
                                   t_send + np.timedelta64(lag_days, "D"), opened_w[k], rng))
        truth.append(pd.DataFrame({
            "campaign_id": c.campaign_id,
            "person_id": persons["person_id"].to_numpy()[pi],
            "group": np.where(treated, "treatment", "control"),
            "arm": np.where(treated, arm_offers["arm"].to_numpy()[arm_idx], None),
            "p_buy_control": resp_c["p_buy"], "p_buy_treated": resp_t["p_buy"],
            "margin_control": resp_c["margin"], "margin_treated": resp_t["margin"],
            "bought": bought}))
    purchases = pd.concat([purchases, *extra], ignore_index=True)
    purchases = purchases.sort_values(["day", "p"], kind="stable").reset_index(drop=True)
    return (purchases, pd.concat(members, ignore_index=True),
            pd.concat(sends, ignore_index=True), pd.concat(truth, ignore_index=True))


def offer_outcomes(persons: pd.DataFrame, first_day, dropout_day, params: dict,
                   start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """truth_offer_outcomes: every person x (no offer + every menu offer) for the planning
    window that starts the day after the data ends."""
    cp = params["campaigns"]
    window = int(cp["window_days"])
    T = (end - start).days + 1
    days = calendar(start, end + pd.Timedelta(days=window + 1))
    cum = np.r_[0.0, np.cumsum(seasonality(days))]
    p0, alive = window_state(persons, first_day, dropout_day, T, window, cum, params)
    tr = _traits(persons)
    o = open_probability(tr["open_prob"])
    menu = [(0.0, 0.0)] + [(float(x), float(y)) for x in cp["thresholds"]
                           for y in cp["discounts"] if y < x]
    n = len(persons)
    none = offer_response(tr, p0, alive, o, np.zeros(n), 0.0, params["response_model"])
    parts = []
    for x, y in menu:
        r = offer_response(tr, p0, alive, o, np.full(n, x), y, params["response_model"])
        parts.append(pd.DataFrame({
            "person_id": persons["person_id"].to_numpy(), "coupon_threshold": x, "discount": y,
            "p_buy": r["p_buy"], "expected_revenue": r["revenue"],
            "expected_margin": r["margin"], "expected_cost": r["cost"],
            "incremental_margin": r["margin"] - none["margin"]}))
    return pd.concat(parts, ignore_index=True)
