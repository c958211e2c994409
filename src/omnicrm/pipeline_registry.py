"""Project pipelines.

``__default__`` runs everything that reads the raw tables. It does not include ``synthetic``,
so a user's own exports in data/01_raw are never overwritten; the README's main command runs
``synthetic`` first, then ``__default__``.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name != "synthetic"), Pipeline([])
    )
    return pipelines
