"""Gamma-gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV"): each repeat buyer's
mean spend per purchase, shrunk towards the population's, and the check of its assumption.

A customer's purchase amounts are Gamma(p, nu), nu ~ Gamma(q, v) across customers, so the mean
of x purchases is Gamma(p x, nu x); spend is assumed independent of purchase frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from scipy.stats import pearsonr, spearmanr

from .mle import maximise_log_likelihood

# |correlation| below which spend and frequency are called independent enough (FHL 2005 find
# 0.11 on CDNOW and proceed)
INDEPENDENCE_THRESHOLD = 0.3


def repeat_buyer_spend(frequency, monetary_value) -> tuple[np.ndarray, np.ndarray]:
    """Validated (frequency, monetary_value) arrays of repeat buyers."""
    frequency = np.asarray(frequency, float).ravel()
    monetary_value = np.asarray(monetary_value, float).ravel()
    if len(frequency) != len(monetary_value):
        raise ValueError(f"gamma-gamma: frequency and monetary_value have different lengths "
                         f"({len(frequency)}, {len(monetary_value)})")
    if len(frequency) == 0:
        raise ValueError("gamma-gamma needs at least one repeat buyer; got no customers")
    if not (np.isfinite(frequency).all() and np.isfinite(monetary_value).all()):
        raise ValueError("gamma-gamma: frequency and monetary_value must be finite")
    if (frequency <= 0).any() or (frequency != np.round(frequency)).any():
        raise ValueError("gamma-gamma: frequency must be a whole number of repeat purchases "
                         "> 0 (fit on repeat buyers only)")
    if (monetary_value <= 0).any():
        raise ValueError("gamma-gamma: monetary_value (mean spend of the repeat purchases) "
                         "must be > 0")
    return frequency, monetary_value


@dataclass
class GammaGamma:
    """Fitted gamma-gamma parameters (spend in the data's currency)."""

    p: float
    q: float
    v: float

    @classmethod
    def fit(cls, frequency, monetary_value, penalizer: float = 0.0) -> GammaGamma:
        """Maximum likelihood on repeat buyers: ``frequency`` repeat purchases (> 0) and
        ``monetary_value``, the mean spend of those repeat purchases."""
        x, m = repeat_buyer_spend(frequency, monetary_value)
        if len(x) < 2:
            raise ValueError("gamma-gamma needs at least two repeat buyers to fit")
        scale = float(np.mean(m))  # v starts at the size of the mean spend

        def log_likelihood(params: np.ndarray) -> float:
            return _log_likelihood(params, x, m) - penalizer * len(x) * float(
                np.sum(params ** 2))

        log_scale = np.log(scale)
        starts = [[0.0, 0.0, log_scale], [1.0, 1.0, log_scale], [2.0, 1.5, log_scale + 1.0]]
        (p, q, v), _ = maximise_log_likelihood(log_likelihood, len(x), starts)
        return cls(float(p), float(q), float(v))

    def log_likelihood(self, frequency, monetary_value) -> float:
        """Sum of the repeat buyers' log-likelihoods at these parameters."""
        x, m = repeat_buyer_spend(frequency, monetary_value)
        return _log_likelihood(np.array([self.p, self.q, self.v]), x, m)

    @property
    def population_mean_spend(self) -> float:
        """The prior mean spend per purchase, p v / (q - 1) (infinite for q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else np.inf

    def conditional_expected_average_value(self, frequency, monetary_value) -> np.ndarray:
        """E[mean spend per purchase | x, m_x]: a weighted average of the population mean and
        the customer's own, the own weight p x / (p x + q - 1) growing with x. Customers with
        x = 0 get the population mean."""
        x = np.asarray(frequency, float)
        m = np.where(x > 0, np.asarray(monetary_value, float), 0.0)
        if self.q <= 1:
            raise ValueError(f"gamma-gamma: q = {self.q:.3g} <= 1, so the population mean "
                             "spend is infinite; the fit is not usable for values")
        return self.p * (self.v + x * m) / (self.p * x + self.q - 1)


def _log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    p, q, v = params
    # FHL (2005) eq. 3 for the mean of x Gamma(p, nu) amounts, nu ~ Gamma(q, v)
    ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
          + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(v + m * x))
    return float(np.sum(ll))


def independence_check(frequency, monetary_value) -> dict:
    """How strongly repeat buyers' mean spend moves with their purchase frequency: Pearson and
    Spearman correlations and a verdict in words (gamma-gamma assumes none)."""
    x, m = repeat_buyer_spend(frequency, monetary_value)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return {"pearson": np.nan, "spearman": np.nan, "n": len(x),
                "independent": None,
                "verdict": "cannot judge: fewer than 3 repeat buyers, or frequency or spend "
                           "does not vary"}
    pearson = float(pearsonr(x, m)[0])
    spearman = float(spearmanr(x, m)[0])
    strongest = max(abs(pearson), abs(spearman))
    independent = strongest < INDEPENDENCE_THRESHOLD
    verdict = (f"spend looks independent of frequency (|correlation| {strongest:.2f} < "
               f"{INDEPENDENCE_THRESHOLD}): gamma-gamma's assumption holds"
               if independent else
               f"spend moves with frequency (|correlation| {strongest:.2f} >= "
               f"{INDEPENDENCE_THRESHOLD}): gamma-gamma's values will be biased; model spend "
               "with frequency as a covariate instead")
    return {"pearson": pearson, "spearman": spearman, "n": len(x),
            "independent": independent, "verdict": verdict}
