"""The profiles pipeline on an in-memory catalog over the 3,000-person world: browse
interests find the true favourite category far more often than purchase shares do, and the
customer 360 has one row per person with the other pipelines' values joined in. Retention's
churn scores and win-back audience are stand-ins here (training the churn model is the
retention tests' job); its customer value is the real node's."""

from __future__ import annotations

import pandas as pd
import pytest

from omnicrm.contracts import DERIVED_CONTRACTS, validate
from omnicrm.pipelines.profiles import create_pipeline
from omnicrm.pipelines.retention import create_pipeline as retention_pipeline
from omnicrm.pipelines.segments import create_pipeline as segments_pipeline
from tests.conftest import run_in_memory
from tests.pipelines.conftest import inputs_of


@pytest.fixture(scope="module")
def profiled(upstream, fast_parameters) -> dict:
    tables = dict(upstream)
    for part in (segments_pipeline().only_nodes("build_customer_rfm"),
                 retention_pipeline().only_nodes("fit_customer_value")):
        tables.update(run_in_memory(part, inputs_of(part, tables), fast_parameters))
    buyers = tables["person_features"].query("frequency > 0")["person_id"]
    tables["churn_scores"] = pd.DataFrame({"person_id": buyers.iloc[:300].to_numpy(),
                                           "churn_90d_probability": 0.25,
                                           "churn_rank": range(1, 301)})
    tables["winback_audience"] = pd.DataFrame({"person_id": buyers.iloc[-50:].to_numpy(),
                                               "winback_rank": range(1, 51)})
    pipeline = create_pipeline()
    return {**tables, **run_in_memory(pipeline, inputs_of(pipeline, tables), fast_parameters)}


def test_browse_interests_beat_purchase_shares(profiled):
    ev = profiled["browse_interest_evaluation"]
    # purchase shares: the segments evaluation's preferred_category_accuracy (0.48)
    assert 0.4 < ev["purchase_accuracy_at_1"] < 0.56
    assert ev["browse_accuracy_at_1"] > 0.85 and ev["browse_accuracy_at_3"] > 0.95
    assert ev["browse_on_buyers_accuracy_at_1"] > ev["purchase_on_browsers_accuracy_at_1"] + 0.3
    assert profiled["browse_interest_evaluation_metrics"]
    interests = profiled["browse_interests"]
    assert not interests.duplicated(["person_id", "category"]).any()
    assert (interests.groupby("person_id")["interest_rank"].min() == 1).all()
    typology = profiled["browse_profile"]["browse_typology"].value_counts()
    assert set(typology.index) == {"browses_and_buys", "browses_without_buying",
                                   "buys_without_browsing", "neither"}


def test_customer_360_one_row_per_person_with_the_joins(profiled):
    features = profiled["person_features"]
    c360 = profiled["customer_360"]
    assert c360["person_id"].tolist() == features["person_id"].tolist()
    c = c360.set_index("person_id")
    for table, column in (("customer_segments", "value_tier_name"),
                          ("customer_segments", "lifecycle_stage"),
                          ("customer_rfm", "rfm_cell"), ("person_demographics", "age_band"),
                          ("customer_value", "clv_12m"), ("customer_value", "p_alive"),
                          ("browse_profile", "browse_typology")):
        want = profiled[table].set_index("person_id")[column].reindex(c.index)
        pd.testing.assert_series_equal(c[column], want, check_names=False, check_dtype=False)
    assert c["churn_90d_probability"].notna().sum() == 300
    assert c["winback"].sum() == 50
    # campaign history against a direct count: persons x campaigns addressed before the cut
    members = profiled["campaign_members"].merge(profiled["person_index"], on="record_id")
    members = members[members["assigned_at"] < features["cutoff_date"].iloc[0]]
    addressed = members.drop_duplicates(["person_id", "campaign_id"]).groupby("person_id") \
        .size().reindex(c.index, fill_value=0)
    assert (c["campaigns_addressed"] == addressed).all() and addressed.sum() > 0
    assert not {"birth_date", "address_detail", "mobile", "name_hanzi"} & set(c360.columns)


def test_tables_keep_their_documented_contracts(profiled):
    """The per-person tables have exactly the data dictionary's columns, types, null rules,
    closed value sets and keys (omnicrm.contracts.DERIVED_CONTRACTS)."""
    for name, contract in DERIVED_CONTRACTS.items():
        table = profiled[name]
        assert list(table.columns) == contract.column_names, name
        validate(table, contract, source=name, max_future_days=None)
