"""Shared helpers of the generator: seeded random streams and the seasonal calendar."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

DAY_NS = 86_400 * 10**9


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent, reproducible random stream per generator stage, so changing one stage
    does not reshuffle the others."""
    return np.random.default_rng([int(seed), zlib.crc32(stream.encode())])


def calendar(start: str, end: str) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="D")


def seasonality(days: pd.DatetimeIndex) -> np.ndarray:
    """Relative daily shopping intensity (mean 1): the Double 11 and 618 festivals, Double 12,
    the Spring Festival lull and busier weekends."""
    s = np.ones(len(days))
    md = days.month * 100 + days.day
    s[(md >= 1101) & (md <= 1110)] *= 1.8
    s[md == 1111] *= 6.0
    s[(md >= 601) & (md <= 617)] *= 1.5
    s[md == 618] *= 4.0
    s[md == 1212] *= 2.5
    for cny in ("2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06"):
        near = np.abs((days - pd.Timestamp(cny)).days) <= 7
        s[near] *= 0.5
    s[days.dayofweek >= 5] *= 1.2
    return s / s.mean()


def sample_days(cum: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator
                ) -> np.ndarray:
    """Day indices drawn from the seasonal density restricted to [lo, hi) per draw.
    ``cum`` is the cumulative intensity with a leading zero (len = days + 1)."""
    u = cum[lo] + rng.random(len(lo)) * (cum[hi] - cum[lo])
    day = np.searchsorted(cum, u, side="right") - 1
    return np.clip(day, lo, np.maximum(hi - 1, lo))


def fmt_ids(prefix: str, n: int, width: int = 8, start: int = 1) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(start, start + n).astype(str), width))


def unique_ints(rng: np.random.Generator, high: int, n: int) -> np.ndarray:
    """n distinct random integers in [0, high), without materialising a permutation."""
    if n > high // 2:
        return rng.permutation(high)[:n]
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        out = pd.unique(np.r_[out, rng.integers(0, high, int((n - len(out)) * 1.1) + 16)])
    return out[:n]
