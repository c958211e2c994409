"""Checks that a campaign is a usable randomised experiment before any model learns from it:
a control group exists and is not empty, and treatment and control look alike on the
pre-campaign covariates (standardised mean differences)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from omnicrm.config import parse

from .settings import Balance

log = logging.getLogger(__name__)


class CampaignDesignError(ValueError):
    """No campaign in the data is a usable randomised experiment."""


def standardised_mean_differences(data: pd.DataFrame, covariates: list[str]) -> pd.Series:
    """SMD per covariate: (mean treated - mean control) / pooled standard deviation."""
    t = data[data["treated"] == 1]
    c = data[data["treated"] == 0]
    out = {}
    for col in covariates:
        a = pd.to_numeric(t[col], errors="coerce").astype(float).fillna(0.0)
        b = pd.to_numeric(c[col], errors="coerce").astype(float).fillna(0.0)
        sd = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        out[col] = 0.0 if not np.isfinite(sd) or sd == 0 else float((a.mean() - b.mean()) / sd)
    return pd.Series(out, dtype=float)


def check_campaigns(data: pd.DataFrame, params: Balance | dict
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the campaigns that are valid experiments; report on every one.

    A campaign without a control group (or with an empty one, or with no treated members) is
    dropped with a warning: its effect cannot be estimated. A campaign whose groups differ on
    the covariates by more than chance allows (|SMD| above ``max_smd`` and above ``smd_se_z``
    standard errors) gets a warning naming it and the covariates; ``on_imbalance`` says
    whether it is then dropped (``exclude``, conf's choice), kept (``warn``) or fails the run
    (``raise``). If no campaign is left, :class:`CampaignDesignError` is raised."""
    params = parse(Balance, params, "coupon.balance")
    covariates = [c for c in params.covariates if c in data.columns]
    max_smd, z, action = params.max_smd, params.smd_se_z, params.on_imbalance
    rows, keep = [], []
    for cid, d in data.groupby("campaign_id", sort=True):
        n_t, n_c = int((d["treated"] == 1).sum()), int((d["treated"] == 0).sum())
        row = {"campaign_id": cid, "n_treated": n_t, "n_control": n_c, "status": "ok",
               "max_abs_smd": np.nan, "imbalanced_covariates": ""}
        if n_c == 0 or n_t == 0:
            which = "control" if n_c == 0 else "treatment"
            log.warning("campaign %s has no %s group (treated %d, control %d): its effect "
                        "cannot be estimated, so it is left out of the coupon models",
                        cid, which, n_t, n_c)
            row["status"] = f"excluded: no {which} group"
            rows.append(row)
            continue
        smd = standardised_mean_differences(d, covariates)
        limit = max(max_smd, z * np.sqrt(1 / n_t + 1 / n_c))
        bad = smd[smd.abs() > limit]
        row["max_abs_smd"] = float(smd.abs().max()) if len(smd) else 0.0
        if len(bad):
            names = ", ".join(f"{k} (SMD {v:+.2f})" for k, v in bad.items())
            row["imbalanced_covariates"] = names
            msg = (f"campaign {cid}: treatment and control differ before the campaign on "
                   f"{names}; limit |SMD| {limit:.2f}. Assignment does not look random")
            if action == "raise":
                raise CampaignDesignError(msg)
            if action == "exclude":
                log.warning("%s; campaign left out of the coupon models", msg)
                row["status"] = "excluded: imbalanced"
                rows.append(row)
                continue
            log.warning("%s; kept (on_imbalance: warn), its estimates may be biased", msg)
            row["status"] = "imbalanced, kept"
        rows.append(row)
        keep.append(cid)
    report = pd.DataFrame(rows)
    if not keep:
        raise CampaignDesignError(
            "no campaign is a usable randomised experiment (each needs treated members, a "
            "non-empty control group and balanced covariates): "
            + "; ".join(f"{r['campaign_id']}: {r['status']}" for r in rows))
    return data[data["campaign_id"].isin(keep)].reset_index(drop=True), report
