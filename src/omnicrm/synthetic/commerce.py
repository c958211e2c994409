"""Stores, the SKU catalogue, orders with their items, and online behaviour events, driven by
each person's latent purchase rate, dropout, basket size and preferences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.chinese.divisions import admin_divisions, short_name

from .common import DAY_NS, calendar, fmt_ids, rng_for, sample_days, seasonality
from .persons import COLOURS

STYLES = ("basic", "business", "street", "sport", "elegant", "trendy")

FESTIVAL_DAYS = ["1111", "0618", "1212"]  # promotion days (month-day): Double 11, 618, Double 12


def make_stores(params: dict, start: pd.Timestamp) -> pd.DataFrame:
    rng = rng_for(params["seed"], "stores")
    div = admin_divisions()
    per_tier = {1: 3, 2: 2, 3: 1}
    rows = []
    for city, grp in div.groupby("city", sort=False):
        tier = int(grp["city_tier"].iloc[0])
        for k in range(per_tier[tier]):
            d = grp.iloc[int(rng.integers(0, len(grp)))]
            rows.append({"store_name": f"{short_name(city)}{short_name(d['district'])}店"
                                       + ("" if k == 0 else str(k + 1)),
                         "province": d["province"], "city": city, "district": d["district"],
                         "city_tier": tier})
    stores = pd.DataFrame(rows)
    stores.insert(0, "store_id", fmt_ids("S", len(stores), 4))
    opened = start - pd.to_timedelta(rng.integers(30, 3000, len(stores)), unit="D")
    stores["opened_on"] = opened.normalize()
    return stores


def make_products(params: dict, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    rng = rng_for(params["seed"], "products")
    cats = params["categories"]
    n_per = int(params["skus_per_category"])
    brands = params["brands"]
    rows = []
    for c, price in cats.items():
        launched = np.where(rng.random(n_per) < 0.5,
                            rng.integers(-900, 0, n_per),
                            rng.integers(0, (end - start).days, n_per))
        b = rng.integers(0, len(brands), n_per)
        rows.append(pd.DataFrame({
            "category": c,
            "brand": np.array([x["name"] for x in brands])[b],
            "imported": np.array([x["imported"] for x in brands])[b],
            "colour": np.asarray(COLOURS)[rng.integers(0, len(COLOURS), n_per)],
            "style": np.asarray(STYLES)[rng.integers(0, len(STYLES), n_per)],
            "list_price": np.round(price * rng.lognormal(0, 0.35, n_per)
                                   * np.where(np.array([x["imported"] for x in brands])[b],
                                              1.6, 1.0), -1) - 1,
            "launched_on": start + pd.to_timedelta(np.sort(launched), unit="D"),
        }))
    products = pd.concat(rows, ignore_index=True)
    products.insert(0, "sku", fmt_ids("SKU", len(products), 6))
    return products


def purchase_days(persons: pd.DataFrame, params: dict, start: pd.Timestamp, end: pd.Timestamp
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """BG/NBD-style purchase process: a first purchase after joining, then Poisson purchases
    at the person's seasonal rate until they drop out (after each purchase with their dropout
    probability). Returns (person index ``p``, day index ``day``) of every natural purchase,
    each person's first-purchase day and the day they dropped out (both -1 if none)."""
    rng = rng_for(params["seed"], "purchases")
    days = calendar(start, end)
    season = seasonality(days)
    cum = np.r_[0.0, np.cumsum(season)]
    n, T = len(persons), len(days)
    first_seen = ((pd.to_datetime(persons["first_seen"]) - start).dt.days).to_numpy()
    buyer = rng.random(n) < params["buyer_share"]
    first_day = first_seen + rng.exponential(params["days_to_first_purchase"], n).astype(int)
    buyer &= first_day < T
    first_day = np.minimum(first_day, T - 1)
    rate = persons["purchase_rate"].to_numpy() / 365.0
    # expected count over the rest of the horizon, under the seasonal intensity
    mass = cum[T] - cum[first_day + 1]
    n_max = np.where(buyer, rng.poisson(rate * mass), 0)
    # repeat purchases allowed before dropping out: geometric in the dropout probability
    p = persons["dropout_prob"].to_numpy()
    allowed = rng.geometric(p) - 1  # 0 = drops out right after the first purchase
    pid = np.repeat(np.arange(n), n_max)
    lo = np.repeat(first_day + 1, n_max)
    d = sample_days(cum, lo, np.full(len(lo), T), rng) if len(lo) else lo
    order = np.lexsort((d, pid))
    pid, d = pid[order], d[order]
    starts = np.r_[0, np.cumsum(n_max)[:-1]]
    k = np.arange(len(pid)) - np.repeat(starts, n_max)
    keep = k < allowed[pid]
    pid, d = pid[keep], d[keep]
    n_repeat = np.bincount(pid, minlength=n)
    dropped = buyer & (allowed < n_max)
    last_day = first_day.copy()
    if len(pid):
        last_idx = np.r_[np.flatnonzero(np.diff(pid)), len(pid) - 1]
        last_day[pid[last_idx]] = d[last_idx]
    dropout_day = np.where(dropped, np.where(n_repeat > 0, last_day, first_day), -1)
    b = np.flatnonzero(buyer)
    all_pid = np.r_[b, pid]
    all_day = np.r_[first_day[b], d]
    return (pd.DataFrame({"p": all_pid, "day": all_day}), np.where(buyer, first_day, -1),
            dropout_day)


