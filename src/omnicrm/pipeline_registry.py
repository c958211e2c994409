"""Project pipelines.

``__default__`` runs everything that reads the raw tables, except the synthetic generator
(so a user's own exports in data/01_raw are never overwritten) and the nodes tagged
``evaluation``, which judge models against the synthetic world's hidden truth and so only
make sense on it. ``evaluation`` (a package of its own, see pipelines/evaluation) runs those.
The README's main command runs ``synthetic``, then ``__default__``, then ``evaluation``.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    everything = sum((p for name, p in pipelines.items()
                      if name not in ("synthetic", "evaluation")), Pipeline([]))
    pipelines["__default__"] = everything - Pipeline(
        [n for n in everything.nodes if "evaluation" in n.tags])
    return pipelines
