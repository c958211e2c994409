"""The KPI tables against plain pandas on hand-made logs: a week where one driver changes
alone, a cohort at its 45-day edge, a member who migrates twice; the bridge to the cent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.kpi import (
    complete_periods,
    kpi_table,
    migration,
    oneid_health,
    period_aggregates,
    sales_bridge,
    second_purchase_cohorts,
    shapley_product,
    stage_rates,
    stages_at,
    to_cents,
)

MON = pd.Timestamp("2026-03-02")  # a Monday: ISO week 2026-W10
LIFECYCLE = {"dormant_days": 365, "lost_days": 730, "loyal_min_orders": 3,
             "loyal_min_spend": 2000.0, "engagement_window_days": 90}


def _order(i, record, channel, at, paid, items=1):
    return {"order_id": f"O{i}", "record_id": record, "channel": channel,
            "ordered_at": pd.Timestamp(at), "paid_amount": float(paid), "item_count": items}


def _event(i, record, channel, at, kind="view"):
    return {"event_id": f"E{i}", "record_id": record, "channel": channel, "sku": "S1",
            "event_type": kind, "event_at": pd.Timestamp(at)}


def _tables(orders, events, ids):
    return {"orders": pd.DataFrame(orders), "events": pd.DataFrame(events),
            "person_index": pd.DataFrame(ids, columns=["record_id", "person_id"])}


@pytest.fixture(scope="module")
def two_weeks():
    """Week 1: 4 online visitors, 2 buy one 100.00 order each. Week 2: 8 visitors (twice as
    many), 4 buy one 100.00 order each: conversion and AOV unchanged, visitors doubled."""
    w2 = MON + pd.Timedelta(days=7)
    ids = [(f"R{i}", f"P{i}") for i in range(10)]
    events = [_event(i, f"R{i}", "tmall", MON + pd.Timedelta(hours=10 + i)) for i in range(4)]
    events += [_event(10 + i, f"R{i}", "tmall", w2 + pd.Timedelta(hours=10 + i))
               for i in range(8)]
    orders = [_order(i, f"R{i}", "tmall", MON + pd.Timedelta(hours=12 + i), 100) for i in range(2)]
    orders += [_order(10 + i, f"R{i}", "tmall", w2 + pd.Timedelta(hours=12 + i), 100)
               for i in range(4)]
    tables = _tables(orders, events, ids)
    tiers = pd.DataFrame({"person_id": [f"P{i}" for i in range(10)], "value_tier": "mid"})
    as_of = w2 + pd.Timedelta(days=6)
    periods = complete_periods(MON, as_of, "week", 10)
    agg = period_aggregates(tables, tiers, "week", MON, as_of, "pandas")
    return tables, kpi_table(agg, periods, "week"), periods


def test_complete_weeks_stop_before_a_week_that_is_not_over():
    sunday = MON + pd.Timedelta(days=13)
    assert len(complete_periods(MON, sunday, "week", 10)) == 2
    assert len(complete_periods(MON, sunday - pd.Timedelta(days=1), "week", 10)) == 1
    assert len(complete_periods(MON + pd.Timedelta(days=1), sunday, "week", 10)) == 1


def test_the_tree_matches_a_plain_count(two_weeks):
    _, kpi, _ = two_weeks
    all_ = kpi[kpi["slice"] == "all"].set_index("period_label")
    assert all_.loc["2026-W10", ["visitors", "orders", "buyers", "sales"]].tolist() == \
        [4, 2, 2, 200.0]
    assert all_.loc["2026-W11", ["visitors", "orders", "buyers", "sales"]].tolist() == \
        [8, 4, 4, 400.0]
    assert all_.loc["2026-W11", "conversion"] == pytest.approx(0.5)
    assert all_.loc["2026-W11", "aov"] == pytest.approx(100.0)
    assert all_.loc["2026-W11", "sales_wow"] == pytest.approx(1.0)
    # P0 and P1 bought both weeks: returning, and the retention of week 1's buyers is 100%
    assert all_.loc["2026-W11", ["new_buyers", "returning_buyers"]].tolist() == [2, 2]
    assert all_.loc["2026-W11", "retention"] == pytest.approx(1.0)
    assert np.isnan(all_.loc["2026-W10", "retention"])  # no buyers the week before
    tmall = kpi[(kpi["slice"] == "channel") & (kpi["slice_value"] == "tmall")]
    assert tmall["sales"].tolist() == [200.0, 400.0]


def test_a_change_in_visitors_alone_is_bridged_to_visitors_alone(two_weeks):
    _, kpi, _ = two_weeks
    bridge = sales_bridge(kpi)
    row = bridge[bridge["slice"] == "all"].iloc[0]
    assert row["change"] == 200.0 and row["from_visitors"] == 200.0
    assert row["from_conversion"] == 0.0 and row["from_aov"] == 0.0
    # week 1: P0, P1 new (200.00); week 2: P0, P1 returning, P2, P3 new (200.00 each)
    assert row["from_new_buyers"] == 0.0 and row["from_returning_buyers"] == 200.0


def test_the_bridge_adds_up_to_the_change_to_the_cent():
    rng = np.random.default_rng(0)
    before = rng.uniform(0, 1000, (500, 3)) * (rng.random((500, 3)) > 0.05)
    after = rng.uniform(0, 1000, (500, 3)) * (rng.random((500, 3)) > 0.05)
    exact = shapley_product(before, after)
    np.testing.assert_allclose(exact.sum(axis=1), after.prod(axis=1) - before.prod(axis=1),
                               rtol=1e-9, atol=1e-6)
    change = np.round(after.prod(axis=1) * 100) - np.round(before.prod(axis=1) * 100)
    cents = to_cents(exact, change)
    assert (cents.sum(axis=1) == change).all()
    assert np.abs(cents - exact * 100).max() <= 2  # rounding moves a part by at most a cent or two


def test_bridges_of_a_real_shaped_week_sum_to_the_change(two_weeks):
    tables, _, _ = two_weeks
    orders = tables["orders"].copy()
    orders.loc[orders.index[-1], "paid_amount"] = 123.45  # AOV and visitors both move
    tiers = pd.DataFrame({"person_id": [f"P{i}" for i in range(10)], "value_tier": "mid"})
    as_of = MON + pd.Timedelta(days=13)
    kpi = kpi_table(period_aggregates({**tables, "orders": orders}, tiers, "week", MON, as_of,
                                      "pandas"), complete_periods(MON, as_of, "week", 10), "week")
    b = sales_bridge(kpi)
    parts = np.round(b[["from_visitors", "from_conversion", "from_aov"]].to_numpy() * 100)
    assert (parts.sum(axis=1) == np.round(b["change"] * 100)).all()
    assert b.loc[b["slice"] == "all", "change"].iloc[0] == pytest.approx(223.45)


def test_duckdb_and_pandas_engines_agree(two_weeks):
    tables, kpi, periods = two_weeks
    tiers = pd.DataFrame({"person_id": [f"P{i}" for i in range(10)], "value_tier": "mid"})
    as_of = MON + pd.Timedelta(days=13)
    duck = kpi_table(period_aggregates(tables, tiers, "week", MON, as_of, "duckdb"), periods,
                     "week")
    key = ["slice", "slice_value", "pno"]
    pd.testing.assert_frame_equal(duck.sort_values(key).reset_index(drop=True),
                                  kpi.sort_values(key).reset_index(drop=True),
                                  check_dtype=False)


def test_second_purchase_counts_an_order_on_the_45th_day_and_not_after():
    first = MON + pd.Timedelta(hours=9)
    ids = [("A", "PA"), ("B", "PB"), ("C", "PC")]
    orders = [_order(1, "A", "pos", first, 50),
              _order(2, "A", "pos", first + pd.Timedelta(days=45), 50),
              _order(3, "B", "pos", first, 50),
              _order(4, "B", "pos", first + pd.Timedelta(days=45, seconds=1), 50),
              _order(5, "C", "pos", first, 50)]
    tables = _tables(orders, [], ids)
    weeks = np.array(complete_periods(MON, MON + pd.Timedelta(days=90), "week", 20))
    edge = MON + pd.Timedelta(days=7 + 45 - 1)   # the cohort's window ends with this day
    c = second_purchase_cohorts(tables, edge, 45, weeks, "pandas")
    row = c[c["cohort_week"] == "2026-W10"].iloc[0]
    assert (row["new_customers"], row["second_buyers"]) == (3, 1)
    assert row["second_purchase_rate"] == pytest.approx(1 / 3) and row["complete"]
    early = second_purchase_cohorts(tables, edge - pd.Timedelta(days=1), 45, weeks, "pandas")
    assert not early.loc[early["cohort_week"] == "2026-W10", "complete"].iloc[0]


def test_a_member_who_migrates_twice_is_counted_each_time():
    """M registers, buys (registered -> purchased), then buys twice more within the year
    (purchased -> loyal): two positive migrations; N buys once and goes quiet for a year and
    more (purchased -> dormant): one negative."""
    ids = [("M", "PM"), ("N", "PN")]
    regs = pd.DataFrame({"record_id": ["M", "N"], "channel": ["pos", "web"],
                         "registered_at": [pd.Timestamp("2024-01-01")] * 2})
    orders = [_order(1, "M", "pos", "2025-03-03 10:00", 100),
              _order(2, "M", "pos", "2025-03-10 10:00", 100),
              _order(3, "M", "pos", "2025-03-11 10:00", 100),
              _order(4, "N", "web", "2024-03-01 10:00", 100)]
    tables = {**_tables(orders, [], ids), "registrations": regs,
              "events": pd.DataFrame(columns=["event_id", "record_id", "channel", "sku",
                                              "event_type", "event_at"]).astype(
                  {"event_at": "datetime64[us]"})}
    ends = [pd.Timestamp("2025-03-03"), pd.Timestamp("2025-03-04"), pd.Timestamp("2025-03-12")]
    stages = stages_at(tables, ends, LIFECYCLE, 365, "duckdb")
    got = stages.pivot(index="person_id", columns="period_end", values="lifecycle_stage")
    assert got.loc["PM"].tolist() == ["registered", "purchased", "loyal"]
    assert got.loc["PN"].tolist() == ["dormant", "dormant", "dormant"]
    m = migration(stages)
    moves = m[m["from_stage"] != m["to_stage"]]
    assert moves[["from_stage", "to_stage", "direction"]].values.tolist() == [
        ["registered", "purchased", "positive"], ["purchased", "loyal", "positive"]]
    rates = stage_rates(stages).set_index("period_end")
    assert rates["dormant_share"].tolist() == [1.0, 0.5, 0.5]
    assert rates["active_repeat_rate"].tolist() == [0.0, 0.0, 1.0]


def test_oneid_health_counts_persons_across_channels_at_each_end():
    regs = pd.DataFrame({"record_id": ["a", "b", "c", "d"],
                         "channel": ["pos", "tmall", "pos", "web"],
                         "registered_at": pd.to_datetime(["2026-01-01", "2026-02-01",
                                                          "2026-01-01", "2026-01-05"])})
    idx = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "person_id": ["P", "P", "Q", "R"]})
    h = oneid_health(regs, idx, [pd.Timestamp("2026-01-10"), pd.Timestamp("2026-03-01")])
    assert h["persons"].tolist() == [3, 3] and h["records"].tolist() == [3, 4]
    assert h["cross_channel_share"].tolist() == [0.0, pytest.approx(1 / 3)]
    assert h["pair_pos_tmall"].tolist() == [0, 1]
