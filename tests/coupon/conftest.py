"""Fixtures of the coupon tests: the campaign training set and a fitted policy on the
3,000-person world, with a perfect identity (person_index = truth_records) so that model
quality is judged apart from OneID errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from omnicrm.coupon.basket import basket_training_rows
from omnicrm.coupon.policy import CouponPolicy, menu_offers
from omnicrm.coupon.training import (
    campaign_training_set,
    features_function,
    model_columns,
    non_member_rows,
    season_factors,
)
from omnicrm.features import resolve_cutoff
from omnicrm.identity.golden import member_registrations

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def coupon_params() -> dict:
    return yaml.safe_load((REPO / "conf/base/parameters_coupon.yml").read_text())["coupon"]


@pytest.fixture(scope="session")
def perfect_index(world) -> pd.DataFrame:
    return world["truth_records"][["record_id", "person_id"]]


@pytest.fixture(scope="session")
def features_at(world, perfect_index):
    w = world
    tables = {"orders": w["orders"], "order_items": w["order_items"], "events": w["events"],
              "campaign_members": w["campaign_members"],
              "coupon_redemptions": w["coupon_redemptions"],
              "registrations": member_registrations(w["pos_members"], w["tmall_members"],
                                             w["wechat_members"], w["web_members"]),
              "person_index": perfect_index}
    return features_function(tables, w["products"], {}, "duckdb", {"threads": 2})


@pytest.fixture(scope="session")
def training(world, perfect_index, features_at, coupon_params):
    data, tables = campaign_training_set(world["campaigns"], world["campaign_offers"],
                                         world["campaign_members"], world["orders"],
                                         perfect_index, features_at,
                                         coupon_params["gross_margin"])
    return data, tables


@pytest.fixture(scope="session")
def planning_features(world, features_at) -> pd.DataFrame:
    return features_at(resolve_cutoff(None, world["orders"]))


@pytest.fixture(scope="session")
def fitted_policy(world, training, planning_features, perfect_index, coupon_params):
    data, tables = training
    rows = basket_training_rows(tables, world["orders"], perfect_index,
                                coupon_params["basket"]["horizon_days"])
    untreated = non_member_rows(tables, data, world["campaigns"], world["orders"],
                                perfect_index, coupon_params["gross_margin"],
                                coupon_params["purchase"]["non_member_sample"])
    menu = menu_offers(coupon_params["menu"]["thresholds"], coupon_params["menu"]["discounts"])
    policy = CouponPolicy(list(planning_features.columns), model_columns(planning_features),
                          menu, coupon_params).fit(data, rows, untreated)
    factors = season_factors(world["orders"], perfect_index, world["campaigns"],
                             pd.Timestamp(planning_features["cutoff_date"].iloc[0]),
                             coupon_params["window_days"])
    policy.season_factor = factors["repeat"]
    policy.first_purchase_season_factor = factors["first"]
    policy.choose_segment_offers(planning_features)
    return policy
