"""The ``omnicrm`` command. Its subcommands are also Kedro project commands (``kedro generate``).

\b
    omnicrm generate --persons 20000 --seed 42   # write the synthetic world to data/
    omnicrm run [kedro run options]              # the pipelines (same as `kedro run`)
    omnicrm docs                                 # regenerate docs/data_dictionary.md
    omnicrm ui                                   # MLflow UI on the project's store
    omnicrm campaign plan [--brief F.yml]        # design the next campaign with a holdout
    omnicrm simulate                             # run it in the synthetic world
    omnicrm score --input F --output F.parquet   # batch-score with the registered champion
    omnicrm serve                                # serve the champion over HTTP
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")


def _quiet_logging_banner(record: logging.LogRecord) -> bool:
    """Kedro announces which logging file it read (``Using '.../rich_logging.yml' as logging
    configuration``) on import, before every command, even ``--help``: a CLI prints only
    what was asked, so that one line is dropped."""
    return "as logging configuration" not in record.getMessage()


logging.getLogger("kedro.framework.project").addFilter(_quiet_logging_banner)

from kedro.framework.cli.project import run  # noqa: E402  (after the filter is in place)


def project_root() -> Path:
    from omnicrm.settings import find_project_root

    return find_project_root()


def nest(dotted: dict) -> dict:
    """{"synthetic.persons": 5} -> {"synthetic": {"persons": 5}}: the shape Kedro merges
    runtime parameters in (as `kedro run --params synthetic.persons=5` does)."""
    out: dict = {}
    for key, value in dotted.items():
        node = out
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out


@click.group(name="omnicrm", help=__doc__)
def cli() -> None:
    """omnicrm project commands."""


cli.add_command(run)


@cli.command()
@click.option("--persons", type=click.IntRange(min=10), default=None,
              help="Number of hidden persons (default: conf/base/parameters_synthetic.yml).")
@click.option("--seed", type=int, default=None, help="Random seed (same seed, same world).")
@click.option("--env", default=None, help="Kedro configuration environment.")
def generate(persons: int | None, seed: int | None, env: str | None) -> None:
    """Generate the synthetic world into data/01_raw (and its truth into data/00_truth)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = project_root()
    bootstrap_project(root)
    overrides = {}
    if persons is not None:
        overrides["synthetic.persons"] = persons
    if seed is not None:
        overrides["synthetic.seed"] = seed
    with KedroSession.create(project_path=root, env=env, runtime_params=nest(overrides)) as session:
        session.run(pipeline_names=["synthetic"])


@cli.command()
@click.option("--check", is_flag=True, help="Fail if the committed file is out of date.")
def docs(check: bool) -> None:
    """Regenerate docs/data_dictionary.md from the table contracts."""
    from omnicrm.contracts import data_dictionary_markdown

    path = project_root() / "docs" / "data_dictionary.md"
    text = data_dictionary_markdown() + "\n"
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{path} is out of date: run `omnicrm docs`")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}")


@cli.command()
@click.option("--port", default=5000, show_default=True)
def ui(port: int) -> None:
    """Open the MLflow UI on the project's store (mlruns/)."""
    from omnicrm.settings import _project_uri

    os.execvp(sys.executable, [sys.executable, "-m", "mlflow", "ui", "--port", str(port),
                               "--backend-store-uri", _project_uri("mlruns/mlflow.db", "sqlite"),
                               "--default-artifact-root", _project_uri("mlruns/artifacts",
                                                                       "file")])


from omnicrm.campaign.cli import campaign  # noqa: E402
from omnicrm.identity.cli import link  # noqa: E402
from omnicrm.reporting.cli import reports  # noqa: E402
from omnicrm.repurchase.cli import repurchase  # noqa: E402
from omnicrm.scoring.cli import score, serve  # noqa: E402
from omnicrm.synthetic.cli import simulate  # noqa: E402

cli.add_command(campaign)
cli.add_command(simulate)
cli.add_command(link)
cli.add_command(reports)
cli.add_command(repurchase)
cli.add_command(score)
cli.add_command(serve)


def main() -> None:
    cli(prog_name="omnicrm")


if __name__ == "__main__":
    main()
