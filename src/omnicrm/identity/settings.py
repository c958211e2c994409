"""Typed settings of the identity pipeline: the ``identity`` section of
conf/base/parameters_identity.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from omnicrm.config import Settings, SettingsError, load_settings, parse


class IdentitySettings(Settings):
    """Which column plays which role per channel (cleansing), and how records are linked."""

    roles: dict[str, dict[str, str]]
    engine: Literal["duckdb", "spark"]
    match_threshold: float
    nameless_match_threshold: float
    predict_threshold: float
    prior_recall: float
    rare_name_max: int
    u_max_pairs: int
    seed: int
    em_blocking: list[list[str]]
    blocking: list[list[str]]
    fixed_m: dict[str, list[float | None]]
    fixed_u: dict[str, list[float | None]]
    fixed_u_per_record: dict[str, list[float | None]]


@lru_cache(maxsize=4)
def _from_conf(env: str | None) -> IdentitySettings:
    return load_settings(IdentitySettings, "identity", env)


def identity_settings(params: IdentitySettings | dict[str, Any] | None = None,
                      env: str | None = None) -> IdentitySettings:
    """``params`` as settings: a full ``params:identity`` dict is parsed as it is; ``None``
    or a partial dict (``{"engine": "spark"}``, the CLI's thresholds) is conf's identity
    section (``env`` merged over base) with those keys replaced. Unknown keys fail by name."""
    if isinstance(params, IdentitySettings):
        return params
    params = dict(params or {})
    if set(IdentitySettings.model_fields) <= set(params):
        return parse(IdentitySettings, params, "identity")
    unknown = sorted(set(params) - set(IdentitySettings.model_fields))
    if unknown:
        raise SettingsError(f"unknown identity setting(s) {unknown}; known: "
                            f"{sorted(IdentitySettings.model_fields)}")
    base = _from_conf(env).model_dump()
    return parse(IdentitySettings, {**base, **params}, "identity")
