"""Treatment-vs-control statistics for randomised campaigns: lifts with confidence intervals,
CUPED, power, multiple-comparison adjustment and randomisation balance checks.

Pure numpy/scipy functions on plain arrays and counts, so every figure of a report can be
checked against statsmodels / scipy and against the synthetic world's true effects.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats


@dataclass(frozen=True)
class Lift:
    """Treatment vs control on one metric.

    ``abs_*``: treatment minus control; ``rel_*``: treatment / control - 1 (NaN when the
    control mean is not positive)."""

    metric: str
    n_treatment: int
    n_control: int
    treatment: float
    control: float
    abs_lift: float
    abs_low: float
    abs_high: float
    rel_lift: float
    rel_low: float
    rel_high: float
    p_value: float
    confidence: float
    method: str

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 1 - self.confidence)


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _log_ratio_ci(ratio: float, se_log: float, z: float) -> tuple[float, float, float]:
    """Relative lift and its CI from the ratio treatment/control and the SE of log(ratio)."""
    if not (ratio > 0 and np.isfinite(se_log)):
        return (ratio - 1 if np.isfinite(ratio) else np.nan), np.nan, np.nan
    return ratio - 1, ratio * math.exp(-z * se_log) - 1, ratio * math.exp(z * se_log) - 1


def proportion_lift(x_t: int, n_t: int, x_c: int, n_c: int, confidence: float = 0.95,
                    metric: str = "conversion") -> Lift:
    """Difference of two independent proportions.

    CI: Wald with unpooled variances (statsmodels ``confint_proportions_2indep(method='wald')``);
    p-value: pooled two-sided z test (statsmodels ``proportions_ztest``); relative lift CI on
    the log risk ratio (statsmodels ``confint_proportions_2indep(compare='ratio',
    method='log')``)."""
    if min(n_t, n_c) <= 0:
        raise ValueError(f"{metric}: both groups need members (treatment {n_t}, control {n_c})")
    p_t, p_c = x_t / n_t, x_c / n_c
    z = _z(confidence)
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    pooled = (x_t + x_c) / (n_t + n_c)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    p_value = 2 * stats.norm.sf(abs(diff) / se0) if se0 > 0 else 1.0
    if x_t > 0 and x_c > 0:
        se_log = math.sqrt(1 / x_t - 1 / n_t + 1 / x_c - 1 / n_c)
        rel = _log_ratio_ci(p_t / p_c, se_log, z)
    else:
        rel = (p_t / p_c - 1 if p_c > 0 else np.nan, np.nan, np.nan)
    return Lift(metric, int(n_t), int(n_c), p_t, p_c, diff, diff - z * se, diff + z * se,
                *rel, float(p_value), confidence, "two-proportion z (Wald CI)")


def mean_lift(y_t, y_c, confidence: float = 0.95, metric: str = "mean") -> Lift:
    """Welch's unequal-variance comparison of two means (scipy ``ttest_ind(equal_var=False)``
    and its ``confidence_interval``); relative lift by the delta method on log(ratio)."""
    y_t = np.asarray(y_t, dtype=float)
    y_c = np.asarray(y_c, dtype=float)
    n_t, n_c = len(y_t), len(y_c)
    if min(n_t, n_c) < 2:
        raise ValueError(f"{metric}: both groups need at least 2 values "
                         f"(treatment {n_t}, control {n_c})")
    m_t, m_c = y_t.mean(), y_c.mean()
    v_t, v_c = y_t.var(ddof=1) / n_t, y_c.var(ddof=1) / n_c
    diff = m_t - m_c
    se = math.sqrt(v_t + v_c)
    if se == 0:
        return Lift(metric, n_t, n_c, m_t, m_c, diff, diff, diff, np.nan, np.nan, np.nan,
                    1.0 if diff == 0 else 0.0, confidence, "Welch t")
    df = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    t = float(stats.t.ppf(1 - (1 - confidence) / 2, df))
    p_value = 2 * stats.t.sf(abs(diff) / se, df)
    if m_t > 0 and m_c > 0:
        rel = _log_ratio_ci(m_t / m_c, math.sqrt(v_t / m_t**2 + v_c / m_c**2), _z(confidence))
    else:
        rel = (m_t / m_c - 1 if m_c > 0 else np.nan, np.nan, np.nan)
    return Lift(metric, n_t, n_c, float(m_t), float(m_c), float(diff), diff - t * se,
                diff + t * se, *rel, float(p_value), confidence, "Welch t")


def cuped_theta(y, x) -> float:
    """theta = cov(y, x) / var(x) over both groups pooled (Deng et al. 2013)."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    vx = x.var(ddof=1)
    return float(np.cov(y, x, ddof=1)[0, 1] / vx) if vx > 0 else 0.0


