"""Standardise any member table, given which column plays which role, into the one schema the
linker compares."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from omnicrm.chinese import standardise as cs
from omnicrm.chinese.names import gender_from_given_name, split_name

log = logging.getLogger(__name__)

ROLES = (
    "record_id", "full_name", "surname", "given_name", "nickname", "birth_date", "gender",
    "mobile", "email", "address", "province", "city", "district", "address_detail", "postcode",
    "id_number", "unionid",
)

STANDARD_COLUMNS = [
    "record_id", "source", "name_hanzi", "surname_py", "given_py", "name_py", "name_key",
    "mobile", "mobile_prefix", "mobile_suffix", "mobile_masked", "id_number", "id_raw",
    "birth_date", "birth_year", "gender", "province", "city", "district", "address_detail",
    "postcode", "email", "unionid",
]


class RoleMappingError(ValueError):
    """A column-to-role mapping names a column the table does not have."""


def check_roles(columns, roles: dict[str, str], source: str) -> dict[str, str]:
    """Known roles only (unknown ones are ignored with a warning); every mapped column must
    exist; a record_id is required."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        warnings.warn(f"{source}: ignoring unknown role(s) {unknown}; known roles: "
                      f"{list(ROLES)}", stacklevel=2)
    known = {r: c for r, c in roles.items() if r in ROLES and c}
    missing = {r: c for r, c in known.items() if c not in columns}
    if missing:
        raise RoleMappingError(
            f"{source}: the mapping names column(s) that are not in the table: "
            + ", ".join(f"{r} -> '{c}'" for r, c in missing.items())
            + f". Columns present: {list(columns)}")
    if "record_id" not in known:
        raise RoleMappingError(f"{source}: map a column to the 'record_id' role")
    return known


def standardise_records(df: pd.DataFrame, roles: dict[str, str], source: str
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (standardised records, data-quality counts per field)."""
    roles = check_roles(df.columns, roles, source)
    col = {r: df[c] for r, c in roles.items()}
    idx = df.index
    none = pd.Series([None] * len(df), index=idx, dtype=object)
    out = pd.DataFrame(index=idx)
    out["record_id"] = col["record_id"].astype(str)
    out["source"] = source
    quality: dict[str, pd.Series] = {}

    # names: a full name, or surname + given name, or a nickname that looks like a name
    if "full_name" in col:
        name_src = col["full_name"]
    elif "surname" in col or "given_name" in col:
        name_src = (col.get("surname", none).fillna("").astype(str) + " "
                    + col.get("given_name", none).fillna("").astype(str)).str.strip()
        if not {"surname", "given_name"} - set(col):
            name_src = name_src.where(~name_src.str.match(r"^[\u4e00-\u9fff ]+$"),
                                      name_src.str.replace(" ", "", regex=False))
        name_src = name_src.replace("", None)
    elif "nickname" in col:
        name_src = col["nickname"].where(cs.looks_like_person_name(col["nickname"]))
    else:
        name_src = none
    names = cs.standardise_name(name_src)
    out[names.columns[:-1]] = names[names.columns[:-1]]
    quality["name"] = names["name_status"]

    mob = cs.standardise_mobile(col.get("mobile", none))
    out[mob.columns[:-1]] = mob[mob.columns[:-1]]
    out["mobile_masked"] = out["mobile_masked"].fillna(False).astype(bool)
    quality["mobile"] = mob["mobile_status"]

    ids = cs.standardise_id_number(col.get("id_number", none))
    out["id_number"], out["id_raw"] = ids["id_number"], ids["id_raw"]
    quality["id_number"] = ids["id_status"]

    given_birth = cs.standardise_date(col["birth_date"]) if "birth_date" in col else \
        pd.Series(pd.NaT, index=idx)
    # the ID number is the more reliable source of birth date and gender
    out["birth_date"] = ids["id_birth_date"].where(ids["id_birth_date"].notna(), given_birth)
    out["birth_year"] = out["birth_date"].dt.year.astype("Int64")
    gender = cs.standardise_gender(col["gender"]) if "gender" in col else none
    # the ID number is the most reliable, then what the person ticked, then the given name
    from_name = names["name_hanzi"].map(
        lambda n: gender_from_given_name(split_name(n)[1]) if isinstance(n, str) else None)
    out["gender"] = ids["id_gender"].where(ids["id_gender"].notna(),
                                           gender.where(gender.notna(), from_name))
    if "birth_date" in col:
        quality["birth_date"] = pd.Series(np.where(
            col["birth_date"].isna(), cs.MISSING,
            np.where(given_birth.isna(), cs.INVALID, cs.VALID)), index=idx)

    if "address" in col:
        addr = cs.standardise_address(free_text=col["address"])
    else:
        addr = cs.standardise_address(province=col.get("province"), city=col.get("city"),
                                      district=col.get("district"),
                                      detail=col.get("address_detail"), index=idx)
    out[["province", "city", "district", "address_detail"]] = addr[
        ["province", "city", "district", "address_detail"]]
    quality["address"] = addr["address_status"]
    out["postcode"] = col["postcode"].astype(str).str.extract(r"(\d{6})")[0] \
        if "postcode" in col else none

    em = cs.standardise_email(col.get("email", none))
    out["email"] = em["email"]
    quality["email"] = em["email_status"]
    out["unionid"] = col["unionid"].astype(object).where(col["unionid"].notna()) \
        if "unionid" in col else none

    dq = []
    for field, status in quality.items():
        mapped = field in roles or (field == "name" and {"full_name", "surname", "given_name",
                                                          "nickname"} & set(roles)) \
            or (field == "address" and {"address", "province", "city", "district",
                                        "address_detail"} & set(roles))
        if not mapped:
            continue
        counts = status.value_counts()
        dq.append({"source": source, "field": field, "records": len(status),
                   **{k: int(counts.get(k, 0)) for k in (cs.MISSING, cs.VALID, cs.REPAIRED,
                                                         cs.MASKED, cs.INVALID)}})
    std = out.reset_index(drop=True)[STANDARD_COLUMNS]
    for c in std.columns:
        if std[c].dtype == object or str(std[c].dtype) == "str":
            std[c] = std[c].astype(object).where(std[c].notna(), None)
    return std, pd.DataFrame(dq)
