"""The ``synthetic`` conf section parses into SyntheticSettings; bad keys fail by name."""

import pytest

from omnicrm.config import SettingsError, parse
from omnicrm.synthetic.settings import SyntheticSettings


def test_conf_parses(parameters):
    s = parse(SyntheticSettings, parameters["synthetic"], "synthetic")
    assert s.persons == parameters["synthetic"]["persons"]
    assert s.events.engaged_days_after_dropout == 60


def test_misspelt_key_fails_naming_it(parameters):
    events = dict(parameters["synthetic"]["events"])
    events["views_per_sesion"] = events.pop("views_per_session")
    bad = {**parameters["synthetic"], "events": events}
    with pytest.raises(SettingsError) as err:
        parse(SyntheticSettings, bad, "synthetic")
    assert "unknown setting 'synthetic.events.views_per_sesion'" in str(err.value)
    assert "missing setting 'synthetic.events.views_per_session'" in str(err.value)
    assert "parameters_synthetic.yml" in str(err.value)


def test_missing_key_fails(parameters):
    bad = {**parameters, "synthetic": {k: v for k, v in parameters["synthetic"].items()
                                       if k != "buyer_share"}}
    with pytest.raises(SettingsError) as err:
        parse(SyntheticSettings, bad["synthetic"], "synthetic")
    assert "synthetic.buyer_share" in str(err.value)