def cuped_adjust(y, x, theta: float | None = None) -> np.ndarray:
    """The CUPED-adjusted outcome y - theta (x - mean x): same expectation difference between
    randomised groups, less variance the more the pre-period covariate x explains y."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    theta = cuped_theta(y, x) if theta is None else theta
    return y - theta * (x - x.mean())


def cuped_lift(y, x, treated, confidence: float = 0.95, metric: str = "cuped") -> Lift:
    """Welch comparison of the CUPED-adjusted outcome; the relative lift is against the
    control group's unadjusted mean."""
    y = np.asarray(y, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    adj = cuped_adjust(y, x)
    lift = mean_lift(adj[treated], adj[~treated], confidence, metric)
    m_c = y[~treated].mean()
    rel = [v / m_c if m_c > 0 else np.nan for v in (lift.abs_lift, lift.abs_low, lift.abs_high)]
    return Lift(metric, lift.n_treatment, lift.n_control, float(y[treated].mean()), float(m_c),
                lift.abs_lift, lift.abs_low, lift.abs_high, *rel, lift.p_value, confidence,
                "CUPED (pre-period spend) + Welch t")


# --- power -------------------------------------------------------------------------------

def cohens_h(p1: float, p2: float) -> float:
    """Effect size of two proportions on the arcsine scale (statsmodels
    ``proportion_effectsize``)."""
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def power_two_proportions(p_t: float, p_c: float, n_t: int, n_c: int,
                          alpha: float = 0.05) -> float:
    """Power of the two-sided z test to detect p_t vs p_c with these group sizes (statsmodels
    ``NormalIndPower().power(h, nobs1=n_t, alpha, ratio=n_c/n_t)``)."""
    h = abs(cohens_h(p_t, p_c))
    se = math.sqrt(1 / n_t + 1 / n_c)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.sf(z - h / se) + stats.norm.cdf(-z - h / se))


def minimum_detectable_rate(p_c: float, n_t: int, n_c: int, alpha: float = 0.05,
                            power: float = 0.8) -> float:
    """Smallest treatment conversion rate above p_c the test detects with the given power."""
    if power_two_proportions(1.0 - 1e-12, p_c, n_t, n_c, alpha) < power:
        return float("nan")
    return float(optimize.brentq(
        lambda p: power_two_proportions(p, p_c, n_t, n_c, alpha) - power, p_c + 1e-12,
        1.0 - 1e-12, xtol=1e-12))


def required_group_size(p_t: float, p_c: float, ratio: float, alpha: float = 0.05,
                        power: float = 0.8) -> float:
    """Treatment-group size needed (control = ratio x treatment) to detect p_t vs p_c."""
    h = abs(cohens_h(p_t, p_c))
    if h == 0:
        return float("inf")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float((z / h) ** 2 * (1 + 1 / ratio))


