"""Demographic "potential" variables per person: gender, age band, province and city tier,
derived from the golden record (identity) and the store table's city tiers.

Personal data rule: the birth date and the address stay in the golden record (primary layer);
this table carries only what is derived from them (an age band at the cut-off, the province,
the tier of the home city), so it may go anywhere downstream, MLflow included. It is a
per-person pandas step after ``person_features`` (one row per person of that table) rather
than columns of it: every column of ``person_features`` is a numeric model input of the
repurchase, churn and scoring models, and these are labels for profiles and the customer 360.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .settings import DemographicSettings, demographic_settings

UNKNOWN = "unknown"
COLUMNS = ["person_id", "cutoff_date", "gender", "age_band", "province", "city_tier"]


def age_band_labels(edges: list[int]) -> list[str]:
    """[18, 25, 35] -> ['<18', '18-24', '25-34', '35+']: one label per band the edges cut."""
    edges = sorted(edges)
    inner = [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [f"<{edges[0]}", *inner, f"{edges[-1]}+"]


def age_in_years(birth_date: pd.Series, cutoff: pd.Timestamp) -> pd.Series:
    """Completed years at ``cutoff`` (a birthday on the cut-off day counts); NaN unknown."""
    born = pd.to_datetime(birth_date)
    years = cutoff.year - born.dt.year
    before_birthday = (born.dt.month > cutoff.month) | (
        (born.dt.month == cutoff.month) & (born.dt.day > cutoff.day))
    return (years - before_birthday.astype(float)).where(born.notna()).astype(float)


def age_bands(age: pd.Series, edges: list[int]) -> pd.Series:
    """The band of each age (``unknown`` where the age is): band i holds
    edges[i-1] <= age < edges[i]."""
    labels = np.asarray(age_band_labels(edges), dtype=object)
    idx = np.searchsorted(np.asarray(sorted(edges), float), age.fillna(-1).to_numpy(float),
                          side="right")
    return pd.Series(np.where(age.notna().to_numpy(), labels[idx], UNKNOWN), index=age.index,
                     name="age_band")


def city_tiers(stores: pd.DataFrame) -> pd.Series:
    """City -> tier from the store table (a city's stores share one tier; the lowest number
    wins if an export disagrees)."""
    return stores.groupby("city")["city_tier"].min()


def person_demographics(person_features: pd.DataFrame, golden_records: pd.DataFrame,
                        stores: pd.DataFrame,
                        params: DemographicSettings | dict | None = None) -> pd.DataFrame:
    """One row per person of ``person_features``: gender (M/F, ``unknown``), the band of the
    age in completed years at the features' cut-off (not the age itself), province, tier of
    the home city (``city_tier`` nullable: a city without a store, or no city, is unknown)."""
    p = demographic_settings(params)
    persons = person_features[["person_id", "cutoff_date"]].reset_index(drop=True)
    golden = golden_records.drop_duplicates("person_id").set_index("person_id")
    g = golden.reindex(persons["person_id"])
    cutoff = pd.Timestamp(persons["cutoff_date"].iloc[0]) if len(persons) else pd.Timestamp.now()
    age = age_in_years(g["birth_date"].reset_index(drop=True), cutoff)
    # an implausible age (a typo in the birth year) is unknown rather than a band
    age = age.where(age.between(p.min_age, p.max_age))
    out = persons.copy()
    out["gender"] = g["gender"].fillna(UNKNOWN).astype(str).to_numpy()
    out["age_band"] = age_bands(age, list(p.age_band_edges)).to_numpy()
    out["province"] = g["province"].fillna(UNKNOWN).astype(str).to_numpy()
    tier = g["city"].map(city_tiers(stores))
    out["city_tier"] = pd.array(tier.to_numpy(), dtype="Int64")
    return out[COLUMNS]
