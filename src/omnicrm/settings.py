"""Project settings: hooks, config loader and its resolvers."""

from pathlib import Path

from kedro.config import OmegaConfigLoader  # noqa: F401

from omnicrm.hooks import RunTaggingHooks

# The source checkout of an editable install (the README's set-up).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def find_project_root(start: Path | None = None) -> Path:
    """The Kedro project around the working directory (so a notebook in notebooks/ and a run
    from the root agree), else the source checkout."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        toml = d / "pyproject.toml"
        if toml.exists() and "[tool.kedro]" in toml.read_text(encoding="utf-8"):
            return d
    return PROJECT_ROOT

HOOKS = (RunTaggingHooks(),)


def _pinned(*names: str) -> list[str]:
    from omnicrm.tracking import pinned

    return pinned(*names)


def _project_uri(relative: str, scheme: str = "") -> str:
    """``${project_uri:mlruns/mlflow.db,sqlite}`` -> sqlite:////abs/project/mlruns/mlflow.db,
    so notebooks started in notebooks/ and runs from the root share one MLflow store."""
    path = (find_project_root() / relative).as_posix()
    if not scheme:
        return path
    return f"sqlite:///{path}" if scheme == "sqlite" else f"{scheme}://{path}"


CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # an environment overrides single parameters (conf/spark: identity.engine) and keeps
    # the rest of base's nested settings
    "merge_strategy": {"parameters": "soft"},
    # ${pinned:scikit-learn,numpy}: a logged model's pip requirements at the installed versions
    "custom_resolvers": {"project_uri": _project_uri, "pinned": _pinned},
}
