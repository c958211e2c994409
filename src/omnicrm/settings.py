"""Project settings: hooks, config loader and its resolvers."""

from pathlib import Path

from kedro.config import OmegaConfigLoader  # noqa: F401

from omnicrm.hooks import RunTaggingHooks

# The source checkout (editable install); fall back to the working directory otherwise.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
if not (PROJECT_ROOT / "pyproject.toml").exists():
    PROJECT_ROOT = Path.cwd()

HOOKS = (RunTaggingHooks(),)


def _project_uri(relative: str, scheme: str = "") -> str:
    """``${project_uri:mlruns/mlflow.db,sqlite}`` -> sqlite:////abs/project/mlruns/mlflow.db,
    so notebooks started in notebooks/ and runs from the root share one MLflow store."""
    path = (PROJECT_ROOT / relative).as_posix()
    if not scheme:
        return path
    return f"sqlite:///{path}" if scheme == "sqlite" else f"{scheme}://{path}"


CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"project_uri": _project_uri},
}
