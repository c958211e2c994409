"""TableDataset and atomic_write: a crash mid-write never leaves half a file or a temp file,
Parquet wins over a CSV of the same name, and saved tables read back unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from omnicrm.contracts import RAW_CONTRACTS, ContractViolation, validate
from omnicrm.datasets import TableDataset, atomic_write


class Crash(RuntimeError):
    pass


def test_atomic_write_keeps_the_old_file_when_the_writer_fails_halfway(tmp_path):
    target = tmp_path / "orders.parquet"
    target.write_bytes(b"previous complete content")

    def half_then_crash(tmp: Path) -> None:
        tmp.write_bytes(b"half a new fi")
        raise Crash("disk full")

    with pytest.raises(Crash):
        atomic_write(target, half_then_crash)

    assert target.read_bytes() == b"previous complete content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]


def test_atomic_write_cleans_up_on_keyboard_interrupt_and_without_a_previous_file(tmp_path):
    target = tmp_path / "new.parquet"

    def interrupted(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_creates_the_folder_and_gives_normal_permissions(tmp_path):
    target = tmp_path / "a" / "b" / "table.bin"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"done"))
    assert target.read_bytes() == b"done"
    assert [p.name for p in target.parent.iterdir()] == ["table.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def test_failed_dataset_save_keeps_the_previous_table(world, tmp_path, monkeypatch):
    path = tmp_path / "orders.parquet"
    ds = TableDataset(str(path), contract="orders")
    old = world["orders"].head(40)
    ds.save(old)
    before = path.read_bytes()

    real_to_parquet = pd.DataFrame.to_parquet

    def crash_halfway(self, tmp, *args, **kwargs):
        real_to_parquet(self, tmp, *args, **kwargs)
        with open(tmp, "r+b") as fh:  # truncate: what a crash mid-write leaves
            fh.truncate(100)
        raise Crash("killed")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_halfway)
    with pytest.raises(DatasetError, match="killed"):  # Kedro wraps the writer's error
        ds.save(world["orders"])
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]
    pd.testing.assert_frame_equal(ds.load(), validate(old, RAW_CONTRACTS["orders"]))


def test_saving_a_table_that_breaks_its_contract_writes_nothing(world, tmp_path):
    bad = world["orders"].head(10).copy()
    bad.loc[2, "channel"] = "jd"
    ds = TableDataset(str(tmp_path / "orders.parquet"), contract="orders")
    with pytest.raises(ContractViolation, match="row 2: 'jd'"):
        ds.save(bad)
    assert list(tmp_path.iterdir()) == []
    assert not ds.exists()


@pytest.mark.parametrize("named", ["orders.parquet", "orders.csv", "orders"])
def test_parquet_wins_over_csv_when_both_exist(world, tmp_path, named):
    orders = world["orders"]
    orders.head(5).to_csv(tmp_path / "orders.csv", index=False)
    orders.iloc[100:103].to_parquet(tmp_path / "orders.parquet", index=False)

    loaded = TableDataset(str(tmp_path / named), contract="orders").load()

    assert loaded["order_id"].tolist() == orders["order_id"].iloc[100:103].tolist()


def test_csv_is_read_when_it_is_the_only_file(world, tmp_path):
    orders = world["orders"].head(5)
    orders.to_csv(tmp_path / "orders.csv", index=False)
    ds = TableDataset(str(tmp_path / "orders.parquet"), contract="orders")
    assert ds.exists()
    assert ds.load()["order_id"].tolist() == orders["order_id"].tolist()
    ds.save(ds.load())  # saving always writes Parquet next to the CSV
    assert (tmp_path / "orders.parquet").exists()


@pytest.mark.parametrize("name", ["orders", "pos_members", "campaign_sends", "products"])
def test_saved_files_are_plain_parquet_with_equal_content(world, tmp_path, name):
    path = tmp_path / f"{name}.parquet"
    ds = TableDataset(str(path), contract=name)
    ds.save(world[name])

    typed = validate(world[name], RAW_CONTRACTS[name])
    pd.testing.assert_frame_equal(pd.read_parquet(path), typed, check_dtype=False)
    pd.testing.assert_frame_equal(ds.load(), typed)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_dataset_without_a_contract_round_trips_any_frame(tmp_path):
    frame = pd.DataFrame({"person_id": ["P1", "P2"], "score": [0.25, 0.75],
                          "mobile": ["+8613800138000", "013800138000"]})
    ds = TableDataset(str(tmp_path / "scores.parquet"))
    assert not ds.exists()
    ds.save(frame)
    assert ds.exists()
    pd.testing.assert_frame_equal(ds.load(), frame, check_dtype=False)
    assert ds.load()["mobile"].tolist() == ["+8613800138000", "013800138000"]
