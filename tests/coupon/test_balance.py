"""Bad campaign designs give a clear error or a warning naming the campaign, never a
silently biased model."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from omnicrm.coupon.balance import CampaignDesignError, check_campaigns


def test_valid_campaigns_pass(training, coupon_params):
    data, _ = training
    kept, report = check_campaigns(data, coupon_params["balance"])
    assert len(kept) == len(data)
    assert (report["status"] == "ok").all()


def test_campaign_without_control_is_left_out_with_a_warning(training, coupon_params, caplog):
    data, _ = training
    bad = data[~((data["campaign_id"] == "C003") & (data["treated"] == 0))]
    with caplog.at_level(logging.WARNING, logger="omnicrm.coupon.balance"):
        kept, report = check_campaigns(bad, coupon_params["balance"])
    assert "C003" not in set(kept["campaign_id"])
    assert report.set_index("campaign_id").loc["C003", "status"] == "excluded: no control group"
    assert any("C003" in r.message and "no control group" in r.message for r in caplog.records)


def test_no_usable_campaign_is_an_error(training, coupon_params):
    data, _ = training
    with pytest.raises(CampaignDesignError, match="no campaign is a usable"):
        check_campaigns(data[data["treated"] == 1], coupon_params["balance"])


def _rigged(data, campaign="C004"):
    """All high spenders of one campaign treated, the rest control: visibly non-random."""
    d = data.copy()
    rows = d["campaign_id"] == campaign
    high = d["monetary"] > d.loc[rows, "monetary"].median()
    d.loc[rows, "treated"] = np.where(high[rows], 1.0, 0.0)
    return d


def test_imbalanced_assignment_warns_naming_campaign_and_covariates(training, coupon_params,
                                                                    caplog):
    data, _ = training
    with caplog.at_level(logging.WARNING, logger="omnicrm.coupon.balance"):
        kept, report = check_campaigns(_rigged(data), coupon_params["balance"])
    msgs = [r.message for r in caplog.records if "C004" in r.message]
    assert msgs and "monetary (SMD +" in msgs[0] and "not look random" in msgs[0]
    assert "C004" not in set(kept["campaign_id"])           # on_imbalance: exclude
    assert report.set_index("campaign_id").loc["C004", "max_abs_smd"] > 0.5
    others = report[report["campaign_id"] != "C004"]
    assert (others["status"] == "ok").all()                 # no false alarm on random ones


def test_imbalance_can_fail_the_run(training, coupon_params):
    data, _ = training
    with pytest.raises(CampaignDesignError, match="C004"):
        check_campaigns(_rigged(data), {**coupon_params["balance"], "on_imbalance": "raise"})
