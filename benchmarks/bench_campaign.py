"""Campaign design: ``omnicrm.campaign.design_campaign`` (power-sized, stratified holdout,
checks, per-channel exports written as CSV) for 1M members, vs what people write first: a
pandas ``groupby(stratum).sample(frac=control_share)`` holdout with a fixed 10% share, no
checks, the same exports. Issue 18's target: ours <= 60 s at 1M members.

The members are generated here (not the synthetic world: only their tier, stage, two
covariates and channel keys matter): every person has a WeChat record, half a POS card."""

from __future__ import annotations

from pathlib import Path

from .common import GB, Options, Row, fmt_int, measure, progress

NAME = "campaign"
PEER = "pandas groupby sample"
PERSONS, PERSONS_QUICK = 1_000_000, 20_000


def _inputs(n: int) -> dict:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(5)
    ids = pd.Series([f"P{i:08d}" for i in range(n)])
    people = pd.DataFrame({"person_id": ids,
                           "value_tier_name": rng.choice(["high", "mid", "low"], n),
                           "lifecycle_stage": rng.choice(["new", "active", "dormant"], n),
                           "recency_days": rng.exponential(60, n),
                           "monetary": rng.gamma(2, 200, n)})
    wechat = "W" + ids.str[1:]
    pos = "S" + ids[::2].str[1:]
    index = pd.DataFrame({"record_id": pd.concat([wechat, pos], ignore_index=True),
                          "person_id": pd.concat([ids, ids[::2]], ignore_index=True)})
    index["channel"] = np.where(index["record_id"].str.startswith("W"), "wechat", "pos")
    keys = index.assign(member_key="k-" + index["record_id"])[["record_id", "channel",
                                                               "member_key"]]
    plan = pd.DataFrame({"person_id": ids, "coupon_threshold": 200.0,
                         "uplift_score": rng.random(n)})
    empty_c = pd.DataFrame({"campaign_id": pd.Series(dtype=str),
                            "start_date": pd.Series(dtype="datetime64[ns]"),
                            "end_date": pd.Series(dtype="datetime64[ns]")})
    empty_m = pd.DataFrame({"campaign_id": pd.Series(dtype=str),
                            "record_id": pd.Series(dtype=str), "group": pd.Series(dtype=str)})
    empty_s = pd.DataFrame({"record_id": pd.Series(dtype=str),
                            "sent_at": pd.Series(dtype="datetime64[ns]")})
    orders = pd.DataFrame({"record_id": pd.Series(dtype=str),
                           "ordered_at": pd.Series(dtype="datetime64[ns]")})
    return dict(people=people, coupon_plan=plan, person_index=index, member_keys=keys,
                campaigns=empty_c, campaign_members=empty_m, campaign_sends=empty_s,
                orders=orders)


def _settings():
    from omnicrm.campaign.settings import CampaignSettings, campaign_settings

    s = campaign_settings(None).model_dump()
    s["brief"].update(baseline_conversion=0.05, budget=1e9)
    s["balance_covariates"] = ["recency_days", "monetary", "value_tier_name"]
    return CampaignSettings.model_validate(s)


def ours(scratch: Path, persons: int) -> dict:
    import time

    import pandas as pd

    from omnicrm.campaign import design_campaign

    inputs = _inputs(persons)
    t0 = time.perf_counter()
    out = design_campaign(_settings(), **inputs, now=pd.Timestamp("2026-12-03"))
    for (channel, wave), part in out["exports"].groupby(["channel", "wave"]):
        part.to_csv(scratch / f"{channel}_wave{wave}.csv", index=False)
    s = out["design_summary"].iloc[0]
    return {"audience": int(s["audience"]), "control_share": float(s["control_share"]),
            "exported": len(out["exports"]), "seconds_without_input": time.perf_counter() - t0,
            "checks_passed": bool(out["design_checks"]["passed"].all())}


def peer(scratch: Path, persons: int) -> dict:
    import time

    inputs = _inputs(persons)
    t0 = time.perf_counter()
    people = inputs["people"]
    control = people.groupby(["value_tier_name", "lifecycle_stage"]).sample(frac=0.1,
                                                                            random_state=1)
    treated = people[~people["person_id"].isin(set(control["person_id"]))]
    keys = inputs["member_keys"].merge(inputs["person_index"][["record_id", "person_id"]],
                                       on="record_id")
    e = treated[["person_id"]].merge(keys[keys["channel"] == "wechat"], on="person_id")
    e.assign(arm="A").to_csv(scratch / "wechat_wave1.csv", index=False)
    return {"audience": len(people), "exported": len(e),
            "seconds_without_input": time.perf_counter() - t0}


def run(opts: Options) -> list[Row]:
    n = opts.persons or (PERSONS_QUICK if opts.quick else PERSONS)
    size = f"{fmt_int(n)} members"
    progress(f"{NAME}: ours = design_campaign on {size}")
    o = measure("benchmarks.bench_campaign:ours", {"persons": n}, label=f"{NAME} ours",
                preload=("omnicrm.campaign", "pandas"), max_rss_gb=opts.max_rss_gb)
    progress(f"{NAME}: ours took {o.seconds:.1f} s; peer = {PEER}")
    p = measure("benchmarks.bench_campaign:peer", {"persons": n}, label=f"{NAME} peer",
                preload=("pandas",), max_rss_gb=opts.max_rss_gb)
    oi, pi = o.info, p.info
    note = (f"design incl. generating the inputs; without them ours "
            f"{oi['seconds_without_input']:.1f} s, peer {pi['seconds_without_input']:.1f} s. "
            f"Ours: {fmt_int(oi['audience'])} in the design, control share "
            f"{oi['control_share']:.1%} from the power calculation, {fmt_int(oi['exported'])} "
            f"export rows, checks {'passed' if oi['checks_passed'] else 'FAILED'}; the peer "
            f"draws a fixed 10% holdout with no checks")
    return [Row(NAME, size, "wall time", o.seconds, p.seconds, PEER, "s", note),
            Row(NAME, size, "peak RSS", o.peak_rss / GB, p.peak_rss / GB, PEER, "GB",
                "whole process incl. interpreter + imports")]
