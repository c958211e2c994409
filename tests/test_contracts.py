"""Raw-table contracts: real world tables load typed from CSV and Parquet, and every kind of bad
export fails with one message naming the table, the column and the offending rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

from omnicrm.contracts import (
    DTYPES,
    RAW_CONTRACTS,
    TRUTH_CONTRACTS,
    ContractViolation,
    data_dictionary_markdown,
    validate,
)
from omnicrm.datasets import TableDataset

REPO = Path(__file__).resolve().parents[1]


def expected_dtype(name: str, column: str) -> str:
    col = {**RAW_CONTRACTS, **TRUTH_CONTRACTS}[name].column(column)
    if col.dtype == "int":  # nullable ints keep pandas' nullable Int64
        return "Int64" if col.nullable else "int64"
    return DTYPES[col.dtype]


def write(df: pd.DataFrame, folder: Path, name: str, fmt: str) -> TableDataset:
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return TableDataset(str(path), contract=name)


def violation(df: pd.DataFrame, folder: Path, name: str, fmt: str = "csv") -> str:
    with pytest.raises(ContractViolation) as err:
        write(df, folder, name, fmt).load()
    return str(err.value)


# ------------------------------------------------------------------ good tables load typed


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("name", ["pos_members", "orders", "products", "campaign_sends"])
def test_real_table_loads_with_the_contract_types(world, tmp_path, name, fmt):
    table = world[name]
    loaded = write(table, tmp_path, name, fmt).load()

    contract = RAW_CONTRACTS[name]
    assert list(loaded.columns) == contract.column_names
    assert {c: str(loaded[c].dtype) for c in loaded.columns} == {
        c: expected_dtype(name, c) for c in contract.column_names}
    assert len(loaded) == len(table)
    # same values as the in-memory table, typed by the contract
    pd.testing.assert_frame_equal(loaded, validate(table, contract))
    key = list(contract.primary_key)
    assert loaded[key].astype(str).equals(table[key].astype(str).reset_index(drop=True))


def test_csv_keeps_plus86_leading_zeros_and_id_numbers_as_text(world, tmp_path):
    members = world["pos_members"].head(20).copy()
    members.loc[0, "mobile"] = "+86 138-0013-8000"
    members.loc[1, "mobile"] = "008613800138000"
    members.loc[2, "mobile"] = "１３８００１３８０００"  # full-width digits
    members.loc[3, "member_card_no"] = "0012345"
    members.loc[4, "id_number"] = "010105194912310027"
    members.loc[5, "id_number"] = "11010519491231002X"
    members.loc[6, "store_id"] = "0001"

    loaded = write(members, tmp_path, "pos_members", "csv").load()

    assert loaded.loc[0, "mobile"] == "+86 138-0013-8000"
    assert loaded.loc[1, "mobile"] == "008613800138000"
    assert loaded.loc[2, "mobile"] == "１３８００１３８０００"
    assert loaded.loc[3, "member_card_no"] == "0012345"
    assert loaded.loc[4, "id_number"] == "010105194912310027"
    assert loaded.loc[5, "id_number"] == "11010519491231002X"
    assert loaded.loc[6, "store_id"] == "0001"
    # untouched rows keep the generator's text exactly, nulls stay null
    rest = members.loc[7:, "mobile"]
    assert loaded.loc[7:, "mobile"].isna().tolist() == rest.isna().tolist()
    assert loaded.loc[7:, "mobile"].dropna().tolist() == rest.dropna().tolist()
    for col in ("mobile", "id_number", "member_card_no"):
        assert str(loaded[col].dtype) == "string"


def test_mobiles_stored_as_numbers_are_read_as_their_digits(world, tmp_path):
    """A Parquet float column and Excel's '13800138000.0' are the digits of a mobile; the
    cleansing would otherwise reject every one of them as invalid, without a word."""
    members = world["pos_members"].head(6).copy()
    digits = ["13800138000", "13912345678", "15000000001", "18600000002", "17700000003",
              "13300000004"]
    as_float = members.assign(mobile=[float(d) for d in digits])
    assert str(as_float["mobile"].dtype) == "float64"
    loaded = write(as_float, tmp_path, "pos_members", "parquet").load()
    assert loaded["mobile"].tolist() == digits
    excel = members.assign(mobile=[f"{d}.0" for d in digits])
    (tmp_path / "pos_members.parquet").unlink()
    assert write(excel, tmp_path, "pos_members", "csv").load()["mobile"].tolist() == digits


def test_ids_that_lost_digits_as_numbers_fail_loudly(world, tmp_path):
    """An 18-digit resident ID as a float (or a mobile in scientific notation) cannot be read
    back: the load fails naming the column and rows instead of guessing digits."""
    members = world["pos_members"].head(6).copy()
    members["id_number"] = 110105194912310027.0
    with pytest.raises(ContractViolation, match=r"column 'id_number': 6 value\(s\) are "
                                                r"numbers that lost digits"):
        write(members, tmp_path, "pos_members", "parquet").load()
    members = world["pos_members"].head(6).copy()
    members.loc[2, "mobile"] = "1.38001E+10"
    (tmp_path / "pos_members.parquet").unlink()
    with pytest.raises(ContractViolation, match=r"column 'mobile': 1 value.*row 2"):
        write(members, tmp_path, "pos_members", "csv").load()


def test_excel_csv_with_a_byte_order_mark_loads(world, tmp_path):
    orders = world["orders"].head(30)
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False, encoding="utf-8-sig")  # what Excel's 'CSV UTF-8' writes
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    loaded = TableDataset(str(path), contract="orders").load()
    assert loaded.columns[0] == "order_id"
    pd.testing.assert_frame_equal(loaded, validate(orders, RAW_CONTRACTS["orders"]))


# ------------------------------------------------------------------ one test per violation


def test_missing_column_is_named(world, tmp_path):
    orders = world["orders"].head(50).drop(columns=["paid_amount"])
    msg = violation(orders, tmp_path, "orders")
    assert "table 'orders'" in msg
    assert "missing column(s) ['paid_amount']" in msg


def test_wrong_type_names_column_and_row(world, tmp_path):
    orders = world["orders"].head(50).astype({"item_count": object})
    orders.loc[3, "item_count"] = "abc"
    msg = violation(orders, tmp_path, "orders")
    assert "table 'orders'" in msg
    assert "column 'item_count'" in msg and "not a valid int" in msg
    assert "row 3: 'abc'" in msg


@pytest.mark.parametrize("value", ["2.5", "inf", "1e30"])
def test_non_integer_numbers_in_an_int_column_are_a_contract_violation(world, tmp_path, value):
    orders = world["orders"].head(50).astype({"item_count": object})
    orders.loc[4, "item_count"] = value
    msg = violation(orders, tmp_path, "orders")
    assert "column 'item_count'" in msg and f"row 4: '{value}'" in msg


def test_unparseable_date_names_column_and_row(world, tmp_path):
    orders = world["orders"].head(50).astype({"ordered_at": object})
    orders.loc[7, "ordered_at"] = "not-a-date"
    orders.loc[8, "ordered_at"] = "2026-02-30 10:00:00"  # no such day
    msg = violation(orders, tmp_path, "orders")
    assert "table 'orders'" in msg
    assert "column 'ordered_at'" in msg and "not a valid timestamp" in msg
    assert "row 7: 'not-a-date'" in msg and "row 8: '2026-02-30 10:00:00'" in msg


def test_timestamps_with_a_utc_offset_do_not_crash_the_load(world, tmp_path):
    """Exports often carry '+08:00' on some rows; the load either reads them as China time or
    reports them as a contract violation, never with a bare pandas error."""
    orders = world["orders"].head(50).astype({"ordered_at": str})
    orders.loc[2, "ordered_at"] = "2026-01-01T10:00:00+08:00"
    ds = write(orders, tmp_path, "orders", "csv")
    try:
        loaded = ds.load()
    except ContractViolation as err:
        assert "column 'ordered_at'" in str(err) and "row 2" in str(err)
    else:
        assert loaded.loc[2, "ordered_at"] == pd.Timestamp("2026-01-01 10:00:00")
        assert loaded.loc[3, "ordered_at"] == world["orders"].loc[3, "ordered_at"]


def test_empty_csv_with_only_a_header(world, tmp_path):
    msg = violation(world["orders"].head(0), tmp_path, "orders", "csv")
    assert "table 'orders'" in msg and "is empty" in msg
    assert "order_id" in msg  # says which columns it expected


def test_empty_parquet_with_zero_rows(world, tmp_path):
    msg = violation(world["orders"].head(0), tmp_path, "orders", "parquet")
    assert "table 'orders'" in msg and "is empty" in msg


def test_zero_byte_csv_is_a_contract_violation(tmp_path):
    (tmp_path / "orders.csv").write_bytes(b"")
    with pytest.raises(ContractViolation, match="table 'orders'"):
        TableDataset(str(tmp_path / "orders.csv"), contract="orders").load()


def test_duplicate_primary_key_lists_the_rows(world, tmp_path):
    orders = world["orders"].head(50).copy()
    dup = orders.loc[2, "order_id"]
    orders.loc[9, "order_id"] = dup
    msg = violation(orders, tmp_path, "orders")
    assert "table 'orders'" in msg
    assert "primary key ['order_id']: 2 rows share a key value" in msg
    assert f"row 2: ('{dup}',)" in msg and f"row 9: ('{dup}',)" in msg


def test_duplicate_composite_key_of_order_items(world, tmp_path):
    items = world["order_items"].head(200).copy()
    # lines of one order share order_id: only the (order_id, line_no) pair is the key
    assert items["order_id"].duplicated().any()
    write(items, tmp_path, "order_items", "csv").load()

    first = items.index[items.duplicated("order_id", keep=False)][0]
    order_id, line_no = items.loc[first, ["order_id", "line_no"]]
    items.loc[150, ["order_id", "line_no"]] = [order_id, line_no]
    msg = violation(items, tmp_path, "order_items")
    assert "table 'order_items'" in msg
    assert "primary key ['order_id', 'line_no']: 2 rows share a key value" in msg
    assert f"row {first}: ('{order_id}', {line_no})" in msg
    assert f"row 150: ('{order_id}', {line_no})" in msg


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_null_in_a_non_nullable_column(world, tmp_path, fmt):
    orders = world["orders"].head(50).copy()
    orders.loc[6, "record_id"] = None
    orders.loc[11, "record_id"] = None
    msg = violation(orders, tmp_path, "orders", fmt)
    assert "table 'orders'" in msg
    assert "column 'record_id': 2 missing value(s) where none are allowed" in msg
    assert "row 6" in msg and "row 11" in msg


def test_nulls_are_fine_where_the_contract_allows_them(world, tmp_path):
    orders = world["orders"].head(50).copy()
    orders["campaign_id"] = None  # nullable
    loaded = write(orders, tmp_path, "orders", "csv").load()
    assert loaded["campaign_id"].isna().all()


def test_value_outside_the_allowed_set(world, tmp_path):
    orders = world["orders"].head(50).copy()
    orders.loc[5, "channel"] = "jd"
    msg = violation(orders, tmp_path, "orders")
    assert "table 'orders'" in msg
    assert "column 'channel': 1 value(s) outside ['pos', 'tmall', 'wechat', 'web']" in msg
    assert "row 5: 'jd'" in msg


def test_value_below_the_minimum(world, tmp_path):
    products = world["products"].copy()
    products.loc[12, "list_price"] = 0.0
    msg = violation(products, tmp_path, "products")
    assert "table 'products'" in msg
    assert "column 'list_price': 1 value(s) below 0.01" in msg and "row 12: 0.0" in msg


def test_unreadable_bool(world, tmp_path):
    products = world["products"].astype({"imported": object})
    products.loc[4, "imported"] = "maybe"
    msg = violation(products, tmp_path, "products")
    assert "column 'imported'" in msg and "not a valid bool" in msg and "row 4: 'maybe'" in msg


def test_every_problem_is_reported_at_once_with_at_most_five_rows(world, tmp_path):
    orders = world["orders"].head(50).astype({"item_count": object})
    orders.loc[5, "channel"] = "jd"
    bad_rows = [1, 3, 5, 7, 9, 11, 13]
    orders.loc[bad_rows, "item_count"] = "many"
    msg = violation(orders, tmp_path, "orders")
    assert "column 'channel'" in msg
    assert "column 'item_count': 7 value(s) are not a valid int" in msg
    for r in bad_rows[:5]:
        assert f"row {r}: 'many'" in msg
    assert "row 11: 'many'" not in msg and "(and 2 more)" in msg


def test_gbk_encoded_csv_says_it_is_not_utf8(world, tmp_path):
    members = world["pos_members"].head(50)
    path = tmp_path / "pos_members.csv"
    members.to_csv(path, index=False, encoding="gbk")  # what Chinese Excel often exports
    with pytest.raises(ContractViolation) as err:
        TableDataset(str(path), contract="pos_members").load()
    msg = str(err.value)
    assert "table 'pos_members'" in msg and "not UTF-8" in msg and "GBK" in msg


def test_unknown_contract_name_raises():
    with pytest.raises(DatasetError, match="unknown contract 'ordres'"):
        TableDataset("data/01_raw/orders.parquet", contract="ordres")


def test_missing_file_names_both_candidates(tmp_path):
    ds = TableDataset(str(tmp_path / "orders.parquet"), contract="orders")
    with pytest.raises(DatasetError) as err:
        ds.load()
    assert "orders.parquet" in str(err.value) and "orders.csv" in str(err.value)


# ------------------------------------------------------------------ the world obeys its contracts


@pytest.mark.parametrize("name", [*RAW_CONTRACTS, *TRUTH_CONTRACTS])
def test_every_world_table_satisfies_its_contract(world, name):
    table = world[name]
    before = table.copy()
    contract = {**RAW_CONTRACTS, **TRUTH_CONTRACTS}[name]

    typed = validate(table, contract, source="world")

    pd.testing.assert_frame_equal(table, before)  # the input is not modified
    assert len(typed) == len(table) > 0
    assert list(typed.columns[: len(contract.columns)]) == contract.column_names
    for col in contract.columns:
        assert str(typed[col.name].dtype) == expected_dtype(name, col.name), col.name
        assert typed[col.name].isna().sum() == table[col.name].isna().sum(), col.name
    assert not typed.duplicated(list(contract.primary_key)).any()


def test_truth_tables_are_marked_truth_and_raw_tables_are_not():
    assert all(c.truth for c in TRUTH_CONTRACTS.values())
    assert not any(c.truth for c in RAW_CONTRACTS.values())
    assert set(RAW_CONTRACTS).isdisjoint(TRUTH_CONTRACTS)
    for contract in (*RAW_CONTRACTS.values(), *TRUTH_CONTRACTS.values()):
        assert set(contract.primary_key) <= set(contract.column_names), contract.name
        assert len(set(contract.column_names)) == len(contract.columns), contract.name


# ------------------------------------------------------------------ the data dictionary


def test_data_dictionary_is_generated_from_the_contracts():
    path = REPO / "docs" / "data_dictionary.md"
    assert path.exists(), "docs/data_dictionary.md is missing: run `omnicrm docs`"
    assert path.read_text(encoding="utf-8") == data_dictionary_markdown() + "\n", (
        "docs/data_dictionary.md is out of date: run `omnicrm docs`")


def test_data_dictionary_documents_every_table_and_column():
    md = data_dictionary_markdown()
    for contract in (*RAW_CONTRACTS.values(), *TRUTH_CONTRACTS.values()):
        assert f"### `{contract.name}`" in md
        for col in contract.columns:
            assert f"| `{col.name}` | {col.dtype} |" in md, (contract.name, col.name)
    assert "| `mobile` | string | yes | PII |" in md
    assert "| `channel` | string | no |  | Sales channel. One of pos, tmall, wechat, web. |" in md
    assert md.index("### `coupon_redemptions`") < md.index("## Hidden ground truth") \
        < md.index("### `truth_persons`")


def test_an_order_after_today_fails_naming_the_row(world, tmp_path):
    """One order dated 2099 would move the data's 'today' to 2099 and every recency with it:
    the load fails naming the column and the row; a day of clock skew is allowed."""
    from omnicrm.contracts import as_of_today

    orders = world["orders"].head(30).copy()
    orders.loc[4, "ordered_at"] = pd.Timestamp("2099-01-01 10:00")
    with pytest.raises(ContractViolation, match=r"column 'ordered_at': 1 time\(s\) after the "
                                                r"data's as-of day .*row 4"):
        write(orders, tmp_path, "orders", "parquet").load()
    skew = as_of_today() + pd.Timedelta(hours=30)   # tomorrow, China time: allowed
    orders.loc[4, "ordered_at"] = skew
    assert write(orders, tmp_path, "orders", "parquet").load().loc[4, "ordered_at"] == skew
    orders.loc[4, "ordered_at"] = pd.Timestamp("2099-01-01 10:00")
    lenient = TableDataset(str(tmp_path / "orders.parquet"), contract="orders",
                           max_future_days=None)
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    assert lenient.load().loc[4, "ordered_at"].year == 2099
