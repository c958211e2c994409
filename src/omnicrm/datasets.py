"""Kedro datasets of the project: tables that are checked against their contract on load and
written atomically (a crash never leaves half a file behind)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from omnicrm.contracts import ALL_CONTRACTS, ContractViolation, validate


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the finished file into place in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it normal rights
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A pandas table stored as Parquet (or read from a CSV export of the same name).

    ``filepath`` may name ``x.parquet`` or ``x.csv``; on load, whichever of the two exists is
    read (Parquet first), so users can drop CSV exports into ``data/01_raw``. When ``contract``
    names a table in :mod:`omnicrm.contracts`, the loaded frame is validated and typed by it.
    Saving always writes Parquet, atomically. ``max_future_days``: how far after today a
    contract's ``past`` times (orders, events, sends) may lie before the load fails (clock
    skew between systems; null: no check).
    """

    def __init__(self, filepath: str, contract: str | None = None, optional: bool = False,
                 metadata: dict[str, Any] | None = None, max_future_days: float | None = 1.0
                 ) -> None:
        path = Path(filepath)
        self._stem = path.with_suffix("") if path.suffix in (".parquet", ".csv") else path
        if contract is not None and contract not in ALL_CONTRACTS:
            raise DatasetError(f"unknown contract '{contract}' for {filepath}; known: "
                               f"{sorted(ALL_CONTRACTS)}")
        self._contract = contract
        self._optional = optional  # a missing file loads as an empty table (first run)
        self._max_future_days = max_future_days
        self.metadata = metadata

    @property
    def parquet_path(self) -> Path:
        return self._stem.with_suffix(".parquet")

    @property
    def csv_path(self) -> Path:
        return self._stem.with_suffix(".csv")

    def _source(self) -> Path:
        for p in (self.parquet_path, self.csv_path):
            if p.exists():
                return p
        raise DatasetError(
            f"no file for table '{self._contract or self._stem.name}': expected "
            f"{self.parquet_path} or {self.csv_path}"
        )

    def load(self) -> pd.DataFrame:
        if self._optional and not self._exists():
            return pd.DataFrame()
        src = self._source()
        try:
            if src.suffix == ".csv":
                # Everything as text first: the contract decides the types, so mobiles, IDs
                # and postcodes keep their leading zeros and '+86'.
                df = pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[""],
                                 encoding="utf-8-sig")
            else:
                df = pd.read_parquet(src)
        except UnicodeDecodeError as exc:
            raise ContractViolation(
                f"table '{self._contract or src.stem}' ({src}) is not UTF-8 text: {exc}. "
                "Re-export it as UTF-8 (GBK exports: iconv -f GBK -t UTF-8)."
            ) from exc
        except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError) as exc:
            raise ContractViolation(
                f"table '{self._contract or src.stem}' ({src}) cannot be read: {exc}"
            ) from exc
        if self._contract is None:
            return df
        return validate(df, ALL_CONTRACTS[self._contract], source=str(src),
                        max_future_days=self._max_future_days)

    def save(self, data: pd.DataFrame) -> None:
        if self._contract is not None:
            data = validate(data, ALL_CONTRACTS[self._contract], source="being saved",
                            max_future_days=self._max_future_days)
        atomic_write(self.parquet_path, lambda tmp: data.to_parquet(tmp, index=False))

    def _exists(self) -> bool:
        return self.parquet_path.exists() or self.csv_path.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._stem), "contract": self._contract}
