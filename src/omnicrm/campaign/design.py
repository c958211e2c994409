"""The next campaign as a randomised experiment: who is in the audience, who is held out (a
control share sized by a power calculation, drawn within strata), the checks before sending,
the design in the raw campaign tables' schema, and the audience exports per channel and wave.

Everything here is a pure function of its inputs and the brief's seed: the same inputs give
the same assignment, whatever the row order."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from omnicrm.reporting.stats import balance_table, power_two_proportions

from .settings import CampaignSettings


class CampaignDesignError(ValueError):
    """A brief that cannot be designed: the message says what and what would do."""


# --- sizing ------------------------------------------------------------------------------

def control_share_for(baseline: float, mde_relative: float, audience: int, arms: int,
                      alpha: float, power: float, min_share: float, max_share: float
                      ) -> tuple[float | None, float]:
    """The smallest control share in [min_share, max_share] at which every arm, against the
    shared control, detects a relative lift of ``mde_relative`` on ``baseline`` conversion
    with ``power`` (two-sided z test at ``alpha``; each arm gets an equal part of the
    treated). Returns (share or None when even ``max_share`` is too small, the relative lift
    detectable at the share returned, or at ``max_share``)."""
    target = min(baseline * (1 + mde_relative), 1 - 1e-9)

    def arm_power(share: float, p_t: float) -> float:
        n_c = audience * share
        n_t = audience * (1 - share) / arms
        if n_c < 1 or n_t < 1:
            return 0.0
        return power_two_proportions(p_t, baseline, n_t, n_c, alpha)

    def detectable(share: float) -> float:
        lo, hi = baseline, 1 - 1e-9
        if arm_power(share, hi) < power:
            return math.inf
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if arm_power(share, mid) < power else (lo, mid)
        return hi / baseline - 1

    grid = np.round(np.arange(min_share, max_share + 1e-9, 0.005), 4)
    for share in grid:
        if arm_power(float(share), target) >= power:
            return float(share), detectable(float(share))
    return None, detectable(float(max_share))


# --- randomisation -----------------------------------------------------------------------

def unit_hash(keys: pd.Series, salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per key, fixed by (key, salt): stable across runs,
    machines and row orders."""
    return np.array([int.from_bytes(hashlib.sha256(f"{salt}|{k}".encode()).digest()[:8], "big")
                     / 2.0 ** 64 for k in keys.astype(str)])


def in_global_holdout(person_ids: pd.Series, share: float, season: str) -> np.ndarray:
    """Persons kept out of every campaign of ``season`` (the programme's own control)."""
    if share <= 0:
        return np.zeros(len(person_ids), dtype=bool)
    return unit_hash(person_ids, f"global-holdout|{season}") < share


def assign_groups(audience: pd.DataFrame, strata: list[str], control_share: float,
                  arms: list[str], seed: int | str) -> pd.DataFrame:
    """person_id, stratum, group, arm: within each stratum, persons ordered by a seeded hash,
    the first round(share x size) are control and the rest go to the arms in turn (blocked:
    every stratum holds the control share and equal arms up to one person)."""
    a = audience[["person_id", *strata]].copy()
    stratum = pd.Series("all", index=a.index)
    for i, col in enumerate(strata):  # "high / active": column by column, not row by row
        part = a[col].astype(str)
        stratum = part if i == 0 else stratum + " / " + part
    a["stratum"] = stratum
    a["_key"] = unit_hash(a["person_id"], f"assign|{seed}")
    a = a.sort_values(["stratum", "_key"], kind="stable")
    rank = a.groupby("stratum").cumcount().to_numpy()
    size = a.groupby("stratum")["person_id"].transform("size").to_numpy()
    n_control = np.floor(size * control_share + 0.5)
    # a seeded random rounding remainder per stratum would be fairer for tiny strata; at
    # stratum sizes of tens or more the rounding moves the share by under a point
    control = rank < n_control
    arm_no = ((rank - n_control) % len(arms)).astype(int)
    a["group"] = np.where(control, "control", "treatment")
    a["arm"] = np.where(control, None, np.asarray(arms, dtype=object)[arm_no])
    return a.drop(columns="_key").sort_values("person_id", ignore_index=True)


