"""The layout docs/architecture.md promises: one domain package per pipeline, no domain module
importing a pipeline, no conf file read by path, settings models with no defaults of their own."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import omnicrm
from omnicrm.config import Settings

SRC = Path(omnicrm.__file__).resolve().parent
# pipelines whose logic is shared infrastructure rather than a capability package:
# data_checks runs omnicrm.contracts, evaluation collects every capability's evaluation nodes
NO_DOMAIN_PACKAGE = {"data_checks", "evaluation"}


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_no_module_outside_pipelines_imports_a_pipeline():
    offenders = []
    for path, tree in _modules():
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("pipelines/") or rel == "pipeline_registry.py":
            continue
        offenders += [f"{rel}: {name}" for name in _imports(tree)
                      if name.startswith("omnicrm.pipelines")]
    assert offenders == []


def test_every_pipeline_has_a_domain_package_of_its_name():
    pipelines = {m.name for m in pkgutil.iter_modules([str(SRC / "pipelines")]) if m.ispkg}
    domains = {m.name for m in pkgutil.iter_modules([str(SRC)]) if m.ispkg}
    assert pipelines - NO_DOMAIN_PACKAGE <= domains, sorted(pipelines - domains)
    assert {"synthetic", "identity", "features", "segments", "repurchase", "coupon",
            "scoring"} <= pipelines


def test_no_parameters_file_is_read_by_path():
    """Settings come through Kedro's config loader (omnicrm.config), so --env applies."""
    offenders = []
    for path, tree in _modules():
        if path.name == "config.py":
            continue  # names the file in its error messages, reads it through the loader
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and "parameters_" in node.value and node.value.endswith(".yml")):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def _settings_models():
    for info in pkgutil.iter_modules([str(SRC)]):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"omnicrm.{info.name}.settings")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Settings) and cls is not Settings \
                    and cls.__module__ == module.__name__:
                yield cls


def test_settings_models_keep_no_defaults():
    """Defaults live in conf only: a field with a default in code would be a second source."""
    models = list(_settings_models())
    assert len(models) >= 5
    with_defaults = [f"{m.__module__}.{m.__name__}.{name}" for m in models
                     for name, field in m.model_fields.items() if not field.is_required()]
    assert with_defaults == []


def test_a_misspelt_setting_names_the_key_and_the_file():
    from omnicrm.config import SettingsError, parse

    class Demo(Settings):
        horizon_days: int

    with pytest.raises(SettingsError) as err:
        parse(Demo, {"horizon_dayz": 7}, "repurchase")
    assert "unknown setting 'repurchase.horizon_dayz'" in str(err.value)
    assert "missing setting 'repurchase.horizon_days'" in str(err.value)
    with pytest.raises(SettingsError, match=r"conf/base/parameters_repurchase\.yml"):
        parse(Demo, {"horizon_days": "a week"}, "repurchase")
