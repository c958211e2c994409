"""Project pipelines.

Every capability has a pipeline of its own name (``kedro run --pipeline coupon``). Nodes tagged
``evaluation`` judge models against the synthetic world's hidden truth, so they only make sense
on it: they are left out of every capability's pipeline and of ``__default__``, and the
``evaluation`` pipeline (a package of its own, see pipelines/evaluation) runs them all.
``__default__`` runs everything that reads the raw tables, except the synthetic generator (so a
user's own exports in data/01_raw are never overwritten) and the campaign design (a design is
made when someone asks for one: ``omnicrm campaign plan``). The README's main command runs
``synthetic``, then ``__default__``, then ``evaluation``.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

NOT_IN_DEFAULT = ("synthetic", "evaluation", "campaign")
TAG = "evaluation"


def _without_evaluation(pipeline: Pipeline) -> Pipeline:
    return Pipeline([n for n in pipeline.nodes if TAG not in n.tags])


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    for name, pipeline in list(pipelines.items()):
        if name not in NOT_IN_DEFAULT:  # the generator keeps its world summary
            pipelines[name] = _without_evaluation(pipeline)
    pipelines["__default__"] = sum((p for name, p in pipelines.items()
                                    if name not in NOT_IN_DEFAULT), Pipeline([]))
    return pipelines
