"""The ``synthetic`` conf section parses into SyntheticSettings; bad keys fail by name."""

import pytest

from omnicrm.config import SettingsError, parse, with_overrides
from omnicrm.synthetic.settings import SyntheticSettings


def test_conf_parses(parameters):
    s = parse(SyntheticSettings, parameters, "synthetic")
    assert s.persons == parameters["synthetic"]["persons"]
    assert s.events.engaged_days_after_dropout == 60


def test_misspelt_key_fails_naming_it(parameters):
    bad = with_overrides(parameters, {"synthetic.events.views_per_sesion": 1.0})
    with pytest.raises(SettingsError) as err:
        parse(SyntheticSettings, bad, "synthetic")
    assert "synthetic.events.views_per_sesion" in str(err.value)
    assert "parameters" in str(err.value)


def test_missing_key_fails(parameters):
    bad = {**parameters, "synthetic": {k: v for k, v in parameters["synthetic"].items()
                                       if k != "buyer_share"}}
    with pytest.raises(SettingsError) as err:
        parse(SyntheticSettings, bad, "synthetic")
    assert "synthetic.buyer_share" in str(err.value)
