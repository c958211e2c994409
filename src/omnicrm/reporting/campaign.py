"""One campaign's analysis: the member-level table (assignment, contacts, the person's
purchases across channels, pre-period covariates, segments) and every treatment-vs-control
result of the campaign report, computed with :mod:`omnicrm.reporting.stats`.

Pure functions on DataFrames; the notebook template only calls :func:`analyse_campaign` and
draws. No truth table is read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omnicrm.config import parse
from omnicrm.reporting import stats
from omnicrm.reporting.settings import RUNNER_PARAMS, reporting_settings
from omnicrm.segments.rules import buyer_stage
from omnicrm.segments.settings import Lifecycle, segment_settings

QUADRANT_ACTIONS = {
    ("high", "high"): "amplify: send to more packs like this",
    ("low", "high"): "iterate the offer: valuable baskets, weak response",
    ("low", "low"): "drop: neither converts nor spends",
    ("high", "low"): "keep, and test a higher threshold to lift the basket",
}


class CampaignDataError(ValueError):
    """A campaign that cannot be judged: unknown, no members, no control group, no data."""


@dataclass
class CampaignResults:
    """Everything the report shows, as plain tables and numbers."""

    campaign: dict
    params: dict
    notes: list[str]
    table: pd.DataFrame
    sample_ratio: dict
    balance: pd.DataFrame
    funnel: pd.DataFrame
    lifts: pd.DataFrame
    power: dict
    money: dict
    arms: pd.DataFrame
    segments: pd.DataFrame
    waves: pd.DataFrame
    repeat: dict
    quadrant: pd.DataFrame
    cumulative: pd.DataFrame
    headline: dict = field(default_factory=dict)


def _params(params: dict | None) -> dict:
    """The analysis parameters: ``params`` (None values left out) over conf's ``reporting``
    section, checked by ReportingSettings."""
    out = reporting_settings(params).model_dump()
    return {k: v for k, v in out.items() if k not in RUNNER_PARAMS}  # the runner's


def _person_map(record_ids: pd.Series, person_index: pd.DataFrame | None) -> pd.Series:
    """record_id -> person_id (OneID); a record the index does not know stands for itself."""
    rid = pd.Series(record_ids.unique())
    if person_index is None:
        return pd.Series(rid.to_numpy(), index=rid.to_numpy())
    idx = person_index.drop_duplicates("record_id").set_index("record_id")["person_id"]
    mapped = rid.map(idx)
    return pd.Series(mapped.fillna(rid).to_numpy(), index=rid.to_numpy())


def _lifecycle(given: dict | None) -> dict:
    """``segments.lifecycle`` of the project the tables come from (``load_tables`` reads it),
    else of the project around the working directory."""
    if given is None:
        return segment_settings().lifecycle.model_dump()
    return parse(Lifecycle, given, "segments.lifecycle").model_dump()


def _derived_segments(pre: pd.DataFrame, lifecycle: dict) -> pd.DataFrame:
    """Value tier from pre-period spend tertiles and lifecycle stage by the segments
    pipeline's own buyer rule (``segments.lifecycle``: recency, last year's orders and spend),
    as of the campaign start (used when no customer_segments table is available)."""
    out = pd.DataFrame(index=pre.index)
    spend = pre["pre_spend"]
    tier = pd.Series("no spend", index=pre.index, dtype=object)
    pos = spend > 0
    if pos.sum() >= 3:
        tier[pos] = pd.qcut(spend[pos].rank(method="first"), 3,
                            labels=["low", "mid", "high"]).astype(str)
    elif pos.any():
        tier[pos] = "low"
    out["value_tier_name"] = tier
    days = pre["days_since_last_order"]
    stage = buyer_stage(days.fillna(0), pre["orders_last_365"], pre["spend_last_365"],
                        lifecycle)
    out["lifecycle_stage"] = np.where(days.isna().to_numpy(), "registered", stage)
    return out


def _segments_before(tables: dict, campaign_id: str, start: pd.Timestamp
                     ) -> tuple[pd.DataFrame | None, str]:
    """The segment table to cut this campaign by, never one from after its start (a segment
    the campaign moved people into is a post-treatment cut), and a note saying which:
    ``campaign_segments`` (the segments pipeline's tiers and stages as of each campaign's
    start), else ``customer_segments`` when its cut-off is not after the start, else none
    (segments are then derived from pre-campaign orders)."""
    at_start = tables.get("campaign_segments")
    if at_start is not None and len(at_start):
        rows = at_start[at_start["campaign_id"] == campaign_id]
        if len(rows):
            return rows, (f"are the segments pipeline's as of the campaign's start "
                          f"({start.date()})")
    given = tables.get("customer_segments")
    if given is None:
        return None, ""
    cutoff = pd.to_datetime(given["cutoff_date"]).max() if "cutoff_date" in given else None
    if cutoff is not None and cutoff <= start:
        return given, (f"come from customer_segments as of {cutoff.date()}, before the "
                       "campaign started")
    when = f"as of {cutoff.date()}" if cutoff is not None else "of an unknown date"
    return None, (f"customer_segments is {when}, after the campaign started: cutting by it "
                  "would be a post-treatment cut, so it is not used (the segments pipeline "
                  "writes campaign_segments, segments as of each campaign's start).")


def build_analysis_table(campaign_id: str, tables: dict, params: dict | None = None
                         ) -> tuple[pd.DataFrame, dict, list[str]]:
    """One row per campaign member record: group, arm, contacts, the person's outcomes in the
    attribution window, pre-period covariates and segments.

    ``tables`` holds campaigns, campaign_offers, campaign_members, campaign_sends,
    coupon_redemptions, orders, and optionally person_index, customer_segments,
    member_channels (record_id, channel, registered_at) and segments_lifecycle (the
    project's ``segments.lifecycle``, for segments derived from orders)."""
    p = _params(params)
    notes: list[str] = []
    campaigns = tables["campaigns"]
    row = campaigns[campaigns["campaign_id"] == campaign_id]
    if row.empty:
        raise CampaignDataError(f"campaign {campaign_id}: not in the campaigns table")
    c = row.iloc[0]
    start = pd.Timestamp(c["start_date"])
    end = pd.Timestamp(c["end_date"]) + pd.Timedelta(days=1 + int(p["attribution_days"]))
    members = tables["campaign_members"]
    members = members[members["campaign_id"] == campaign_id].copy()
    if members.empty:
        raise CampaignDataError(f"campaign {campaign_id}: no data: it has no members in "
                                "campaign_members")
    n_t = int((members["group"] == "treatment").sum())
    if n_t == len(members):
        raise CampaignDataError(f"campaign {campaign_id}: no control group: all "
                                f"{n_t} members were treated, so no lift can be measured")
    if n_t == 0:
        raise CampaignDataError(f"campaign {campaign_id}: no treatment group: all "
                                f"{len(members)} members are in the control group")
    orders = tables["orders"]
    last_order = pd.Timestamp(orders["ordered_at"].max()) if len(orders) else None
    if last_order is None or last_order < start:
        raise CampaignDataError(f"campaign {campaign_id}: no data: orders end "
                                f"{last_order} before the campaign started {start.date()}")
    data_end = last_order.normalize() + pd.Timedelta(days=1)
    if data_end < end:
        notes.append(f"Orders run only to {last_order.date()}: the attribution window "
                     f"(to {(end - pd.Timedelta(days=1)).date()}) is not complete yet.")

    person_index = tables.get("person_index")
    if person_index is None:
        notes.append("No person_index (OneID) found: outcomes are counted per member record, "
                     "so purchases a person made through another channel are missed.")
    pmap = _person_map(pd.concat([members["record_id"], orders["record_id"]]), person_index)
    members["person_id"] = members["record_id"].map(pmap)
    shared = members["person_id"].duplicated(keep=False).sum()
    if shared:
        notes.append(f"{shared} member records belong to a person with another member record "
                     "in this campaign; each record is analysed as randomised.")
    members["treated"] = members["group"] == "treatment"

    orders = orders.assign(person_id=orders["record_id"].map(pmap))
    orders = orders[orders["person_id"].isin(members["person_id"])]
    gm = float(p["gross_margin"])
    orders = orders.assign(
        gross_margin=gm * (orders["paid_amount"] + orders["coupon_discount"]),
        margin=gm * (orders["paid_amount"] + orders["coupon_discount"])
        - orders["coupon_discount"])
    win = orders[(orders["ordered_at"] >= start) & (orders["ordered_at"] < end)]
    per = win.groupby("person_id").agg(
        orders=("order_id", "size"), revenue=("paid_amount", "sum"),
        gross_margin=("gross_margin", "sum"), margin=("margin", "sum"),
        coupon_cost=("coupon_discount", "sum"), first_order_at=("ordered_at", "min"))
    t = members.join(per, on="person_id")
    for col in ("orders", "revenue", "gross_margin", "margin", "coupon_cost"):
        t[col] = t[col].fillna(0.0)
    t["converted"] = t["orders"] > 0
    t["send_cost"] = np.where(t["treated"], float(p["cost_per_member"]), 0.0)
    t["net_margin"] = t["margin"] - t["send_cost"]

    # coupon redemptions of this campaign, by the person through any record
    red = tables["coupon_redemptions"]
    red = red[red["campaign_id"] == campaign_id]
    red_persons = set(red["record_id"].map(pmap).fillna(red["record_id"]))
    t["redeemed"] = t["person_id"].isin(red_persons)

    # contacts per wave
    sends = tables["campaign_sends"]
    sends = sends[sends["campaign_id"] == campaign_id]
    contact = sends.groupby("record_id").agg(
        waves=("wave", "nunique"), opened=("opened_at", lambda s: s.notna().any()),
        clicked=("clicked_at", lambda s: s.notna().any()))
    t = t.join(contact, on="record_id")
    t["reached"] = t["waves"].notna()
    t["waves"] = t["waves"].fillna(0).astype(int)
    t["opened"] = t["opened"].fillna(False).astype(bool)
    t["clicked"] = t["clicked"].fillna(False).astype(bool)

    # pre-period covariates (CUPED, balance, derived segments)
    pre_start = start - pd.Timedelta(days=int(p["pre_period_days"]))
    before = orders[orders["ordered_at"] < start]
    prewin = before[before["ordered_at"] >= pre_start]
    last365 = before[before["ordered_at"] >= start - pd.Timedelta(days=365)]
    pre = pd.DataFrame(index=pd.Index(t["person_id"].unique(), name="person_id"))
    pre["pre_spend"] = prewin.groupby("person_id")["paid_amount"].sum()
    pre["pre_orders"] = prewin.groupby("person_id").size()
    pre["orders_last_365"] = last365.groupby("person_id").size()
    pre["spend_last_365"] = last365.groupby("person_id")["paid_amount"].sum()
    pre["days_since_last_order"] = (start - before.groupby("person_id")["ordered_at"].max()
                                    ).dt.days
    counted = ["pre_spend", "pre_orders", "orders_last_365", "spend_last_365"]
    pre[counted] = pre[counted].fillna(0)
    segs = _derived_segments(pre, _lifecycle(tables.get("segments_lifecycle")))
    given, source = _segments_before(tables, campaign_id, start)
    wanted = p["segment_columns"]
    missing = list(wanted)
    if given is not None:
        have = [col for col in wanted if col in given.columns]
        if have:
            gs = given.drop_duplicates("person_id").set_index("person_id")[have]
            segs[have] = gs.reindex(segs.index).fillna("unknown").astype(str)
            notes.append(f"Segments {', '.join(have)} {source}.")
        missing = [col for col in wanted if col not in have]
    elif source:
        notes.append(source)
    derivable = [col for col in missing if col in segs.columns]
    if derivable:
        notes.append(f"Segments {', '.join(derivable)} are derived from pre-campaign orders "
                     "(spend tertiles; the segments pipeline's lifecycle rule), as of the "
                     "campaign's start.")
    wanted = [col for col in wanted if col in segs.columns]
    p["segment_columns"] = wanted
    pre = pre.drop(columns="spend_last_365").join(segs[wanted])
    pre["days_since_last_order"] = pre["days_since_last_order"].fillna(
        int(p["pre_period_days"]) * 3).clip(upper=int(p["pre_period_days"]) * 3)
    t = t.join(pre, on="person_id")

    channels = tables.get("member_channels")
    if channels is not None:
        ch = channels.drop_duplicates("record_id").set_index("record_id")
        t["channel"] = t["record_id"].map(ch["channel"]).fillna("unknown")
        if "registered_at" in ch:
            t["tenure_days"] = (start - t["record_id"].map(ch["registered_at"])).dt.days
    # repeat purchase: another order within repeat_days after the converting order
    rd = pd.Timedelta(days=int(p["repeat_days"]))
    first = t.loc[t["converted"], ["person_id", "first_order_at"]].drop_duplicates("person_id")
    later = orders.merge(first, on="person_id")
    later = later[(later["ordered_at"] > later["first_order_at"])
                  & (later["ordered_at"] <= later["first_order_at"] + rd)]
    t["repeat_observable"] = t["converted"] & (t["first_order_at"] + rd <= data_end)
    t["repeated"] = t["converted"] & t["person_id"].isin(later["person_id"])

    offers = tables["campaign_offers"]
    offers = offers[offers["campaign_id"] == campaign_id]
    campaign = {
        "campaign_id": campaign_id, "campaign_name": str(c["campaign_name"]),
        "start_date": start.date().isoformat(),
        "end_date": pd.Timestamp(c["end_date"]).date().isoformat(),
        "attribution_end": (end - pd.Timedelta(days=1)).date().isoformat(),
        "control_share": float(c["control_share"]), "audience_rule": str(c["audience_rule"]),
        "data_end": last_order.date().isoformat(),
        "offers": [{"arm": o.arm, "coupon_threshold": float(o.coupon_threshold),
                    "discount": float(o.discount)} for o in offers.itertuples()],
        "window_start": start, "window_end": end,
    }
    return t.reset_index(drop=True), campaign, notes


# --- results ---------------------------------------------------------------------------

def _funnel(t: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for name, g in (("treatment", t[t["treated"]]), ("control", t[~t["treated"]])):
        n = len(g)
        buyers = g[g["converted"]]
        rows[name] = {
            "members": n,
            "reach rate": g["reached"].mean(),
            "open rate (of reached)": g["opened"].sum() / max(g["reached"].sum(), 1),
            "click rate (of reached)": g["clicked"].sum() / max(g["reached"].sum(), 1),
            "redemption rate": g["redeemed"].mean(),
            "conversion rate": g["converted"].mean(),
            "buyers": int(g["converted"].sum()),
            "orders": int(g["orders"].sum()),
            "revenue": g["revenue"].sum(),
            "revenue per member": g["revenue"].mean(),
            "average order value": g["revenue"].sum() / max(g["orders"].sum(), 1),
            "gross margin per member": g["gross_margin"].mean(),
            "net margin per member": g["net_margin"].mean(),
            "coupon cost": g["coupon_cost"].sum(),
            "revenue per buyer": buyers["revenue"].mean() if len(buyers) else np.nan,
        }
    return pd.DataFrame(rows)


def _lift_rows(t: pd.DataFrame, conf: float) -> tuple[pd.DataFrame, dict]:
    tr = t["treated"].to_numpy()
    conv = t["converted"].to_numpy()
    lifts = {
        "conversion": stats.proportion_lift(int(conv[tr].sum()), int(tr.sum()),
                                            int(conv[~tr].sum()), int((~tr).sum()), conf,
                                            "conversion rate"),
        "redemption": stats.proportion_lift(int(t["redeemed"][tr].sum()), int(tr.sum()),
                                            int(t["redeemed"][~tr].sum()), int((~tr).sum()),
                                            conf, "redemption rate"),
        "revenue": stats.mean_lift(t["revenue"][tr], t["revenue"][~tr], conf,
                                   "revenue per member"),
        "gross_margin": stats.mean_lift(t["gross_margin"][tr], t["gross_margin"][~tr], conf,
                                        "gross margin per member"),
        "net_margin": stats.mean_lift(t["net_margin"][tr], t["net_margin"][~tr], conf,
                                      "net margin per member (after coupons and sends)"),
        "cuped_conversion": stats.cuped_lift(conv.astype(float), t["pre_spend"], tr, conf,
                                             "conversion rate, CUPED"),
        "cuped_revenue": stats.cuped_lift(t["revenue"], t["pre_spend"], tr, conf,
                                          "revenue per member, CUPED"),
    }
    buyers = t[t["converted"]]
    bt = buyers["treated"].to_numpy()
    if bt.sum() >= 2 and (~bt).sum() >= 2:
        aov = buyers["revenue"] / buyers["orders"]
        lifts["aov"] = stats.mean_lift(aov[bt], aov[~bt], conf,
                                       "average order value (buyers only, not randomised)")
    frame = pd.DataFrame([v.as_dict() for v in lifts.values()], index=list(lifts))
    return frame, lifts


def _group_lifts(t: pd.DataFrame, by: str, conf: float, family: str) -> pd.DataFrame:
    """Conversion and revenue lift per value of ``by``, with Holm and BH adjusted p-values
    and Bonferroni-widened (simultaneous) intervals across the family."""
    rows = []
    for value, g in t.groupby(by, dropna=False, sort=True):
        tr = g["treated"].to_numpy()
        if tr.sum() < 2 or (~tr).sum() < 2:
            continue
        conv = g["converted"].to_numpy()
        lift = stats.proportion_lift(int(conv[tr].sum()), int(tr.sum()), int(conv[~tr].sum()),
                                     int((~tr).sum()), conf)
        rev = stats.mean_lift(g["revenue"][tr], g["revenue"][~tr], conf)
        rows.append({"family": family, "dimension": by, "segment": str(value),
                     "n_treatment": int(tr.sum()), "n_control": int((~tr).sum()),
                     "conv_treatment": lift.treatment, "conv_control": lift.control,
                     "abs_lift": lift.abs_lift, "abs_low": lift.abs_low,
                     "abs_high": lift.abs_high, "rel_lift": lift.rel_lift,
                     "p_value": lift.p_value, "revenue_lift": rev.abs_lift,
                     "revenue_p_value": rev.p_value, "_x": (conv[tr].sum(), tr.sum(),
                                                           conv[~tr].sum(), (~tr).sum())})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    m = len(frame)
    frame["p_holm"] = stats.adjust_pvalues(frame["p_value"], "holm")
    frame["p_bh"] = stats.adjust_pvalues(frame["p_value"], "bh")
    simultaneous = 1 - (1 - conf) / m
    bounds = [stats.proportion_lift(*map(int, x), simultaneous) for x in frame["_x"]]
    frame["simul_low"] = [b.abs_low for b in bounds]
    frame["simul_high"] = [b.abs_high for b in bounds]
    frame["significant_holm"] = frame["p_holm"] < 1 - conf
    return frame.drop(columns="_x")


def _waves(t: pd.DataFrame, sends: pd.DataFrame, window_end: pd.Timestamp) -> pd.DataFrame:
    """Per wave: who was sent it, opened, clicked, and bought after it (before the next wave
    or the window's end). Descriptive: waves are not randomised against the control group."""
    if sends.empty:
        return pd.DataFrame()
    first = t.set_index("record_id")["first_order_at"]
    rows = []
    waves = sorted(sends["wave"].unique())
    for i, w in enumerate(waves):
        s = sends[sends["wave"] == w]
        sent_at = s["sent_at"].min()
        nxt = sends.loc[sends["wave"] == waves[i + 1], "sent_at"].min() if i + 1 < len(waves) \
            else window_end
        fo = s["record_id"].map(first)
        bought = (fo >= s["sent_at"]) & (fo < nxt)
        rows.append({"wave": int(w), "channels": ", ".join(sorted(s["send_channel"].unique())),
                     "first_sent": sent_at, "sent": len(s),
                     "open rate": s["opened_at"].notna().mean(),
                     "click rate": s["clicked_at"].notna().mean(),
                     "bought after this wave": int(bought.sum()),
                     "conversion after this wave": bought.mean()})
    return pd.DataFrame(rows)


def _cumulative(t: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    days = pd.date_range(start, end - pd.Timedelta(days=1), freq="D")
    out = {}
    for name, g in (("treatment", t[t["treated"]]), ("control", t[~t["treated"]])):
        fo = g["first_order_at"].dropna().dt.normalize()
        out[name] = [(fo <= d).sum() / len(g) for d in days]
    frame = pd.DataFrame(out, index=days)
    frame.index.name = "day"
    return frame


def _quadrant(t: pd.DataFrame, columns: list[str], min_size: int) -> pd.DataFrame:
    """Audience packs (segment combinations) of the treated group placed on conversion rate x
    average order value against the campaign's medians, with the action for each quadrant."""
    tr = t[t["treated"]]
    if not columns:
        return pd.DataFrame()
    rows = []
    for key, g in tr.groupby(columns, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        if len(g) < min_size:
            continue
        orders = g["orders"].sum()
        rows.append({"pack": " / ".join(map(str, key)), "members": len(g),
                     "conversion rate": g["converted"].mean(),
                     "average order value": g["revenue"].sum() / orders if orders else 0.0,
                     "revenue": g["revenue"].sum()})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    conv_med = frame["conversion rate"].median()
    aov_med = frame["average order value"].median()
    frame["conversion"] = np.where(frame["conversion rate"] > conv_med, "high", "low")
    frame["aov"] = np.where(frame["average order value"] > aov_med, "high", "low")
    frame["action"] = [QUADRANT_ACTIONS[(a, b)] for a, b in zip(frame["conversion"],
                                                                 frame["aov"], strict=True)]
    frame.attrs["conversion_median"] = conv_med
    frame.attrs["aov_median"] = aov_med
    return frame.sort_values(["conversion rate"], ascending=False).reset_index(drop=True)


def _repeat(t: pd.DataFrame, conf: float, days: int) -> dict:
    obs = t[t["repeat_observable"]]
    tr = obs["treated"].to_numpy()
    rep = obs["repeated"].to_numpy()
    out = {"days": days, "converted": int(t["converted"].sum()), "observable": len(obs),
           "treatment_rate": rep[tr].mean() if tr.any() else np.nan,
           "control_rate": rep[~tr].mean() if (~tr).any() else np.nan,
           "treatment_n": int(tr.sum()), "control_n": int((~tr).sum()), "lift": None}
    if tr.sum() >= 1 and (~tr).sum() >= 1:
        out["lift"] = stats.proportion_lift(int(rep[tr].sum()), int(tr.sum()),
                                            int(rep[~tr].sum()), int((~tr).sum()), conf,
                                            f"{days}-day repeat rate of converted")
    return out


def analyse_campaign(campaign_id: str, tables: dict, params: dict | None = None
                     ) -> CampaignResults:
    """Every figure of the campaign report."""
    p = _params(params)
    t, campaign, notes = build_analysis_table(campaign_id, tables, p)
    p["segment_columns"] = [col for col in p["segment_columns"] if col in t.columns]
    conf = float(p["confidence"])
    n_t, n_c = int(t["treated"].sum()), int((~t["treated"]).sum())
    numeric = [c for c in ("pre_spend", "pre_orders", "days_since_last_order", "tenure_days")
               if c in t.columns]
    categorical = [c for c in ("channel", *p["segment_columns"]) if c in t.columns]
    balance = stats.balance_table(t, "treated", numeric, categorical)
    lifts, lift_objs = _lift_rows(t, conf)
    funnel = _funnel(t)
    control_buyers = int(t.loc[~t["treated"], "converted"].sum())
    if control_buyers < int(p["min_control_buyers"]):
        notes.append(f"Only {control_buyers} control-group buyers: intervals rest on few "
                     "events and may cover less often than stated.")
    power = stats.power_summary(lift_objs["conversion"].control, n_t, n_c,
                                float(p["relevant_relative_lift"]), conf,
                                float(p["target_power"]))
    rev, gmg, net = lift_objs["revenue"], lift_objs["gross_margin"], lift_objs["net_margin"]
    coupon_cost = float(t.loc[t["treated"], "coupon_cost"].sum())
    send_cost = float(t["send_cost"].sum())
    cost = coupon_cost + send_cost
    money = {
        "incremental_revenue": rev.abs_lift * n_t,
        "incremental_revenue_low": rev.abs_low * n_t,
        "incremental_revenue_high": rev.abs_high * n_t,
        "incremental_gross_margin": gmg.abs_lift * n_t,
        "incremental_margin": net.abs_lift * n_t,
        "incremental_margin_low": net.abs_low * n_t,
        "incremental_margin_high": net.abs_high * n_t,
        "coupon_cost": coupon_cost, "send_cost": send_cost, "campaign_cost": cost,
        "roi_revenue": rev.abs_lift * n_t / cost if cost else np.nan,
        "roi_margin": gmg.abs_lift * n_t / cost if cost else np.nan,
        "roi_margin_low": gmg.abs_low * n_t / cost if cost else np.nan,
        "roi_margin_high": gmg.abs_high * n_t / cost if cost else np.nan,
    }
    arms = pd.DataFrame()
    arm_rows = []
    control = t[~t["treated"]]
    for arm, g in t[t["treated"]].groupby("arm"):
        both = pd.concat([g, control])
        both = both.assign(arm_family=str(arm))
        arm_rows.append(_group_lifts(both, "arm_family", conf, "arm").assign(segment=str(arm)))
    if arm_rows:
        arms = pd.concat(arm_rows, ignore_index=True)
        arms["p_holm"] = stats.adjust_pvalues(arms["p_value"], "holm")
        arms["p_bh"] = stats.adjust_pvalues(arms["p_value"], "bh")
        arms["significant_holm"] = arms["p_holm"] < 1 - conf
        offer = {o["arm"]: f"spend {o['coupon_threshold']:.0f} get {o['discount']:.0f} off"
                 for o in campaign["offers"]}
        arms["offer"] = arms["segment"].map(offer)
    seg_parts = [_group_lifts(t, col, conf, "segment") for col in p["segment_columns"]]
    seg_parts = [s for s in seg_parts if not s.empty]
    segments = pd.concat(seg_parts, ignore_index=True) if seg_parts else pd.DataFrame()
    if not segments.empty:  # one family across every dimension shown
        segments["p_holm"] = stats.adjust_pvalues(segments["p_value"], "holm")
        segments["p_bh"] = stats.adjust_pvalues(segments["p_value"], "bh")
        m = len(segments)
        simultaneous = 1 - (1 - conf) / m
        lows, highs = [], []
        for r in segments.itertuples():
            g = t[t[r.dimension].astype(str) == r.segment]
            tr = g["treated"].to_numpy()
            cv = g["converted"].to_numpy()
            b = stats.proportion_lift(int(cv[tr].sum()), int(tr.sum()), int(cv[~tr].sum()),
                                      int((~tr).sum()), simultaneous)
            lows.append(b.abs_low)
            highs.append(b.abs_high)
        segments["simul_low"], segments["simul_high"] = lows, highs
        segments["significant_holm"] = segments["p_holm"] < 1 - conf
    sends = tables["campaign_sends"]
    waves = _waves(t, sends[sends["campaign_id"] == campaign_id], campaign["window_end"])
    repeat = _repeat(t, conf, int(p["repeat_days"]))
    quadrant = _quadrant(t, p["segment_columns"], int(p["min_pack_size"]))
    cumulative = _cumulative(t, campaign["window_start"], campaign["window_end"])
    srm = stats.sample_ratio_test(n_t, n_c, campaign["control_share"])
    if srm["p_value"] < 0.001:
        notes.append(f"Sample-ratio mismatch: control share {srm['observed_control_share']:.1%} "
                     f"vs planned {srm['planned_control_share']:.0%} (p={srm['p_value']:.1e}).")
    conv = lift_objs["conversion"]
    headline = {
        "treatment_members": n_t, "control_members": n_c,
        "conversion_treatment": conv.treatment, "conversion_control": conv.control,
        "conversion_lift": conv.abs_lift, "conversion_lift_low": conv.abs_low,
        "conversion_lift_high": conv.abs_high, "conversion_rel_lift": conv.rel_lift,
        "conversion_p_value": conv.p_value,
        "cuped_conversion_lift": lift_objs["cuped_conversion"].abs_lift,
        "revenue_per_member_lift": rev.abs_lift,
        "incremental_revenue": money["incremental_revenue"],
        "incremental_margin": money["incremental_margin"],
        "roi_margin": money["roi_margin"], "roi_revenue": money["roi_revenue"],
        "power_at_relevant_lift": power["power_at_relevant_lift"],
    }
    return CampaignResults(campaign=campaign, params=p, notes=notes, table=t,
                           sample_ratio=srm, balance=balance, funnel=funnel, lifts=lifts,
                           power=power, money=money, arms=arms, segments=segments, waves=waves,
                           repeat=repeat, quadrant=quadrant, cumulative=cumulative,
                           headline=headline)