# --- the design --------------------------------------------------------------------------

def _concurrent(brief, campaigns: pd.DataFrame) -> list[str]:
    start, end = pd.Timestamp(brief.start_date), pd.Timestamp(brief.end_date)
    c = campaigns[campaigns["campaign_id"] != brief.campaign_id]
    live = (pd.to_datetime(c["start_date"]) <= end) & (pd.to_datetime(c["end_date"]) >= start)
    return c.loc[live, "campaign_id"].tolist()


def _baseline(brief, campaign_members, orders, campaigns, person_index) -> float:
    """Conversion of past controls in their campaign window (the brief's, if it states one)."""
    if brief.baseline_conversion is not None:
        return float(brief.baseline_conversion)
    ctrl = campaign_members[campaign_members["group"] == "control"].merge(
        person_index[["record_id", "person_id"]], on="record_id").merge(
        campaigns[["campaign_id", "start_date", "end_date"]], on="campaign_id")
    if ctrl.empty:
        raise CampaignDesignError("no past control group to take the baseline conversion "
                                  "from: state brief.baseline_conversion")
    o = orders[["record_id", "ordered_at"]].merge(person_index[["record_id", "person_id"]],
                                                 on="record_id")
    m = ctrl[["campaign_id", "person_id", "start_date", "end_date"]].drop_duplicates(
        ["campaign_id", "person_id"]).merge(o[["person_id", "ordered_at"]], on="person_id",
                                            how="left")
    at = pd.to_datetime(m["ordered_at"])
    m["bought"] = (at >= pd.to_datetime(m["start_date"])) & (
        at < pd.to_datetime(m["end_date"]) + pd.Timedelta(days=1))
    rate = m.groupby(["campaign_id", "person_id"])["bought"].any().mean()
    return float(min(max(rate, 1e-4), 0.99))


