"""The KPI tree per ISO week and calendar month: ``sales = visitors x conversion x AOV``, new
vs returning buyers, retention, with week-over-week and year-over-year change, and the sales
bridge (each change in sales split into its drivers, to the cent).

The heavy part (orders and events down to one row per period and slice) is written once as
narwhals lazy frames and runs on the feature engine (DuckDB, Spark or pandas); what comes back
is a few rows per period. Definitions (also in docs/kpi.md):

- ``visitors``: distinct persons with an online event (view, collect, cart, purchase) or an
  order in the period and slice. POS has no visit log: its visitors are its buyers, so POS
  conversion is orders per buyer.
- ``conversion`` = orders / visitors; ``aov`` = sales / orders; sales are paid amounts.
- ``new_buyers``: buyers whose first order ever (any channel) is in the period.
- ``retention``: the share of the previous period's buyers (in the slice) who bought again.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from omnicrm.features.engine import lazy_tables

PERIODS = ("week", "month")
EPOCH_MONDAY = pd.Timestamp("2000-01-03")
YEAR_LAG = {"week": 52, "month": 12}
SLICES = ("all", "channel", "value_tier")
NO_TIER = "no purchase"
FLOWS = ("sales", "orders", "items", "buyers", "visitors", "new_buyers", "returning_buyers",
         "sales_new", "sales_returning", "retained", "prev_buyers")
CHANGE_OF = ("sales", "orders", "visitors", "conversion", "aov", "buyers", "new_buyers",
             "items_per_order", "retention")


# --- calendar ----------------------------------------------------------------------------

def period_no(day: pd.Series | pd.DatetimeIndex, period: str) -> np.ndarray:
    """Integer index of the ISO week (Monday-based) or calendar month of each day."""
    day = pd.DatetimeIndex(day).normalize()
    if period == "week":
        return np.asarray((day - EPOCH_MONDAY).days // 7, dtype="int64")
    if period == "month":
        return np.asarray(day.year * 12 + day.month - 1, dtype="int64")
    raise ValueError(f"unknown period '{period}'; one of {PERIODS}")


def period_start(no: np.ndarray | pd.Series | int, period: str) -> pd.DatetimeIndex:
    no = np.atleast_1d(np.asarray(no, dtype="int64"))
    if period == "week":
        return pd.DatetimeIndex(EPOCH_MONDAY + pd.to_timedelta(no * 7, unit="D"))
    return pd.DatetimeIndex(pd.to_datetime({"year": no // 12, "month": no % 12 + 1, "day": 1}))


def period_end(no, period: str) -> pd.DatetimeIndex:
    """The first day after the period (exclusive end)."""
    return period_start(np.asarray(no) + 1, period)


def period_label(no, period: str) -> list[str]:
    start = period_start(no, period)
    if period == "week":
        iso = start.isocalendar()
        return [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)]
    return [d.strftime("%Y-%m") for d in start]


def complete_periods(first_day: pd.Timestamp, as_of: pd.Timestamp, period: str,
                     history: int) -> np.ndarray:
    """The periods that end on or before ``as_of`` (the last day of data), the latest
    ``history`` of them, and none that start before the data does."""
    first, last = period_no([first_day], period)[0], period_no([as_of], period)[0]
    if period_end(last, period)[0] > as_of.normalize() + pd.Timedelta(days=1):
        last -= 1  # the period of as_of is not over yet
    if period_start(first, period)[0] < first_day.normalize():
        first += 1  # nor is the first one complete
    return np.arange(max(first, last - history + 1), last + 1)


def calendar(first_day: pd.Timestamp, as_of: pd.Timestamp, period: str) -> pd.DataFrame:
    """One row per day with its period number: the small table the engine joins on."""
    days = pd.date_range(first_day.normalize(), as_of.normalize(), freq="D")
    return pd.DataFrame({"day": days.astype("datetime64[us]"), "pno": period_no(days, period)})


# --- the engine part ---------------------------------------------------------------------

def _if(cond, value=None):
    then = nw.lit(1) if value is None else value
    return nw.when(cond).then(then).otherwise(nw.lit(0))


def period_aggregates(tables: dict[str, Any], tiers: pd.DataFrame, period: str,
                      first_day: pd.Timestamp, as_of: pd.Timestamp, engine: str = "duckdb",
                      options: dict | None = None) -> pd.DataFrame:
    """Sums per period and slice (all, channel, value tier), collected from the engine.

    ``tables``: orders, events and person_index (record_id, person_id), pandas frames or
    native lazy frames of ``engine``; ``tiers``: person_id, value_tier."""
    end = (as_of.normalize() + pd.Timedelta(days=1)).to_pydatetime()
    lt = lazy_tables({"orders": tables["orders"], "events": tables["events"],
                      "ids": tables["person_index"], "calendar": calendar(first_day, as_of,
                                                                           period),
                      "tiers": tiers[["person_id", "value_tier"]]}, engine, options)
    ids = lt["ids"].select("record_id", "person_id")

    def dated(frame, column):
        return (frame.filter(nw.col(column) < nw.lit(end)).join(ids, on="record_id")
                .with_columns(day=nw.col(column).dt.truncate("1d"))
                .join(lt["calendar"], on="day"))

    orders = dated(lt["orders"], "ordered_at")
    first = (orders.group_by("person_id").agg(nw.col("pno").min().alias("first_pno")))
    per_channel = orders.group_by("person_id", "pno", "channel").agg(
        nw.len().alias("orders"), nw.col("paid_amount").sum().alias("sales"),
        nw.col("item_count").sum().alias("items"))
    per_person = per_channel.group_by("person_id", "pno").agg(
        nw.col("orders").sum(), nw.col("sales").sum(), nw.col("items").sum())
    visits = nw.concat([dated(lt["events"], "event_at").select("person_id", "pno", "channel"),
                        per_channel.select("person_id", "pno", "channel")],
                       how="vertical").unique()
    person_visits = visits.select("person_id", "pno").unique()
    tier = lt["tiers"]

    out = []
    for name in SLICES:
        if name == "channel":
            base, vis, key = per_channel, visits, ["channel"]
        elif name == "value_tier":
            base = per_person.join(tier, on="person_id", how="left")
            vis, key = person_visits.join(tier, on="person_id", how="left"), ["value_tier"]
        else:
            base, vis, key = per_person, person_visits, []
        prev = base.select("person_id", *key, (nw.col("pno") + 1).alias("pno"),
                           nw.lit(1).alias("was_buyer"))
        rows = (base.join(first, on="person_id", how="left")
                .join(prev, on=["person_id", "pno", *key], how="left")
                .with_columns(new=_if(nw.col("first_pno") == nw.col("pno")),
                              retained=_if(~nw.col("was_buyer").is_null()))
                .with_columns(sales_new=_if(nw.col("new") == 1, nw.col("sales")))
                .group_by("pno", *key)
                .agg(nw.len().alias("buyers"), nw.col("orders").sum(), nw.col("sales").sum(),
                     nw.col("items").sum(), nw.col("new").sum().alias("new_buyers"),
                     nw.col("sales_new").sum(), nw.col("retained").sum()))
        visitors = vis.group_by("pno", *key).agg(nw.len().alias("visitors"))
        bought = rows.collect(backend="pandas").to_native()
        came = visitors.collect(backend="pandas").to_native()
        frame = came.merge(bought, on=["pno", *key], how="outer")
        frame["slice"] = name
        frame["slice_value"] = frame[key[0]].fillna(NO_TIER).astype(str) if key else "all"
        out.append(frame.drop(columns=key))
    return pd.concat(out, ignore_index=True)


# --- the tree ----------------------------------------------------------------------------

def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def kpi_table(aggregates: pd.DataFrame, periods: np.ndarray, period: str) -> pd.DataFrame:
    """One row per complete period and slice: the tree's flows and ratios, with the change
    on the previous period (``*_wow`` / ``*_mom``) and on the same period a year before
    (``*_yoy``), as relative changes (NaN where the base is 0 or not in the data)."""
    agg = aggregates.copy()
    for col in ("visitors", "orders", "sales", "items", "buyers", "new_buyers", "sales_new",
                "retained"):
        agg[col] = pd.to_numeric(agg[col], errors="coerce").fillna(0)
    slices = agg[["slice", "slice_value"]].drop_duplicates()
    lo = int(periods.min()) - YEAR_LAG[period]
    full = pd.MultiIndex.from_product([range(lo, int(periods.max()) + 1),
                                       range(len(slices))], names=["pno", "s"]).to_frame(
        index=False)
    full = full.join(slices.reset_index(drop=True), on="s").drop(columns="s")
    t = full.merge(agg, on=["pno", "slice", "slice_value"], how="left").fillna(
        {c: 0 for c in agg.columns if c not in ("pno", "slice", "slice_value")})
    t = t.sort_values(["slice", "slice_value", "pno"]).reset_index(drop=True)
    g = t.groupby(["slice", "slice_value"], sort=False)
    t["sales"] = t["sales"].round(2)
    t["sales_new"] = t["sales_new"].round(2)
    t["sales_returning"] = (t["sales"] - t["sales_new"]).round(2)
    t["returning_buyers"] = t["buyers"] - t["new_buyers"]
    t["prev_buyers"] = g["buyers"].shift(1).fillna(0)
    t["conversion"] = _ratio(t["orders"], t["visitors"])
    t["aov"] = _ratio(t["sales"], t["orders"])
    t["items_per_order"] = _ratio(t["items"], t["orders"])
    t["retention"] = np.where(t["prev_buyers"] > 0, _ratio(t["retained"], t["prev_buyers"]),
                              np.nan)
    short = "wow" if period == "week" else "mom"
    for col in CHANGE_OF:
        for suffix, lag in ((short, 1), ("yoy", YEAR_LAG[period])):
            base = g[col].shift(lag)
            t[f"{col}_{suffix}"] = np.where(base > 0, t[col] / base - 1.0, np.nan)
    t = t[t["pno"].isin(periods)].copy()
    t.insert(0, "period", period)
    t.insert(1, "period_label", period_label(t["pno"], period))
    t.insert(2, "period_start", period_start(t["pno"], period).date)
    for col in ("visitors", "orders", "items", "buyers", "new_buyers", "returning_buyers",
                "retained", "prev_buyers"):
        t[col] = t[col].astype("int64")
    return t.reset_index(drop=True)


# --- the sales bridge --------------------------------------------------------------------

def shapley_product(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Shapley split of the change of a product of three factors: ``before`` and ``after``
    are (n, 3); the (n, 3) contributions add up to ``prod(after) - prod(before)`` exactly
    (in exact arithmetic), and are defined when a factor is zero, where the log (LMDI)
    decomposition is not."""
    b, a = np.asarray(before, float), np.asarray(after, float)
    out = np.empty_like(b)
    for i in range(3):
        j, k = [m for m in range(3) if m != i]
        out[:, i] = (a[:, i] - b[:, i]) * ((b[:, j] * b[:, k] + a[:, j] * a[:, k]) / 3
                                           + (b[:, j] * a[:, k] + a[:, j] * b[:, k]) / 6)
    return out


