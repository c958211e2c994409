"""The evaluation pipeline, collected from the other pipelines' ``evaluation``-tagged nodes.

A real package rather than a name made up in ``pipeline_registry``: Kedro 1.7 only imports
the pipeline packages named on the command line (``kedro run --pipeline evaluation``), so a
pipeline that exists only in the registry is "not found" when asked for alone."""

from __future__ import annotations

import importlib
import pkgutil

from kedro.pipeline import Pipeline

import omnicrm.pipelines as package

TAG = "evaluation"
NOT_JUDGED = {"evaluation", "synthetic"}  # itself, and the generator that writes the truth


def create_pipeline(**kwargs) -> Pipeline:
    nodes = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.ispkg or info.name in NOT_JUDGED:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        nodes += [n for n in module.create_pipeline().nodes if TAG in n.tags]
    return Pipeline(nodes)