def design_campaign(s: CampaignSettings, people: pd.DataFrame, coupon_plan: pd.DataFrame,
                    person_index: pd.DataFrame, member_keys: pd.DataFrame,
                    campaigns: pd.DataFrame, campaign_members: pd.DataFrame,
                    campaign_sends: pd.DataFrame, orders: pd.DataFrame,
                    now: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The brief ``s.brief`` designed: tables ``campaigns``, ``campaign_offers``,
    ``campaign_members`` (the raw schema: the reports and coupon models read a sent design
    like any past campaign), ``campaign_waves``, ``design_checks``, ``design_balance``,
    ``design_summary`` and ``exports`` (channel, wave, member_key, arm, coupon_threshold,
    discount: the treated only, never the control).

    ``people``: person_id with the stratification, segment and balance columns;
    ``member_keys``: record_id, channel, member_key (the channel's own id of the record)."""
    b = s.brief
    if b.campaign_id in set(campaigns["campaign_id"]):
        raise CampaignDesignError(f"campaign {b.campaign_id} already exists: choose a new id")
    missing = sorted({*s.stratify.columns, *s.balance_covariates} - set(people.columns))
    if missing:
        raise CampaignDesignError(f"the person table lacks {missing} (stratify / balance)")
    cheapest = min(a.discount for a in b.arms) * b.expected_redemption + b.cost_per_member
    if b.budget < cheapest:
        raise CampaignDesignError(f"budget ¥{b.budget:,.0f} is below the expected cost of one "
                                  f"treated member (¥{cheapest:,.2f})")
    # the audience
    pool = people.copy()
    if b.audience == "coupon_plan":
        offered = coupon_plan.loc[coupon_plan["coupon_threshold"] > 0, ["person_id",
                                                                        "uplift_score"]]
        pool = pool.merge(offered, on="person_id")
    else:
        for col, allowed in (b.segment or {}).items():
            if col not in pool:
                raise CampaignDesignError(f"segment rule on unknown column '{col}'")
            pool = pool[pool[col].astype(str).isin([str(v) for v in allowed])]
        pool = pool.assign(uplift_score=0.0)
    counts = {"candidates": len(pool)}
    # reachable in one of the waves' channels: each person's record and key there
    channels = [w.channel for w in sorted(b.waves, key=lambda w: w.wave)]
    keys = member_keys[member_keys["channel"].isin(channels)].merge(
        person_index[["record_id", "person_id"]], on="record_id")
    keys = keys.dropna(subset=["member_key"])
    pool = pool[pool["person_id"].isin(set(keys["person_id"]))]
    counts["reachable"] = len(pool)
    hold = in_global_holdout(pool["person_id"], s.global_holdout.share, s.global_holdout.season)
    counts["global_holdout"] = int(hold.sum())
    pool = pool[~hold]
    # no member in two concurrent campaigns unless the brief allows it
    live = _concurrent(b, campaigns)
    busy = set(campaign_members[campaign_members["campaign_id"].isin(live)].merge(
        person_index[["record_id", "person_id"]], on="record_id")["person_id"])
    if not b.allow_overlap:
        counts["in_concurrent_campaigns"] = int(pool["person_id"].isin(busy).sum())
        pool = pool[~pool["person_id"].isin(busy)]
    # contact-frequency cap over the window before the first send
    first_send = pd.Timestamp(min(w.send_on for w in b.waves))
    window = pd.Timedelta(days=s.frequency_window_days)
    sent_at = pd.to_datetime(campaign_sends["sent_at"])
    recent = campaign_sends[(sent_at >= first_send - window) & (sent_at < first_send)].merge(
        person_index[["record_id", "person_id"]], on="record_id")
    waves_planned = len(b.waves)
    over = recent.groupby("person_id").size()
    capped = set(over[over + waves_planned > s.frequency_cap].index)
    counts["over_frequency_cap"] = int(pool["person_id"].isin(capped).sum())
    pool = pool[~pool["person_id"].isin(capped)]
    overlap = (f"; {counts['in_concurrent_campaigns']:,} members of the concurrent "
               f"campaign(s) {', '.join(live)} were left out (allow_overlap: true keeps them, "
               "or move the dates)") if counts.get("in_concurrent_campaigns") else ""
    if pool.empty:
        raise CampaignDesignError(f"no one is left in the audience ({counts}){overlap}")
    # the holdout's size from the power calculation
    baseline = _baseline(b, campaign_members, orders, campaigns, person_index)
    arms = [a.arm for a in b.arms]

    def sized(n: int):
        return control_share_for(baseline, b.mde_relative, n, len(arms), b.alpha, b.power,
                                 s.min_control_share, s.max_control_share)

    # the budget caps the treated: keep the most responsive (uplift score) first
    mean_cost = float(np.mean([a.discount for a in b.arms])) * b.expected_redemption \
        + b.cost_per_member
    share, mde = sized(len(pool))
    if share is None:
        raise CampaignDesignError(
            f"the audience of {len(pool):,} cannot detect a {b.mde_relative:.0%} relative lift "
            f"on {baseline:.2%} conversion with {b.power:.0%} power (at a "
            f"{s.max_control_share:.0%} control share it detects {mde:.0%}): widen the "
            f"audience, use fewer arms or state a larger mde_relative{overlap}")
    affordable = int(b.budget // mean_cost)
    if len(pool) * (1 - share) > affordable:
        keep, before = int(affordable / (1 - share)), len(pool)
        pool = pool.sort_values(["uplift_score", "person_id"], ascending=[False, True]
                                ).head(keep)
        counts["over_budget"] = before - len(pool)
        share, mde = sized(len(pool))
        if share is None:
            raise CampaignDesignError(
                f"the budget ¥{b.budget:,.0f} buys {affordable:,} treated members, too few to "
                f"detect a {b.mde_relative:.0%} lift (detectable: {mde:.0%}): raise the budget "
                f"or state a larger mde_relative")
    groups = assign_groups(pool, list(s.stratify.columns), share, arms,
                           f"{s.stratify.seed}|{b.campaign_id}")
    # one record per person: the one in the earliest wave's channel that reaches them
    rank = {c: i for i, c in enumerate(dict.fromkeys(channels))}
    keys = keys.assign(_r=keys["channel"].map(rank)).sort_values(["person_id", "_r",
                                                                  "record_id"])
    primary = keys.drop_duplicates("person_id")[["person_id", "record_id"]]
    members = groups.merge(primary, on="person_id")
    assigned_at = pd.Timestamp(now).floor("s")
    campaign_members_out = pd.DataFrame({
        "campaign_id": b.campaign_id, "record_id": members["record_id"],
        "group": members["group"], "arm": members["arm"], "assigned_at": assigned_at})
    offers = pd.DataFrame([{"campaign_id": b.campaign_id, **a.model_dump()} for a in b.arms])
    campaigns_out = pd.DataFrame([{
        "campaign_id": b.campaign_id, "campaign_name": b.campaign_name,
        "start_date": b.start_date, "end_date": b.end_date, "control_share": share,
        "audience_rule": b.audience if b.audience != "segment" else f"segment {b.segment}"}])
    waves = pd.DataFrame([{"campaign_id": b.campaign_id, **w.model_dump()} for w in b.waves])
    # exports: treated members, per wave, in the wave's channel with that channel's key
    treated = members[members["group"] == "treatment"][["person_id", "arm"]].merge(
        offers[["arm", "coupon_threshold", "discount"]], on="arm")
    exports = []
    for w in b.waves:
        if w.audience != "all":
            continue  # non-openers are known only after the earlier waves were sent
        k = keys[keys["channel"] == w.channel].drop_duplicates("person_id")
        e = treated.merge(k[["person_id", "member_key"]], on="person_id")
        exports.append(e.assign(campaign_id=b.campaign_id, wave=w.wave, channel=w.channel,
                                send_channel=w.send_channel, send_on=w.send_on)
                       [["campaign_id", "wave", "channel", "send_channel", "send_on",
                         "member_key", "arm", "coupon_threshold", "discount"]])
    exports_out = pd.concat(exports, ignore_index=True) if exports else pd.DataFrame(
        columns=["campaign_id", "wave", "channel", "send_channel", "send_on", "member_key",
                 "arm", "coupon_threshold", "discount"])
    # checks before sending
    extra = [c for c in s.balance_covariates if c not in members]
    frame = members.merge(people[["person_id", *extra]], on="person_id")
    frame["treated"] = frame["group"] == "treatment"
    numeric = [c for c in s.balance_covariates if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in s.balance_covariates if c not in numeric]
    balance = balance_table(frame, "treated", numeric, categorical, s.smd_threshold)
    n_t = int(frame["treated"].sum())
    expected_cost = n_t * mean_cost
    checks = pd.DataFrame([
        {"check": "groups balanced on pre-campaign covariates",
         "passed": bool(balance["balanced"].all()),
         "detail": f"{int((~balance['balanced']).sum())} of {len(balance)} covariates off"},
        {"check": "no member in a concurrent campaign",
         "passed": b.allow_overlap or not members["person_id"].isin(busy).any(),
         "detail": (f"concurrent: {', '.join(live)}; "
                    f"{counts.get('in_concurrent_campaigns', 0):,} members left out")
         if live else "no concurrent campaign"},
        {"check": "expected cost within budget", "passed": bool(expected_cost <= b.budget),
         "detail": f"¥{expected_cost:,.0f} of ¥{b.budget:,.0f}"},
        {"check": "contact-frequency cap",
         "passed": not members["person_id"].isin(capped).any(),
         "detail": f"{counts['over_frequency_cap']:,} members at the cap of {s.frequency_cap} "
                   f"messages in {s.frequency_window_days} days left out"},
        {"check": "control group never exported",
         "passed": not exports_out["member_key"].isin(
             set(keys.loc[keys["person_id"].isin(
                 members.loc[members["group"] == "control", "person_id"]), "member_key"])).any(),
         "detail": f"{len(exports_out):,} export rows"},
    ])
    summary = pd.DataFrame([{
        "campaign_id": b.campaign_id, **counts, "audience": len(members),
        "treatment": n_t, "control": int((~frame["treated"]).sum()), "control_share": share,
        "baseline_conversion": baseline, "mde_relative_target": b.mde_relative,
        "mde_relative_detectable": mde, "arms": len(arms), "expected_cost": expected_cost,
        "budget": b.budget}])
    return {"campaigns": campaigns_out, "campaign_offers": offers,
            "campaign_members": campaign_members_out, "campaign_waves": waves,
            "design_checks": checks, "design_balance": balance, "design_summary": summary,
            "exports": exports_out}


# --- keys and later waves ----------------------------------------------------------------

EXPORT_COLUMNS = ["campaign_id", "wave", "channel", "send_channel", "send_on", "member_key",
                  "arm", "coupon_threshold", "discount"]


def member_key_table(tables: dict[str, pd.DataFrame], keys: dict[str, str]) -> pd.DataFrame:
    """record_id, channel, member_key: each record's id in its own channel's tool.
    ``tables``: channel -> that channel's member table; ``keys``: channel -> key column."""
    frames = []
    for channel, table in tables.items():
        column = keys.get(channel)
        if column is None:
            continue
        if column not in table:
            raise CampaignDesignError(f"campaign.member_keys.{channel}: no column '{column}' "
                                      f"in {channel}_members")
        frames.append(pd.DataFrame({"record_id": table["record_id"], "channel": channel,
                                    "member_key": table[column].astype("string")}))
    return pd.concat(frames, ignore_index=True)


def later_wave_export(wave: int, members: pd.DataFrame, offers: pd.DataFrame,
                      waves: pd.DataFrame, sends: pd.DataFrame, person_index: pd.DataFrame,
                      member_keys: pd.DataFrame) -> pd.DataFrame:
    """The export of a wave whose audience is the non-openers of the waves before it, once
    those waves' sends (with their opens) are in ``sends``: the treated persons none of whose
    records opened an earlier wave, keyed in this wave's channel (never the control)."""
    w = waves[waves["wave"] == wave]
    cid = str(members["campaign_id"].iloc[0])
    if w.empty:
        raise CampaignDesignError(f"campaign {cid} has no wave {wave} (waves: "
                                  f"{sorted(waves['wave'].tolist())})")
    w = w.iloc[0]
    earlier = sends[(sends["campaign_id"] == cid) & (sends["wave"] < wave)]
    missing = sorted(set(range(1, wave)) - set(earlier["wave"]))
    if missing:
        raise CampaignDesignError(
            f"campaign {cid}: wave(s) {missing} have no sends in campaign_sends yet; import "
            "the marketing tool's send log (with the opens) before exporting wave "
            f"{wave}")
    person = person_index.drop_duplicates("record_id").set_index("record_id")["person_id"]
    treated = members[members["group"] == "treatment"].assign(
        person_id=lambda m: m["record_id"].map(person).fillna(m["record_id"]))
    if w["audience"] == "non_openers":
        opened = earlier.loc[earlier["opened_at"].notna(), "record_id"]
        openers = set(opened.map(person).fillna(opened))
        treated = treated[~treated["person_id"].isin(openers)]
    treated = treated.drop_duplicates("person_id").merge(
        offers[["arm", "coupon_threshold", "discount"]], on="arm")
    keys = member_keys[member_keys["channel"] == w["channel"]].merge(
        person_index[["record_id", "person_id"]], on="record_id").dropna(subset=["member_key"])
    keys = keys.sort_values("record_id").drop_duplicates("person_id")
    out = treated.merge(keys[["person_id", "member_key"]], on="person_id")
    return out.assign(campaign_id=cid, wave=int(wave), channel=w["channel"],
                      send_channel=w["send_channel"], send_on=w["send_on"])[EXPORT_COLUMNS]
