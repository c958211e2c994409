"""OneID on the Spark backend (``identity.engine: spark``, ``kedro run --env spark``) scores
and clusters exactly like DuckDB with the same trained model (skips where pyspark or Java is
missing)."""

from __future__ import annotations

import shutil

import pytest

from omnicrm.identity.api import standardise_tables
from omnicrm.identity.link import link_records

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)


def test_spark_links_like_duckdb_with_the_same_model(world):
    persons = set(world["truth_persons"]["person_id"].head(400))
    truth = world["truth_records"]
    keep = set(truth.loc[truth["person_id"].isin(persons), "record_id"])
    tables = {c: world[f"{c}_members"][world[f"{c}_members"]["record_id"].isin(keep)]
              for c in ("pos", "tmall", "wechat", "web")}
    std, _ = standardise_tables(tables)
    full, _ = standardise_tables({c: world[f"{c}_members"] for c in tables})
    model = link_records(full).model           # trained once, on the whole world
    on_duckdb = link_records(std, model=model)
    on_spark = link_records(std, {"engine": "spark"}, model=model)
    assert len(on_spark.pairs) == len(on_duckdb.pairs) > len(std) // 4
    key = ["record_id_l", "record_id_r"]
    a = on_duckdb.pairs.sort_values(key, ignore_index=True)
    b = on_spark.pairs.sort_values(key, ignore_index=True)
    assert (a[key] == b[key]).all().all()
    assert abs(a["match_probability"] - b["match_probability"]).max() < 1e-9
    assert on_spark.clusters.equals(on_duckdb.clusters)


def test_the_spark_environment_switches_only_the_engine():
    from kedro.config import OmegaConfigLoader

    from omnicrm.settings import CONFIG_LOADER_ARGS, PROJECT_ROOT

    def params(env):
        loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **{
            k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "custom_resolvers"})
        return loader["parameters"]

    base, spark = params("local")["identity"], params("spark")["identity"]
    assert base["engine"] == "duckdb" and spark["engine"] == "spark"
    assert {k: v for k, v in spark.items() if k != "engine"} == \
        {k: v for k, v in base.items() if k != "engine"}
