"""Loads what a campaign report needs from a Kedro project's catalog: the campaign and order
tables (checked against their contracts), the OneID ``person_index`` and ``customer_segments``
when they exist, and each member record's channel. Personal columns are dropped on load."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from omnicrm.config import load_parameters
from omnicrm.contracts import CHANNELS

REQUIRED = ["campaigns", "campaign_offers", "campaign_members", "campaign_sends",
            "coupon_redemptions", "orders"]
# optional datasets and the file each pipeline documents, used when the catalog lacks them
OPTIONAL = {"person_index": "data/03_primary/person_index.parquet",
            "customer_segments": "data/07_model_output/customer_segments.parquet",
            "campaign_segments": "data/07_model_output/campaign_segments.parquet"}


@contextmanager
def _in_dir(path: Path):
    cwd = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(cwd)


def _config(project_path: Path, env: str | None):
    """The project's OmegaConfigLoader, built as settings.py does (no session, no hooks, no
    pipeline registry: a report only needs the catalog and the parameters)."""
    from kedro.config import OmegaConfigLoader

    from omnicrm.settings import CONFIG_LOADER_ARGS

    args = dict(CONFIG_LOADER_ARGS)
    return OmegaConfigLoader(conf_source=str(project_path / "conf"), env=env, **args)


def project_catalog(project_path: str | Path, env: str | None = None):
    """The Kedro data catalog of the project at ``project_path`` (load inside that folder:
    its file paths are relative to it)."""
    from kedro.io import DataCatalog

    project_path = Path(project_path).resolve()
    with _in_dir(project_path):
        conf = _config(project_path, env)
        try:
            credentials = conf["credentials"]
        except Exception:  # noqa: BLE001 - no credentials file is fine
            credentials = {}
        return DataCatalog.from_config(conf["catalog"], credentials)


def _exists(catalog, name: str) -> bool:
    try:
        return name in catalog and catalog.exists(name)
    except Exception:  # noqa: BLE001 - a dataset that cannot even check is absent
        return False


def load_tables(project_path: str | Path, env: str | None = None) -> dict:
    """Every table of :func:`omnicrm.reporting.campaign.analyse_campaign`, by name; optional
    ones are None when absent."""
    project_path = Path(project_path).resolve()
    catalog = project_catalog(project_path, env)
    tables: dict = {}
    with _in_dir(project_path):
        for name in REQUIRED:
            tables[name] = catalog.load(name)
        for name, default in OPTIONAL.items():
            if _exists(catalog, name):
                tables[name] = catalog.load(name)
            elif (project_path / default).exists():
                tables[name] = pd.read_parquet(project_path / default)
            else:
                tables[name] = None
        channels = []
        for ch in CHANNELS:
            name = f"{ch}_members"
            if _exists(catalog, name):
                m = catalog.load(name)
                channels.append(m[["record_id", "registered_at"]].assign(channel=ch))
        tables["member_channels"] = pd.concat(channels, ignore_index=True) if channels \
            else None
    # the project's own lifecycle rule, for segments derived when customer_segments lacks them
    tables["segments_lifecycle"] = load_parameters(env, project_path).get(
        "segments", {}).get("lifecycle")
    return tables


def reporting_params(project_path: str | Path, env: str | None = None) -> dict:
    """The ``reporting`` parameters of the project (conf/base/parameters_reporting.yml)."""
    return dict(load_parameters(env, Path(project_path).resolve()).get("reporting", {}))
