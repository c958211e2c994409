"""Typed settings of the identity pipeline: the ``identity`` section of
conf/base/parameters_identity.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Any, Literal

from omnicrm.config import Settings, settings_from


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


def identity_settings(params: IdentitySettings | dict[str, Any] | None = None,
                      env: str | None = None) -> IdentitySettings:
    """``params`` as settings: a full ``params:identity`` dict as it is; ``None`` or a few keys
    (``{"engine": "spark"}``, the CLI's thresholds) over conf's identity section."""
    return settings_from(IdentitySettings, "identity", params, env)