def to_cents(parts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Round each row of ``parts`` to cents so that it sums to ``total`` (cents) exactly:
    largest remainder, the rounding residual on the parts closest to the next cent."""
    raw = np.asarray(parts, float) * 100
    floor = np.floor(raw)
    short = np.asarray(total, "int64") - floor.sum(axis=1).astype("int64")
    order = np.argsort(-(raw - floor), axis=1)
    out = floor.astype("int64")
    n = parts.shape[1]
    for r in range(len(out)):
        k = int(short[r])
        idx = order[r] if k >= 0 else order[r][::-1]
        for step in range(abs(k)):
            out[r, idx[step % n]] += 1 if k > 0 else -1
    return out


def sales_bridge(kpi: pd.DataFrame) -> pd.DataFrame:
    """Per period and slice: the change in sales on the previous period split into
    visitors, conversion and AOV (Shapley), and into new vs returning buyers (additive), each
    in cents that add up to the change in cents exactly."""
    keep = kpi.sort_values(["slice", "slice_value", "pno"])
    prev = keep.groupby(["slice", "slice_value"], sort=False).shift(1)
    ok = (keep["pno"] - prev["pno"]) == 1
    cur, prev = keep[ok], prev[ok]
    change = (np.round(cur["sales"].to_numpy() * 100) - np.round(prev["sales"].to_numpy() * 100)
              ).astype("int64")
    factors = ["visitors", "conversion", "aov"]
    drivers = to_cents(shapley_product(prev[factors].to_numpy(float),
                                       cur[factors].to_numpy(float)), change)
    split = np.column_stack([
        np.round(cur["sales_new"].to_numpy() * 100) - np.round(prev["sales_new"].to_numpy() * 100),
        np.round(cur["sales_returning"].to_numpy() * 100)
        - np.round(prev["sales_returning"].to_numpy() * 100)]).astype("int64")
    split[:, 1] += change - split.sum(axis=1)  # rounding of the two parts: none in practice
    out = cur[["period", "period_label", "period_start", "pno", "slice", "slice_value"]].copy()
    out["sales_before"] = prev["sales"].to_numpy()
    out["sales_after"] = cur["sales"].to_numpy()
    out["change"] = change / 100
    for i, f in enumerate(factors):
        out[f"from_{f}"] = drivers[:, i] / 100
    out["from_new_buyers"] = split[:, 0] / 100
    out["from_returning_buyers"] = split[:, 1] / 100
    return out.reset_index(drop=True)


# --- new-customer cohorts ----------------------------------------------------------------

def second_purchase_cohorts(tables: dict[str, Any], as_of: pd.Timestamp, days: int,
                            periods: np.ndarray, engine: str = "duckdb",
                            options: dict | None = None) -> pd.DataFrame:
    """Per first-purchase cohort week: new customers and the share who ordered again within
    ``days`` of their first order. Only cohorts whose every member has had the whole window
    (the week's end + ``days`` <= the day after ``as_of``) are ``complete``."""
    end = (as_of.normalize() + pd.Timedelta(days=1)).to_pydatetime()
    lt = lazy_tables({"orders": tables["orders"], "ids": tables["person_index"]}, engine,
                     options)
    orders = (lt["orders"].filter(nw.col("ordered_at") < nw.lit(end))
              .join(lt["ids"].select("record_id", "person_id"), on="record_id"))
    first = orders.group_by("person_id").agg(nw.col("ordered_at").min().alias("first_at"))
    again = (orders.join(first, on="person_id")
             .filter((nw.col("ordered_at") > nw.col("first_at"))
                     & (nw.col("ordered_at") <= nw.col("first_at").dt.offset_by(f"{days}d")))
             .select("person_id").unique().with_columns(nw.lit(1).alias("second")))
    persons = (first.join(again, on="person_id", how="left")
               .collect(backend="pandas").to_native())
    persons["pno"] = period_no(persons["first_at"], "week")
    persons["second"] = persons["second"].fillna(0)
    c = persons.groupby("pno").agg(new_customers=("person_id", "size"),
                                   second_buyers=("second", "sum")).reset_index()
    c = c[c["pno"].isin(periods)]
    c.insert(0, "cohort_week", period_label(c["pno"], "week"))
    c.insert(1, "cohort_start", period_start(c["pno"], "week").date)
    c["second_buyers"] = c["second_buyers"].astype("int64")
    c["second_purchase_rate"] = _ratio(c["second_buyers"], c["new_customers"])
    window_end = period_end(c["pno"], "week") + pd.Timedelta(days=days)
    c["complete"] = np.asarray(window_end <= pd.Timestamp(end))
    return c.reset_index(drop=True)
