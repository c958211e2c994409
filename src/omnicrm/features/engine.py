"""Where the feature transforms run: the same narwhals lazy frames over a DuckDB relation, a
Spark DataFrame or (for tests) pandas."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pandas as pd

ENGINES = ("duckdb", "spark", "pandas")


def spark_session(master: str = "local[*]", conf: dict[str, Any] | None = None):
    """The active Spark session, or a new one. Timestamps are kept in UTC so that naive
    wall-clock times of the data mean the same on every engine; Splink's similarity jar is
    on the class path so the OneID linker runs on the same session."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("omnicrm")
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                "spark.sql.shuffle.partitions": "8",
                "spark.ui.showConsoleProgress": "false", **(conf or {})}
    try:  # Splink's string similarity functions (Jaro-Winkler ...) for OneID on Spark
        from splink.backends.spark import similarity_jar_location

        settings.setdefault("spark.jars", similarity_jar_location())
    except ImportError:
        pass
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()


def lazy_tables(tables: dict[str, Any], engine: str = "duckdb",
                engine_options: dict[str, Any] | None = None) -> dict[str, nw.LazyFrame]:
    """Wrap each table as a narwhals LazyFrame on ``engine``.

    Tables may be pandas frames (what the catalog loads) or already native lazy frames of the
    engine (a DuckDB relation over Parquet files, a Spark DataFrame), which pass through
    untouched; that is how the benchmark and a cluster run stay out of core."""
    options = dict(engine_options or {})
    if engine not in ENGINES:
        raise ValueError(f"unknown feature engine '{engine}'; one of {ENGINES}")
    if engine == "duckdb":
        import duckdb

        con = options.pop("connection", None) or duckdb.connect()
        for key, value in options.items():  # e.g. threads, memory_limit
            con.execute(f"SET {key} = '{value}'")
        out = {}
        for name, table in tables.items():
            native = con.from_arrow(_arrow(table)) if isinstance(table, pd.DataFrame) else table
            out[name] = nw.from_native(native)
        return out
    if engine == "spark":
        spark = spark_session(options.get("master", "local[*]"), options.get("conf"))
        return {name: nw.from_native(spark.createDataFrame(_arrow(table))
                                     if isinstance(table, pd.DataFrame) else table)
                for name, table in tables.items()}
    return {name: nw.from_native(table).lazy() if isinstance(table, pd.DataFrame)
            else nw.from_native(table) for name, table in tables.items()}


def _arrow(df: pd.DataFrame):
    """pandas -> Arrow with microsecond timestamps (Spark's and DuckDB's precision) and plain
    strings, so every engine sees the same types."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = []
    for field in table.schema:
        t = field.type
        if pa.types.is_timestamp(t):
            t = pa.timestamp("us")
        elif pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        fields.append(pa.field(field.name, t))
    return table.cast(pa.schema(fields), safe=False)