def order_channels(persons: pd.DataFrame, recs: pd.DataFrame, p_idx: np.ndarray,
                   when: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each purchase of person ``p_idx`` at day ``when`` (datetime64, midnight): the
    channel, member record and registration time of the record it is placed in, following the
    person's own channel preference among the records registered by that day. A purchase
    before any registration (only possible on the person's first day) goes to their earliest
    record."""
    r = recs.sort_values(["p", "registered_at", "record_id"]).reset_index(drop=True)
    # weights: a random channel taste per record; duplicate registrations are used less
    w = np.where(r["duplicate_registration"].to_numpy(), 0.4, 1.0) * rng.gamma(1.0, 1.0, len(r))
    counts = np.bincount(r["p"].to_numpy(), minlength=len(persons))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    reg = r["registered_at"].to_numpy().astype("datetime64[D]")
    k_max = int(counts.max()) if len(counts) else 1
    choice = np.full(len(p_idx), -1, dtype=np.int64)
    best = np.full(len(p_idx), -np.inf)
    day = when.astype("datetime64[D]")
    # a weighted draw among the open records = the max of w-scaled exponential keys
    for k in range(k_max):
        has = counts[p_idx] > k
        j = np.where(has, starts[p_idx] + k, 0)
        open_ = has & (reg[j] <= day)
        key = np.where(open_, np.log(rng.random(len(p_idx))) / w[j], -np.inf)
        take = key > best
        choice = np.where(take, j, choice)
        best = np.where(take, key, best)
    choice = np.where(choice < 0, starts[p_idx], choice)  # earliest record
    return (r["channel"].to_numpy()[choice], r["record_id"].to_numpy()[choice],
            r["registered_at"].to_numpy()[choice])


def basket_values(persons: pd.DataFrame, p_idx: np.ndarray, rng) -> np.ndarray:
    mu = persons["basket_mu"].to_numpy()[p_idx]
    sigma = persons["basket_sigma"].to_numpy()[p_idx]
    return np.exp(mu + sigma * rng.standard_normal(len(p_idx)))


def build_orders(persons: pd.DataFrame, products: pd.DataFrame, stores: pd.DataFrame,
                 recs: pd.DataFrame, purchases: pd.DataFrame, params: dict,
                 start: pd.Timestamp, stream: str = "orders",
                 order_id_offset: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn purchases (person index ``p``, ``day``, optional ``basket``, ``coupon_discount``,
    ``campaign_id``) into orders and order items. The paid amount before any coupon is the
    basket value; promotions discount list prices; items follow category, colour and
    new-arrival preferences. Order ids start at ``order_id_offset`` (``O000000001`` by
    default), so a second batch of orders can continue the numbering."""
    rng = rng_for(params["seed"], stream)
    n = len(purchases)
    p_idx = purchases["p"].to_numpy()
    day = purchases["day"].to_numpy()
    when = start + pd.to_timedelta(day, unit="D")
    channel, record, registered = order_channels(persons, recs, p_idx, when.to_numpy(), rng)
    basket = basket_values(persons, p_idx, rng)
    if "basket" in purchases:  # campaign-window purchases come with their basket drawn
        given = purchases["basket"].to_numpy(dtype=float)
        basket = np.where(np.isnan(given), basket, given)
    sens = persons["price_sensitivity"].to_numpy()[p_idx]
    festival = np.isin(when.strftime("%m%d"), FESTIVAL_DAYS)
    base, slope, festive, top = params["latent"]["promo"]
    promo = rng.random(n) < np.clip(base + slope * sens + festive * festival, 0, top)
    disc_rate = np.where(promo, rng.choice([0.1, 0.2, 0.3, 0.5], n, p=[0.4, 0.3, 0.2, 0.1]), 0.0)
    list_total = basket / (1 - disc_rate)

    # --- items: categories by preference, then a SKU by popularity, colour and novelty ---
    cats = list(params["categories"])
    prefs = persons[[f"pref_{c}" for c in cats]].to_numpy()[p_idx]
    typical = np.asarray(list(params["categories"].values()), dtype=float)
    exp_price = prefs @ typical
    k = np.clip(np.round(list_total / exp_price * rng.uniform(0.7, 1.3, n)), 1, 8).astype(int)
    item_order = np.repeat(np.arange(n), k)
    m = len(item_order)
    cp = np.cumsum(prefs[item_order], axis=1)
    cat = (rng.random(m)[:, None] > cp / cp[:, -1:]).sum(axis=1)
    cat = np.minimum(cat, len(cats) - 1)
    prod = products.reset_index(drop=True)
    prod_cat = prod["category"].map({c: i for i, c in enumerate(cats)}).to_numpy()
    launch_day = ((prod["launched_on"] - start).dt.days).to_numpy()
    cat_start = np.searchsorted(prod_cat, np.arange(len(cats)))
    cat_size = np.bincount(prod_cat, minlength=len(cats))
    # three candidates per item (skewed to the popular low indices); keep the one that best
    # matches the person's taste
    cand = cat_start[cat][:, None] + np.minimum(
        (rng.random((m, 3)) ** 2.2 * cat_size[cat][:, None]).astype(int),
        cat_size[cat][:, None] - 1)
    item_day = day[item_order]
    launched = launch_day[cand] <= item_day[:, None]
    colour_ok = (prod["colour"].to_numpy()[cand]
                 == persons["favourite_colour"].to_numpy()[p_idx][item_order][:, None])
    trend = persons["trend_chaser"].to_numpy()[p_idx][item_order]
    recency = np.where(launched, launch_day[cand], -10**6)
    score = (launched * 100 + colour_ok * 10 * (rng.random(m) < 0.6)[:, None]
             + np.where(trend[:, None], recency / 1000.0, rng.random((m, 3))))
    sku_idx = cand[np.arange(m), score.argmax(axis=1)]
    cat_price = prod["list_price"].to_numpy()[sku_idx]
    # spread the order's list total over its items in proportion to catalogue prices
    share = cat_price / np.bincount(item_order, weights=cat_price, minlength=n)[item_order]
    item_list = np.round(list_total[item_order] * share, 2)
    item_paid = np.round(item_list * (1 - disc_rate[item_order]), 2)

    order_ids = fmt_ids("O", n, 9, start=int(order_id_offset))
    hour = np.where(channel == "pos", rng.integers(10, 22, n),
                    rng.choice(24, n, p=_online_hours()))
    ts = (when.to_numpy() + ((hour * 3600 + rng.integers(0, 3600, n)) * 10**9)
          .astype("timedelta64[ns]"))
    # bought on the day they registered: the card is made first, then the order rung up
    before_reg = ts < registered
    ts = np.where(before_reg, registered + (rng.integers(60, 3600, n) * 10**9)
                  .astype("timedelta64[ns]"), ts)
    # POS orders are rung up in a store of the person's city
    store = np.full(n, None, dtype=object)
    pos = channel == "pos"
    if pos.any():
        city_of = persons["city"].to_numpy()[p_idx[pos]]
        st = stores.reset_index(drop=True)
        by_city = st.groupby("city").indices
        fallback = np.arange(len(st))
        store[pos] = [st["store_id"].iat[(lambda ix: ix[rng.integers(0, len(ix))])(
            by_city.get(c, fallback))] for c in city_of]
    coupon = (purchases["coupon_discount"].to_numpy() if "coupon_discount" in purchases
              else np.zeros(n))
    paid_items = np.bincount(item_order, weights=item_paid, minlength=n)
    list_items = np.bincount(item_order, weights=item_list, minlength=n)
    orders = pd.DataFrame({
        "order_id": order_ids,
        "channel": channel,
        "record_id": record,
        "store_id": store,
        "ordered_at": ts,
        "item_count": k,
        "list_amount": np.round(list_items, 2),
        "paid_amount": np.round(paid_items - coupon, 2),
        "discount_amount": np.round(list_items - paid_items, 2),
        "coupon_discount": coupon,
        "campaign_id": (purchases["campaign_id"].to_numpy() if "campaign_id" in purchases
                        else np.full(n, None, dtype=object)),
    })
    line_no = np.arange(m) - np.repeat(np.r_[0, np.cumsum(k)[:-1]], k) + 1
    items = pd.DataFrame({
        "order_id": order_ids[item_order],
        "line_no": line_no,
        "sku": prod["sku"].to_numpy()[sku_idx],
        "quantity": 1,
        "list_price": item_list,
        "paid_price": item_paid,
    })
    orders["_p"] = p_idx
    orders["_threshold"] = (purchases["coupon_threshold"].to_numpy()
                            if "coupon_threshold" in purchases else np.nan)
    return orders, items


def _online_hours() -> np.ndarray:
    w = np.array([2, 1, .5, .3, .2, .2, .4, .8, 1.2, 1.5, 1.8, 2, 2.2, 2, 1.8, 1.8, 1.9, 2, 2.3,
                  2.8, 3.4, 3.8, 3.5, 2.6])
    return w / w.sum()


def make_events(persons: pd.DataFrame, products: pd.DataFrame, recs: pd.DataFrame,
                orders: pd.DataFrame, items: pd.DataFrame, params: dict,
                start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Online behaviour. Before an online order: views, usually an add-to-cart, sometimes a
    collect, then the purchase. Between orders: browsing sessions of views, frequent collects
    and rare carts. So carts (and past purchases) foreshadow buying; collects barely do."""
    rng = rng_for(params["seed"], "events")
    ev = params["events"]
    online = orders[orders["channel"] != "pos"]
    first_item = items.drop_duplicates("order_id").set_index("order_id")["sku"]
    o_ts = online["ordered_at"].to_numpy()
    o_sku = first_item.reindex(online["order_id"]).to_numpy()
    no = len(online)
    parts = []

    def add(kind, rec, ch, sku, ts):
        parts.append(pd.DataFrame({"channel": ch, "record_id": rec, "sku": sku,
                                   "event_type": kind, "event_at": ts}))

    def before(ts, max_days, size):
        return ts - (rng.random(size) * max_days * DAY_NS).astype("timedelta64[ns]")

    # the funnel in front of each online order
    n_views = 1 + rng.poisson(ev["views_before_purchase"], no)
    vi = np.repeat(np.arange(no), n_views)
    same = rng.random(len(vi)) < 0.6
    random_sku = products["sku"].to_numpy()[rng.integers(0, len(products), len(vi))]
    add("view", online["record_id"].to_numpy()[vi], online["channel"].to_numpy()[vi],
        np.where(same, o_sku[vi], random_sku), before(o_ts[vi], 4, len(vi)))
    cart = rng.random(no) < ev["cart_before_purchase_p"]
    add("cart", online["record_id"].to_numpy()[cart], online["channel"].to_numpy()[cart],
        o_sku[cart], before(o_ts[cart], 1.5, cart.sum()))
    col = rng.random(no) < ev["collect_before_purchase_p"]
    add("collect", online["record_id"].to_numpy()[col], online["channel"].to_numpy()[col],
        o_sku[col], before(o_ts[col], 10, col.sum()))
    add("purchase", online["record_id"].to_numpy(), online["channel"].to_numpy(), o_sku,
        o_ts + np.timedelta64(60, "s"))

    # browsing sessions without a purchase, while the person is still engaged
    on = recs[recs["channel"] != "pos"].reset_index(drop=True)
    pi = on["p"].to_numpy()
    T = (end - start).days + 1
    reg_day = np.clip((on["registered_at"] - start).dt.days.to_numpy(), 0, T - 1)
    drop = persons["dropout_date"]
    drop_day = np.where(drop.isna(), T, (pd.to_datetime(drop) - start).dt.days.fillna(T))
    active_end = np.minimum(T, drop_day[pi] + ev["engaged_days_after_dropout"]).astype(int)
    active_days = np.maximum(active_end - reg_day, 0)
    dup_w = np.where(on["duplicate_registration"], 0.3, 1.0)
    rate = (ev["browse_sessions_per_year"] + ev["browse_per_purchase_rate"]
            * persons["purchase_rate"].to_numpy()[pi]) * dup_w
    n_sess = rng.poisson(rate * active_days / 365.0)
    si = np.repeat(np.arange(len(on)), n_sess)
    s_day = reg_day[si] + (rng.random(len(si)) * active_days[si]).astype(int)
    s_ts = (start + pd.to_timedelta(s_day, unit="D")).to_numpy() + (
        rng.choice(24, len(si), p=_online_hours()) * 3600 * 10**9).astype("timedelta64[ns]")
    pref_cat = persons["favourite_category"].to_numpy()[pi[si]]
    prod_by_cat = products.groupby("category").indices
    s_sku = np.empty(len(si), dtype=object)
    for c, ix in prod_by_cat.items():
        sel = np.flatnonzero(pref_cat == c)
        s_sku[sel] = products["sku"].to_numpy()[ix[rng.integers(0, len(ix), len(sel))]]
    rec_s, ch_s = on["record_id"].to_numpy()[si], on["channel"].to_numpy()[si]
    nv = 1 + rng.poisson(ev["views_per_session"], len(si))
    vj = np.repeat(np.arange(len(si)), nv)
    jitter = (rng.random(len(vj)) * 1800 * 10**9).astype("timedelta64[ns]")
    add("view", rec_s[vj], ch_s[vj], s_sku[vj], s_ts[vj] + jitter)
    c2 = rng.random(len(si)) < ev["collect_per_session_p"]
    add("collect", rec_s[c2], ch_s[c2], s_sku[c2], s_ts[c2] + np.timedelta64(600, "s"))
    k2 = rng.random(len(si)) < ev["cart_per_session_p"]
    add("cart", rec_s[k2], ch_s[k2], s_sku[k2], s_ts[k2] + np.timedelta64(900, "s"))

    events = pd.concat(parts, ignore_index=True)
    # a record has no behaviour before it was registered (the funnel in front of a first
    # order, or a session on the registration day before the sign-up time)
    reg_of = recs.set_index("record_id")["registered_at"]
    events = events[events["event_at"].to_numpy()
                    >= reg_of.reindex(events["record_id"]).to_numpy()]
    events = events[(events["event_at"] >= start)
                    & (events["event_at"] < end + pd.Timedelta(days=1))]
    events["event_at"] = events["event_at"].dt.floor("s")
    events = events.sort_values("event_at", kind="stable").reset_index(drop=True)
    events.insert(0, "event_id", fmt_ids("E", len(events), 10))
    return events
