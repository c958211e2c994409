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
    """Tags the run kedro-mlflow started with the git commit and the Kedro pipeline name, and
    makes sure that run is closed when the pipeline ends.

    kedro-mlflow 2.0.3 ends its run from a different context than the one that started it
    under Kedro 1.7, so in a long-lived process (a notebook, the tests) the finished run stays
    'active' and the next ``session.run()`` logs into it."""

    def __init__(self) -> None:
        self._opened_by_kedro = False
        self._run_params: dict[str, Any] = {}
        self._tagged = False

    @hook_impl(tryfirst=True)  # before kedro-mlflow starts its run
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        import mlflow

        self._opened_by_kedro = mlflow.active_run() is None
        self._run_params = run_params
        self._tagged = False

    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._close("FINISHED")

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error, run_params: dict[str, Any], pipeline, catalog) -> None:
        self._close("FAILED")

    def _close(self, status: str) -> None:
        import mlflow

        if self._opened_by_kedro:
            while mlflow.active_run() is not None:
                mlflow.end_run(status)
        self._opened_by_kedro = False

    @hook_impl(trylast=True)  # after kedro-mlflow has started the run
    def before_node_run(self, node, catalog, inputs, is_async) -> None:
        self._tag_once()

    def _tag_once(self) -> None:
        import mlflow

        if self._tagged or mlflow.active_run() is None:
            return
        self._tagged = True
        run_params = self._run_params
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")
                                                     or "__default__"]
        if isinstance(names, str):
            names = [names]
        mlflow.set_tags({"kedro_pipeline": "+".join(names),
                         "kedro_env": run_params.get("env") or "local",
                         **git_state(run_params.get("project_path"))})
