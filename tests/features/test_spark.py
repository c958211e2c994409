"""The feature pipeline runs unchanged on PySpark and gives the DuckDB answer (skipped where
pyspark or Java is missing)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from omnicrm.pipelines.features.nodes import build_person_features

pytest.importorskip("pyspark")
if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java", allow_module_level=True)


def test_spark_equals_duckdb_on_a_world_slice(feature_inputs):
    # a slice of persons keeps the local Spark job small: every table restricted to them
    index = feature_inputs["person_index"]
    persons = index["person_id"].drop_duplicates().sort_values().head(200)
    keep = set(index.loc[index["person_id"].isin(persons), "record_id"])
    small = {name: (df[df["record_id"].isin(keep)] if "record_id" in df else df)
             for name, df in feature_inputs.items()}
    small["order_items"] = small["order_items"][
        small["order_items"]["order_id"].isin(small["orders"]["order_id"])]
    params = {"cutoff_date": "2026-06-01"}
    on_duckdb = build_person_features(**small, params=params, engine={"name": "duckdb"})
    on_spark = build_person_features(**small, params=params, engine={
        "name": "spark", "options": {"master": "local[1]",
                                     "conf": {"spark.sql.shuffle.partitions": 1}}})
    assert 150 < len(on_duckdb) <= len(persons) and on_duckdb["frequency"].sum() > 50
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_dtype=False, rtol=1e-9)
