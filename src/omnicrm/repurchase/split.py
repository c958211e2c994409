"""Time-based cut-off splits shared by training and evaluation (no import cycle)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


def data_end(orders: pd.DataFrame) -> pd.Timestamp:
    """The data's 'today': midnight after the last order (exclusive end of observed time)."""
    return pd.Timestamp(orders["ordered_at"].max()).normalize() + DAY


def cutoff_schedule(end: pd.Timestamp, n_cutoffs: int, step_days: int, horizon_days: int
                    ) -> list[pd.Timestamp]:
    """``n_cutoffs`` cut-offs ``step_days`` apart, oldest first, the last one ``horizon_days``
    before ``end`` so every label window is fully observed."""
    last = pd.Timestamp(end).normalize() - horizon_days * DAY
    return [last - k * step_days * DAY for k in reversed(range(n_cutoffs))]


@dataclass
class TimeSplit:
    """Which cut-offs train, validate (Optuna) and test."""

    train: list[pd.Timestamp]
    valid: list[pd.Timestamp]
    test: list[pd.Timestamp]

    @classmethod
    def from_cutoffs(cls, cutoffs: list[pd.Timestamp], n_valid: int, n_test: int) -> TimeSplit:
        cutoffs = sorted(pd.Timestamp(c) for c in cutoffs)
        if len(cutoffs) < n_valid + n_test + 1:
            raise ValueError(f"need at least {n_valid + n_test + 1} cut-offs, got {len(cutoffs)}")
        n_train = len(cutoffs) - n_valid - n_test
        return cls(cutoffs[:n_train], cutoffs[n_train:n_train + n_valid],
                   cutoffs[n_train + n_valid:])

    @classmethod
    def schedule(cls, end: pd.Timestamp, n_train: int, n_valid: int, n_test: int,
                 step_days: int, horizon_days: int) -> TimeSplit:
        """Cut-offs ``step_days`` apart counted back from ``end`` (the data's 'today'): the
        test ones end ``horizon_days`` before it, the validation ones ``horizon_days`` before
        the first test cut-off and the training ones ``horizon_days`` before the first
        validation one, so no label window reaches into a later part."""
        test = cutoff_schedule(end, n_test, step_days, horizon_days)
        valid = cutoff_schedule(test[0], n_valid, step_days, horizon_days)
        train = cutoff_schedule(valid[0], n_train, step_days, horizon_days)
        return cls(train, valid, test)

    @property
    def cutoffs(self) -> list[pd.Timestamp]:
        return [*self.train, *self.valid, *self.test]

    def purged(self, horizon_days: int) -> TimeSplit:
        """Drop the cut-offs whose label window [c, c + horizon) reaches into a later part's
        first cut-off. Without the gap the same person's purchase labels an earlier row and
        a later one, and trees that memorise a person (their exact spend, basket) look great
        on validation for no honest reason."""
        gap = horizon_days * DAY
        valid = [c for c in self.valid if c + gap <= min(self.test)]
        first_later = min(valid) if valid else min(self.test)
        train = [c for c in self.train if c + gap <= first_later]
        if not train or not valid:
            raise ValueError(f"with a {horizon_days}-day horizon no train/validation cut-off "
                             "is left after purging overlaps: use more cut-offs")
        return TimeSplit(train, valid, list(self.test))

    def mask(self, frame: pd.DataFrame, part: str) -> np.ndarray:
        return frame["cutoff_date"].isin(getattr(self, part)).to_numpy()
