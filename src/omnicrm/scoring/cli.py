"""``omnicrm score`` (batch-score a customer table to Parquet) and ``omnicrm serve`` (the
registered champion over HTTP), both against the project's MLflow registry.

    omnicrm score --input data/04_feature/person_features.parquet --output scores.parquet
    omnicrm serve --port 5001          # MLflow's scoring server, bounded (omnicrm.scoring.server)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from omnicrm.interrupt import sigterm_as_exit
from omnicrm.scoring.server import error_message


def champion_uri(env: str | None = None) -> str:
    """``models:/<scoring.registered_model_name>@champion``: the name lives in conf only."""
    from omnicrm.config import SettingsError, load_settings
    from omnicrm.scoring.registry import CHAMPION
    from omnicrm.scoring.settings import ScoringSettings

    try:
        name = load_settings(ScoringSettings, "scoring", env).registered_model_name
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return f"models:/{name}@{CHAMPION}"


def _use_project_store() -> None:
    """Point MLflow at the project's store unless the caller chose another."""
    from omnicrm.settings import _project_uri

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        os.environ["MLFLOW_TRACKING_URI"] = _project_uri("mlruns/mlflow.db", "sqlite")


def _batches(path: Path, rows: int):
    """The input table in chunks of ``rows`` (Parquet streamed; CSV read in chunks)."""
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        yield pf.metadata.num_rows
        for batch in pf.iter_batches(batch_size=rows):
            yield batch.to_pandas()
    elif path.suffix.lower() == ".csv":
        if path.stat().st_size == 0:
            raise click.ClickException(f"{path} is empty (not even a header row)")
        with open(path, encoding="utf-8") as fh:
            total = max(sum(1 for _ in fh) - 1, 0)
        yield total
        yield from pd.read_csv(path, chunksize=rows, dtype={"person_id": str})
    else:
        raise click.BadParameter(f"{path}: expected a .parquet or .csv file", param_hint="--input")


def _check_person_ids(path: Path) -> None:
    """Every person_id of the whole input once, before anything is scored: a chunk only sees
    its own rows, so an id repeated across chunks would be scored (and written) twice."""
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        columns = pq.ParquetFile(path).schema_arrow.names
    else:
        columns = pd.read_csv(path, nrows=0).columns
    if "person_id" not in columns:
        raise click.ClickException(f"{path}: no person_id column")
    if path.suffix.lower() == ".parquet":
        ids = pd.read_parquet(path, columns=["person_id"])["person_id"]
    else:
        ids = pd.read_csv(path, usecols=["person_id"], dtype={"person_id": str})["person_id"]
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        rows = repeated.index[:6].tolist()
        raise click.ClickException(
            f"{path}: person_id repeated in {repeated.nunique():,} case(s), e.g. "
            f"{repeated.iloc[0]!r} (rows {', '.join(map(str, rows))}): one row per person")


def score_file(input_path: Path, output_path: Path, model_uri: str,
               chunk_rows: int = 100_000, progress: bool = True) -> int:
    """Score every row of ``input_path`` with the model at ``model_uri`` into the Parquet file
    ``output_path`` (written to a temporary file and renamed, so a failure leaves no half
    file). Returns the number of rows scored."""
    batches = _batches(input_path, chunk_rows)
    total = next(batches)  # checks the suffix
    if total:
        _check_person_ids(input_path)
    # MLflow takes seconds to import: a bad input is refused before it
    import mlflow
    import pyarrow as pa
    import pyarrow.parquet as pq
    from mlflow.exceptions import MlflowException
    from tqdm import tqdm

    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except MlflowException as exc:
        raise click.ClickException(f"no model at {model_uri}: {error_message(exc.message)}"
                                   ) from None
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.name}.partial")
    partial.unlink(missing_ok=True)  # left by a run that was killed (SIGKILL cannot clean up)
    writer, done = None, 0
    try:
        with tqdm(total=total, unit="rows", desc="scoring", disable=not progress) as bar:
            for chunk in batches:
                try:
                    scores = model.predict(chunk)
                except MlflowException as exc:
                    raise click.ClickException(
                        f"rows {done}-{done + len(chunk) - 1} of {input_path}: "
                        f"{error_message(exc.message)}") from None
                table = pa.Table.from_pandas(scores, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(partial, table.schema)
                writer.write_table(table)
                done += len(chunk)
                bar.update(len(chunk))
        if writer is None:
            raise click.ClickException(f"{input_path} has no rows to score")
        writer.close()
        writer = None
        partial.replace(output_path)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return done


@click.command()
@click.option("--input", "input_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Person features (Parquet or CSV), as data/04_feature/person_features.parquet.")
@click.option("--output", "output_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Scores, written as Parquet.")
@click.option("--model", "model_uri", default=None,
              help="Any MLflow model URI: models:/name@alias, models:/name/3, runs:/id/path "
                   "[default: models:/<scoring.registered_model_name>@champion].")
@click.option("--chunk-rows", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Rows scored at a time (bounds memory on big tables).")
def score(input_path: Path, output_path: Path, model_uri: str | None, chunk_rows: int) -> None:
    """Batch-score a customer table with the registered scoring model."""
    _use_project_store()
    with sigterm_as_exit():  # a kill unwinds through score_file's clean-up
        n = score_file(input_path, output_path, model_uri or champion_uri(), chunk_rows)
    click.echo(f"scored {n:,} rows -> {output_path}")


@click.command()
@click.option("--model", "model_uri", default=None,
              help="[default: models:/<scoring.registered_model_name>@champion]")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Worker processes [default: scoring.serve.workers in conf].")
@click.option("--env", default=None, help="Kedro conf environment merged over conf/base.")
def serve(model_uri: str | None, host: str, port: int, workers: int | None,
          env: str | None) -> None:
    """Serve the scoring model over HTTP (POST /invocations), in this environment, with the
    request limits of scoring.serve (413 beyond them) and no internals in error answers."""
    from omnicrm.config import SettingsError, load_settings
    from omnicrm.scoring import server
    from omnicrm.scoring.settings import ScoringSettings

    try:
        limits = load_settings(ScoringSettings, "scoring", env).serve
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    _use_project_store()
    os.environ[server.ENV_MODEL] = model_uri or champion_uri(env)
    os.environ[server.ENV_MAX_BODY] = str(int(limits.max_body_mb * 2**20))
    os.environ[server.ENV_MAX_ROWS] = str(limits.max_rows)
    os.execvp(sys.executable, [sys.executable, "-m", "uvicorn", "--factory",
                               "omnicrm.scoring.server:create_app", "--host", host,
                               "--port", str(port), "--workers",
                               str(workers or limits.workers), "--no-access-log"])
