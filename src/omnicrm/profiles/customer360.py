"""The customer 360: one row per person of ``person_features`` joining what every capability
knows of them (no personal data: person ids and derived values only): channels registered
on, value tier, lifecycle stage, RFM cell, tags, demographics, CLV / P(alive) / expected
purchases, churn probability, win-back membership, browse interests and the campaign and
coupon history."""

from __future__ import annotations

import pandas as pd

from omnicrm.contracts import CHANNELS

HISTORY_COLUMNS = ["campaigns_addressed", "coupons_sent", "coupons_redeemed",
                   "coupon_value_redeemed", "last_campaign_id", "last_campaign_date",
                   "last_campaign_group", "last_redeemed_at"]


def campaign_history(person_index: pd.DataFrame, campaign_members: pd.DataFrame,
                     campaigns: pd.DataFrame, coupon_redemptions: pd.DataFrame,
                     cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per person with any campaign before ``cutoff`` (indexed by person_id): campaigns that
    addressed them (treatment or control), coupons sent (treatment assignments), coupons
    redeemed and their value, the last campaign (latest assignment; its id, start date and
    group) and the last redemption time. A person with two records in one campaign counts
    it once."""
    person_of = person_index.drop_duplicates("record_id").set_index("record_id")["person_id"]
    m = campaign_members[campaign_members["assigned_at"] < cutoff]
    m = m.assign(person_id=m["record_id"].map(person_of)).dropna(subset=["person_id"])
    # one row per person x campaign: treated if any of their records was
    m = (m.assign(treated=m["group"] == "treatment")
         .sort_values(["person_id", "campaign_id", "treated"], kind="stable")
         .drop_duplicates(["person_id", "campaign_id"], keep="last"))
    start = campaigns.set_index("campaign_id")["start_date"]
    last = (m.sort_values(["person_id", "assigned_at", "campaign_id"], kind="stable")
            .drop_duplicates("person_id", keep="last").set_index("person_id"))
    hist = pd.DataFrame({
        "campaigns_addressed": m.groupby("person_id").size(),
        "coupons_sent": m.groupby("person_id")["treated"].sum(),
        "last_campaign_id": last["campaign_id"],
        "last_campaign_date": pd.to_datetime(last["campaign_id"].map(start)),
        "last_campaign_group": last["group"]})
    r = coupon_redemptions[coupon_redemptions["redeemed_at"] < cutoff]
    r = r.assign(person_id=r["record_id"].map(person_of)).dropna(subset=["person_id"])
    red = r.groupby("person_id").agg(coupons_redeemed=("coupon_id", "size"),
                                     coupon_value_redeemed=("discount", "sum"),
                                     last_redeemed_at=("redeemed_at", "max"))
    hist = hist.join(red, how="outer")
    for c in ("campaigns_addressed", "coupons_sent", "coupons_redeemed"):
        hist[c] = hist[c].fillna(0).astype("int64")
    hist["coupon_value_redeemed"] = hist["coupon_value_redeemed"].fillna(0.0)
    hist.index = hist.index.astype(str)
    return hist[HISTORY_COLUMNS]


def _by_person(frame: pd.DataFrame, persons: pd.Series, columns: list[str]) -> pd.DataFrame:
    """``columns`` of a per-person table, aligned to ``persons`` (missing persons: NaN)."""
    table = frame.drop_duplicates("person_id").set_index("person_id")
    return table.reindex(persons)[columns].reset_index(drop=True)


def customer_360(person_features: pd.DataFrame, customer_segments: pd.DataFrame,
                 customer_rfm: pd.DataFrame, person_demographics: pd.DataFrame,
                 customer_value: pd.DataFrame, churn_scores: pd.DataFrame,
                 winback_audience: pd.DataFrame, browse_profile: pd.DataFrame,
                 history: pd.DataFrame) -> pd.DataFrame:
    """One row per person of ``person_features``, in its order. Churn scores exist for
    today's active buyers only and the win-back audience is a selection: elsewhere the
    churn probability is NaN and ``winback`` False."""
    f = person_features.reset_index(drop=True)
    persons = f["person_id"]
    out = f[["person_id", "cutoff_date"]].copy()
    has = f[[f"has_{c}" for c in CHANNELS]].astype(bool)
    out["channels"] = [",".join(c for c, on in zip(CHANNELS, row, strict=True) if on)
                       for row in has.itertuples(index=False)]
    out["n_channels"] = has.sum(axis=1).astype("int64")
    out[["recency_days", "frequency", "monetary", "spend_year"]] = \
        f[["recency_days", "frequency", "monetary", "spend_year"]]
    seg = _by_person(customer_segments, persons, [
        "value_tier", "value_tier_name", "lifecycle_stage", "rfm_state", "preferred_category",
        "preferred_channel", "price_sensitive_score",
        *[c for c in customer_segments.columns if c.startswith("tag_")]])
    tag_cols = [c for c in seg.columns if c.startswith("tag_")]
    seg.insert(len(seg.columns) - len(tag_cols), "tags", [
        ",".join(c.removeprefix("tag_") for c, on in zip(tag_cols, row, strict=True)
                 if on is True or on == 1) or None
        for row in seg[tag_cols].itertuples(index=False)])
    out = pd.concat([out, seg.drop(columns=tag_cols)], axis=1)
    out = pd.concat([out, _by_person(customer_rfm, persons,
                                     ["rfm_cell", "rfm_code", "r_score", "f_score",
                                      "m_score"])], axis=1)
    out = pd.concat([out, _by_person(person_demographics, persons,
                                     ["gender", "age_band", "province", "city_tier"])], axis=1)
    out = pd.concat([out, _by_person(customer_value, persons,
                                     ["p_alive", "expected_purchases_90d", "clv_12m"])], axis=1)
    churn = [c for c in churn_scores.columns
             if c.startswith("churn_") and c.endswith("d_probability")]
    out = pd.concat([out, _by_person(churn_scores, persons, churn)], axis=1)
    out["churn_rank"] = _by_person(churn_scores, persons, ["churn_rank"])["churn_rank"] \
        .astype("Int64")
    win = _by_person(winback_audience, persons, ["winback_rank"])["winback_rank"]
    out["winback"] = win.notna().to_numpy()
    out["winback_rank"] = win.astype("Int64")
    out = pd.concat([out, _by_person(browse_profile, persons,
                                     ["browse_typology", "top_interest_category",
                                      "interested_categories"])], axis=1)
    hist = history.reindex(persons).reset_index(drop=True)
    for c in ("campaigns_addressed", "coupons_sent", "coupons_redeemed"):
        hist[c] = hist[c].fillna(0).astype("int64")
    hist["coupon_value_redeemed"] = hist["coupon_value_redeemed"].fillna(0.0)
    return pd.concat([out, hist[HISTORY_COLUMNS]], axis=1)
