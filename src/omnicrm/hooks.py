"""Project hooks: every MLflow run records the code version it ran."""

from __future__ import annotations

import subprocess
from typing import Any

from kedro.framework.hooks import hook_impl


def git_state(cwd: str | None = None) -> dict[str, str]:
    """Commit and dirtiness of the checkout, or nothing outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"mlflow.source.git.commit": commit, "git_dirty": str(bool(dirty.strip())).lower()}


class RunTaggingHooks:
    """Tags the run kedro-mlflow started with the git commit and the Kedro pipeline name."""

    @hook_impl(trylast=True)  # after kedro-mlflow has started the run
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        import mlflow

        if mlflow.active_run() is None:
            return
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")
                                                     or "__default__"]
        if isinstance(names, str):
            names = [names]
        mlflow.set_tags({"kedro_pipeline": "+".join(names),
                         "kedro_env": run_params.get("env") or "local",
                         **git_state(run_params.get("project_path"))})
