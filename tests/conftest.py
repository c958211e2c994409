"""Shared fixtures: a tiny seeded world built once per session, and a throw-away copy of the
project (conf, data layers, MLflow store) for end-to-end Kedro runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no network lookups from tests
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as omnicrm sets it (see its __init__)

REPO = Path(__file__).resolve().parents[1]
SMALL_WORLD = 3000  # persons: big enough for every hard case to occur, small enough for seconds


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


#: The modules whose tests use the shared default run (the ``ran`` fixture, about 2.5 minutes).
#: ``bootstrap.py test`` runs two pytest-xdist workers; these modules go to one of them
#: together, so the run is built once (xdist's own ``--dist loadgroup`` cannot rename test ids
#: under pytest 9, so the grouping is done by the scheduler below).
SHARED_RUN_MODULES = frozenset({"tests/coupon/test_pipeline.py", "tests/scoring/test_scoring.py",
                                "tests/test_project.py",
                                "tests/pipelines/campaign/test_pipeline.py"})


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedRunScheduling(LoadScopeScheduling):
        """A module's tests go to one worker (its module fixtures are built once), and the
        shared run's modules all to the same one."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "shared-run" if module in SHARED_RUN_MODULES else super()._split_scope(nodeid)

    return SharedRunScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    strays = sorted({item.nodeid.split("::", 1)[0] for item in items
                     if "ran" in getattr(item, "fixturenames", ())} - SHARED_RUN_MODULES)
    if strays:  # else two workers would each build the default run
        raise pytest.UsageError(f"{strays} use the `ran` fixture: add them to "
                                "SHARED_RUN_MODULES in tests/conftest.py")
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow scale check: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def world() -> dict:
    """Every table of a 3,000-person world (seed 7), raw and truth, in memory."""
    from omnicrm.synthetic.world import generate_world

    return generate_world(persons=SMALL_WORLD, seed=7)


def make_project_copy(dest: Path) -> Path:
    """A runnable copy of the project: its conf, pyproject, notebooks and empty data layers."""
    for name in ("conf", "notebooks"):
        shutil.copytree(REPO / name, dest / name,
                        ignore=shutil.ignore_patterns("local", ".ipynb_checkpoints"))
    (dest / "conf" / "local").mkdir(exist_ok=True)
    (dest / "src").mkdir()  # Kedro wants a source dir; the package is the installed checkout
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO / name, dest / name)
    for layer in ("00_truth", "01_raw", "02_intermediate", "03_primary", "04_feature",
                  "05_model_input", "06_models", "07_model_output", "08_reporting"):
        (dest / "data" / layer).mkdir(parents=True, exist_ok=True)
    (dest / "mlruns").mkdir(exist_ok=True)
    (dest / "reports").mkdir(exist_ok=True)
    return dest


def kedro_run(project: Path, pipeline: str | None = None, params: dict | None = None,
              node_names: list[str] | None = None):
    """Run a pipeline (or some of its nodes) of the project copy in-process, as `kedro run`
    would."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from omnicrm.cli import nest

    cwd = Path.cwd()
    os.chdir(project)  # MLflow and data paths resolve against the project the run is in
    try:
        bootstrap_project(project)
        runtime = nest(params or {})
        with KedroSession.create(project_path=project, runtime_params=runtime) as session:
            return session.run(pipeline_names=[pipeline] if pipeline else None,
                               node_names=node_names)
    finally:
        os.chdir(cwd)


def git_init(path: Path) -> str:
    """Make the copy a git checkout with one commit (runs record the commit they ran)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    git("-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q",
        "--allow-empty", "-m", "test")
    return git("rev-parse", "HEAD")


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A project copy on which `kedro run --pipeline synthetic` has run (3,000 persons)."""
    dest = make_project_copy(tmp_path_factory.mktemp("project"))
    git_init(dest)
    kedro_run(dest, "synthetic", {"synthetic.persons": SMALL_WORLD, "synthetic.seed": 7})
    return dest


#: Runtime parameters that keep the default pipelines quick on the 3,000-person world (fewer
#: Optuna trials and cut-offs); the models are still real, only less tuned.
FAST_PARAMS: dict = {"repurchase.seven_day.n_trials": 4, "repurchase.second_purchase.n_trials": 2,
                     "repurchase.propensity.top_categories": 2,
                     "repurchase.propensity.top_brands": 1,
                     "repurchase.second_purchase.train_cutoffs": 12,
                     "retention.churn.n_trials": 3}


@pytest.fixture(scope="session")
def ran(project: Path) -> Path:
    """The project copy after the README's main command (`kedro run`, then `kedro run
    --pipeline evaluation`) on the generated world: shared by the end-to-end, scoring and
    serving tests, so the default run happens once."""
    kedro_run(project, params=FAST_PARAMS)
    kedro_run(project, "evaluation", params=FAST_PARAMS)
    return project


def write_perfect_identity(project: Path) -> None:
    """What the identity pipeline writes, at perfect quality, into a project copy that has a
    generated world: person_index (the truth's record -> person map), member_registrations and
    the golden records under that map (the demographics read them)."""
    import pandas as pd

    from omnicrm.config import load_parameters
    from omnicrm.contracts import CHANNELS
    from omnicrm.identity.golden import golden_records, member_registrations
    from omnicrm.pipelines.identity.nodes import standardise_members

    data = project / "data"
    index = pd.read_parquet(data / "00_truth" / "truth_records.parquet")[
        ["record_id", "channel", "person_id"]]
    index.assign(match_confidence=1.0).to_parquet(data / "03_primary" / "person_index.parquet",
                                                  index=False)
    members = [pd.read_parquet(data / "01_raw" / f"{c}_members.parquet") for c in CHANNELS]
    registrations = member_registrations(*members)
    registrations.to_parquet(data / "03_primary" / "member_registrations.parquet", index=False)
    standardised, _ = standardise_members(*members,
                                          load_parameters(project_path=project)["identity"])
    golden_records(index, standardised, registrations).to_parquet(
        data / "03_primary" / "golden_records.parquet", index=False)


@pytest.fixture(scope="session")
def parameters() -> dict:
    """The project's parameters as `kedro run` sees them (conf/base, read by Kedro's loader)."""
    from omnicrm.config import load_parameters

    return load_parameters(project_path=REPO)


def run_in_memory(pipeline, inputs: dict, parameters: dict) -> dict:
    """Run a Kedro pipeline on an in-memory catalog (as the spaceflights starter's tests do):
    ``inputs`` are the free datasets, ``parameters`` the project's (``params:<key>`` entries
    are made for every top-level key and its first level). Returns every output by name."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    class Kept(MemoryDataset):
        def _release(self) -> None:  # keep every output for the test to read
            pass

    catalog = DataCatalog()
    for name, value in inputs.items():
        catalog[name] = MemoryDataset(value, copy_mode="assign")
    for key, value in parameters.items():
        catalog[f"params:{key}"] = MemoryDataset(value, copy_mode="deepcopy")
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                catalog[f"params:{key}.{sub}"] = MemoryDataset(subvalue, copy_mode="deepcopy")
    missing = set(pipeline.inputs()) - set(catalog.keys())
    if missing:
        raise KeyError(f"the in-memory catalog lacks {sorted(missing)}")
    for name in pipeline.all_outputs():
        catalog[name] = Kept(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}
