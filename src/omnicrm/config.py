"""Settings: conf/ read once through Kedro's config loader, parsed into typed models.

Every capability has a ``settings.py`` with a pydantic model of its ``params:<cap>`` section.
The defaults live in conf only; a key the model does not know (a typo) or a key conf lacks
stops with a message naming the key and the parameters file, instead of silently building
another model. Entry points that run without a Kedro session (``omnicrm link``, ``omnicrm
repurchase evaluate``, the in-memory world) read conf through the same loader, so ``--env``
applies to them too."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Settings(BaseModel):
    """Base of every settings model: unknown keys are errors, values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


S = TypeVar("S", bound=BaseModel)


class SettingsError(ValueError):
    """A parameters section that does not match its settings model."""


def _where(section: str, project_path: Path | None = None) -> str:
    """The parameters file(s) under conf/ that define ``section``, for error messages."""
    from omnicrm.settings import find_project_root

    root = Path(project_path) if project_path else find_project_root()
    top = section.split(".")[0]
    hits = []
    for path in sorted((root / "conf").glob("*/parameters*.yml")):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if any(line.startswith(f"{top}:") for line in text.splitlines()):
            hits.append(path.relative_to(root).as_posix())
    return " / ".join(hits) or f"conf/base/parameters_{top}.yml"


def parse(model: type[S], params: Any, section: str) -> S:
    """``params`` (a dict from ``params:<section>``, or an already-parsed model) as ``model``;
    a bad key fails with its dotted name and the file it belongs in."""
    if isinstance(params, model):
        return params
    if isinstance(params, BaseModel):
        params = params.model_dump()
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in (section, *err["loc"]))
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown setting '{key}' (a typo? it is not one of "
                                f"{model.__name__}'s settings)")
            elif err["type"] == "missing":
                problems.append(f"missing setting '{key}'")
            else:
                problems.append(f"setting '{key}': {err['msg']} (got {err.get('input')!r})")
        raise SettingsError(f"parameters '{section}' in {_where(section)}:\n  - "
                            + "\n  - ".join(problems)) from None


def load_parameters(env: str | None = None, project_path: str | Path | None = None
                    ) -> dict[str, Any]:
    """Every parameter of the project (base merged with ``env``), as ``kedro run --env``
    would see them, without starting a Kedro session."""
    from kedro.config import OmegaConfigLoader

    from omnicrm.settings import CONFIG_LOADER_ARGS, find_project_root

    root = Path(project_path) if project_path else find_project_root()
    args = dict(CONFIG_LOADER_ARGS)
    if env:
        args["default_run_env"] = env
    import warnings

    with warnings.catch_warnings():
        # Kedro 1.7 registers the custom resolvers through OmegaConf's deprecated call and
        # says so on every load: a command prints only what was asked
        warnings.filterwarnings("ignore", message=".*register_new_resolver.*")
        loader = OmegaConfigLoader(conf_source=str(root / "conf"), **args)
        return dict(loader["parameters"])


def load_settings(model: type[S], section: str, env: str | None = None,
                  project_path: str | Path | None = None) -> S:
    """One section of the project's parameters, parsed into ``model``."""
    params = load_parameters(env, project_path)
    if section not in params:
        raise SettingsError(f"no '{section}' parameters in {_where(section, project_path)}")
    return parse(model, params[section], section)


def settings_from(model: type[S], section: str, params: Any = None,
                  env: str | None = None) -> S:
    """``params`` as ``model`` for library entry points: a parsed model is returned as it is,
    a complete ``params:<section>`` dict is parsed, and ``None`` or a partial dict (a few
    keys to replace, e.g. a CLI's options) is conf's section (``env`` over base) with those
    keys replaced. Unknown keys fail by name either way."""
    if isinstance(params, model):
        return params
    if isinstance(params, BaseModel):
        params = params.model_dump()
    params = dict(params or {})
    if set(model.model_fields) <= set(params):
        return parse(model, params, section)
    unknown = sorted(set(params) - set(model.model_fields))
    if unknown:
        raise SettingsError(f"unknown setting(s) {[f'{section}.{k}' for k in unknown]} (not "
                            f"in {model.__name__}: {sorted(model.model_fields)})")
    return parse(model, {**_conf_section(model, section, env), **params}, section)


_CONF_CACHE: dict[tuple, dict] = {}


def _conf_section(model: type[BaseModel], section: str, env: str | None) -> dict:
    """Conf's ``section`` as checked by ``model``, read once per process and environment."""
    from omnicrm.settings import find_project_root

    key = (model, section, env, str(find_project_root()))
    if key not in _CONF_CACHE:
        _CONF_CACHE[key] = load_settings(model, section, env).model_dump()
    return _CONF_CACHE[key]


def with_overrides(params: dict, overrides: dict | None) -> dict:
    """A deep copy of ``params`` with dotted keys replaced (``{"campaigns.span_days": 90}``)."""
    import copy

    out = copy.deepcopy(params)
    for key, value in (overrides or {}).items():
        node = out
        *path, last = key.split(".")
        for part in path:
            node = node[part]
        if last not in node:
            raise SettingsError(f"unknown setting '{key}'")
        node[last] = value
    return out
