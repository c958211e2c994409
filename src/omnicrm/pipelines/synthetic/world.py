"""Generate a whole world in memory, without a Kedro project on disk (tests, benchmarks and
notebooks that want a throw-away world)."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from .pipeline import create_pipeline


class _KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so every table is there after the run."""

    def _release(self) -> None:
        pass


def default_params() -> dict:
    """The ``synthetic`` parameters of conf/base/parameters_synthetic.yml."""
    from omnicrm.settings import PROJECT_ROOT

    path = Path(PROJECT_ROOT) / "conf" / "base" / "parameters_synthetic.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["synthetic"]


def generate_world(persons: int | None = None, seed: int | None = None,
                   overrides: dict | None = None, summary: bool = False
                   ) -> dict[str, pd.DataFrame]:
    """Run the synthetic pipeline in memory and return every table it writes (raw tables under
    their names, truth under ``truth_*``)."""
    params = copy.deepcopy(default_params())
    if persons is not None:
        params["persons"] = persons
    if seed is not None:
        params["seed"] = seed
    for key, value in (overrides or {}).items():
        node = params
        *path, last = key.split(".")
        for part in path:
            node = node[part]
        node[last] = value
    pipe = create_pipeline()
    if not summary:
        pipe = pipe.filter(tags=None, node_names=[n.name for n in pipe.nodes
                                                  if n.name != "summarise_world"])
    catalog = DataCatalog({"params:synthetic": MemoryDataset(params)})
    for name in pipe.all_outputs():
        catalog[name] = _KeptDataset(copy_mode="assign")
    SequentialRunner().run(pipe, catalog)
    return {name: catalog.load(name) for name in sorted(pipe.all_outputs())
            if not name.startswith("synthetic_")}
