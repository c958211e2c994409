"""Run the Kedro inference pipeline in memory: what the registered model does per request and
what ``omnicrm score`` does per chunk."""

from __future__ import annotations

import logging

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from omnicrm.scoring.pipeline import INPUT_NAME, OUTPUT_NAME


def run_inference(pipeline: Pipeline, features: pd.DataFrame, models: dict, params: dict
                  ) -> pd.DataFrame:
    """Score ``features`` with the fitted ``models`` (value_tier_model, repurchase_7d_model,
    coupon_policy) and ``params`` ({"segments": ..., "scoring": ...})."""
    datasets = {INPUT_NAME: MemoryDataset(features, copy_mode="assign")}
    datasets.update({name: MemoryDataset(model, copy_mode="assign")
                     for name, model in models.items()})
    datasets.update({f"params:{name}": MemoryDataset(value, copy_mode="assign")
                     for name, value in params.items()})
    catalog = DataCatalog(datasets=datasets)
    runner_log = logging.getLogger("kedro")
    level = runner_log.level
    runner_log.setLevel(logging.WARNING)  # one request is not a pipeline run worth 6 log lines
    try:
        out = SequentialRunner().run(pipeline, catalog)
    finally:
        runner_log.setLevel(level)
    return out[OUTPUT_NAME].load()