def power_summary(p_c: float, n_t: int, n_c: int, relevant_relative_lift: float,
                  confidence: float = 0.95, power: float = 0.8) -> dict:
    """Was the sample large enough? Power to detect the smallest lift worth acting on, the
    minimum detectable effect at the target power, and the size that would have been needed."""
    alpha = 1 - confidence
    p_rel = min(p_c * (1 + relevant_relative_lift), 1.0)
    achieved = power_two_proportions(p_rel, p_c, n_t, n_c, alpha) if p_c > 0 else float("nan")
    mde_rate = minimum_detectable_rate(p_c, n_t, n_c, alpha, power)
    need = required_group_size(p_rel, p_c, n_c / n_t, alpha, power) if p_c > 0 else float("nan")
    return {
        "baseline_rate": p_c, "relevant_relative_lift": relevant_relative_lift,
        "power_at_relevant_lift": achieved, "target_power": power,
        "mde_abs": mde_rate - p_c, "mde_rel": (mde_rate / p_c - 1) if p_c > 0 else float("nan"),
        "required_treatment_size": need, "required_control_size": need * n_c / n_t,
        "large_enough": bool(achieved >= power),
    }


# --- multiple comparisons ----------------------------------------------------------------

def adjust_pvalues(p_values, method: str = "holm") -> np.ndarray:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted
    p-values, as statsmodels ``multipletests(method='holm' | 'fdr_bh')``. NaNs stay NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q, kind="mergesort")
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method in ("bh", "fdr_bh"):
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    else:
        raise ValueError(f"unknown adjustment '{method}': use 'holm' or 'bh'")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


# --- randomisation checks ----------------------------------------------------------------

def standardised_mean_difference(x_t, x_c) -> float:
    """(mean_t - mean_c) / sqrt((var_t + var_c) / 2); |SMD| > 0.1 is the usual imbalance flag."""
    x_t = np.asarray(x_t, dtype=float)
    x_c = np.asarray(x_c, dtype=float)
    pooled = math.sqrt((x_t.var(ddof=1) + x_c.var(ddof=1)) / 2)
    diff = x_t.mean() - x_c.mean()
    return float(diff / pooled) if pooled > 0 else 0.0


def sample_ratio_test(n_t: int, n_c: int, control_share: float) -> dict:
    """Sample-ratio mismatch: chi-square goodness of fit of the group sizes to the planned
    split (scipy ``chisquare``). A tiny p-value means the randomisation or the data is broken."""
    n = n_t + n_c
    expected = np.array([n * (1 - control_share), n * control_share])
    chi2 = float(((np.array([n_t, n_c]) - expected) ** 2 / expected).sum())
    return {"n_treatment": n_t, "n_control": n_c, "planned_control_share": control_share,
            "observed_control_share": n_c / n if n else float("nan"), "chi2": chi2,
            "p_value": float(stats.chi2.sf(chi2, 1))}


def balance_table(frame: pd.DataFrame, treated_col: str, numeric: list[str],
                  categorical: list[str], smd_threshold: float = 0.1) -> pd.DataFrame:
    """One row per pre-period covariate: treatment and control means (or the category mix),
    the standardised mean difference (numeric), and a test p-value: Welch t (numeric) or the
    chi-square test of independence (categorical, scipy ``chi2_contingency``)."""
    t = frame[treated_col].astype(bool).to_numpy()
    rows = []
    for col in numeric:
        x = frame[col].astype(float).to_numpy()
        smd = standardised_mean_difference(x[t], x[~t])
        p = stats.ttest_ind(x[t], x[~t], equal_var=False).pvalue if x.std() > 0 else 1.0
        rows.append({"covariate": col, "kind": "numeric", "treatment": x[t].mean(),
                     "control": x[~t].mean(), "smd": smd, "test": "Welch t",
                     "p_value": float(p), "balanced": bool(abs(smd) <= smd_threshold)})
    for col in categorical:
        tab = pd.crosstab(frame[col].astype(str), t)
        if tab.shape[0] < 2 or tab.shape[1] < 2:
            p = 1.0
        else:
            p = float(stats.chi2_contingency(tab.to_numpy(), correction=False).pvalue)
        share = tab / tab.sum()
        top = share.max(axis=1).idxmax()
        rows.append({"covariate": col, "kind": "categorical",
                     "treatment": float(share.loc[top].get(True, np.nan)),
                     "control": float(share.loc[top].get(False, np.nan)),
                     "smd": float("nan"), "test": f"chi-square (share '{top}' shown)",
                     "p_value": p, "balanced": bool(p >= 0.01)})
    return pd.DataFrame(rows)
