"""``omnicrm link``: OneID on anyone's member files, given which column plays which role."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import click
import pandas as pd
import yaml

from omnicrm.config import SettingsError

from .link import link_records
from .settings import identity_settings
from .stable_ids import assign_person_ids
from .standardise import ROLES, RoleMappingError, standardise_records

log = logging.getLogger(__name__)


def read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise click.BadParameter(f"no such file: {path}", param_hint="FILES")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".txt"):
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                               encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise click.ClickException(f"{path} is empty (not even a header row)") from None
    except pd.errors.ParserError as exc:
        raise click.ClickException(f"{path} is not a readable CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path} is not UTF-8 text ({exc}); re-export it as UTF-8 "
                                   "(GBK exports: iconv -f GBK -t UTF-8)") from exc
    raise click.BadParameter(f"{path}: only .csv and .parquet files can be linked",
                             param_hint="FILES")


def _previous_output(path: Path) -> pd.DataFrame:
    """A previous ``omnicrm link`` output, checked before any linking starts."""
    table = read_table(path)
    missing = [c for c in ("source", "record_id", "cluster_id") if c not in table.columns]
    if missing:
        has = ", ".join(map(str, table.columns))
        raise click.BadParameter(f"{path} is not an `omnicrm link` output: no column(s) "
                                 f"{', '.join(missing)} (it has {has})", param_hint="--previous")
    return table


def roles_for(mapping: dict, stem: str) -> dict[str, str]:
    """A flat {role: column} mapping applies to every file; {file_stem: {role: column}}
    maps each file on its own."""
    if mapping and all(isinstance(v, dict) for v in mapping.values()):
        if stem not in mapping:
            raise click.ClickException(f"the roles file has no mapping for '{stem}' "
                                       f"(it maps: {sorted(mapping)})")
        return mapping[stem]
    return mapping


@click.command("link")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--roles", "roles_file", required=True, type=click.Path(path_type=Path),
              help="YAML/JSON: {role: column} for all files, or {file_stem: {role: column}}. "
                   f"Roles: {', '.join(ROLES)}.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="Where to write record -> cluster (.parquet or .csv).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Match probability at which two records may be linked "
                   "[default: identity.match_threshold in conf].")
@click.option("--nameless-threshold", type=click.FloatRange(0, 1), default=None,
              help="... when one of the two has no name (it could be another user of a "
                   "shared phone or address) [default: identity.nameless_match_threshold].")
@click.option("--env", default=None,
              help="Kedro conf environment merged over conf/base (e.g. spark).")
@click.option("--previous", type=click.Path(exists=True, path_type=Path), default=None,
              help="A previous output: its cluster ids are kept for the same people.")
def link(files: tuple[Path, ...], roles_file: Path, out_path: Path, threshold: float | None,
         nameless_threshold: float | None, env: str | None,
         previous: Path | None) -> None:
    """Link the records of one or more CSV/Parquet FILES into persons.

    Writes source, record_id, cluster_id and match_confidence. Record ids must be unique
    within a file; across files they are made unique by the file name."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not roles_file.exists():
        raise click.BadParameter(f"no such file: {roles_file}", param_hint="--roles")
    try:
        mapping = yaml.safe_load(roles_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise click.ClickException(f"{roles_file} is not valid YAML/JSON{line}: "
                                   f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(mapping, dict):
        raise click.ClickException(f"{roles_file}: expected a mapping of roles to columns")
    stems = [p.stem for p in files]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        same = ", ".join(str(p) for p in files if p.stem == clash[0])
        raise click.ClickException(f"two input files are named {clash[0]!r} ({same}): file "
                                   "names tell the sources apart, rename one")
    prev_table = _previous_output(previous) if previous is not None else None
    parts = []
    for path in files:
        df = read_table(path)
        if df.empty:
            raise click.ClickException(f"{path} has no rows")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                std, dq = standardise_records(df, roles_for(mapping, path.stem), path.stem)
            except RoleMappingError as exc:
                raise click.ClickException(str(exc)) from exc
        for w in caught:
            click.echo(f"warning: {w.message}", err=True)
        if std["record_id"].duplicated().any():
            repeated = std.loc[std["record_id"].duplicated(), "record_id"].head(3).tolist()
            raise click.ClickException(f"{path}: record ids are not unique, e.g. {repeated}")
        empty = std["record_id"].isna() | (std["record_id"].astype(str).str.strip() == "")
        if empty.any():
            rows = empty[empty].index[:5].tolist()
            raise click.ClickException(f"{path}: {int(empty.sum())} record(s) have no record id "
                                       f"(rows {', '.join(map(str, rows))})")
        std["original_id"] = std["record_id"]
        std["record_id"] = path.stem + ":" + std["record_id"]
        parts.append(std)
        click.echo(f"{path}: {len(std)} records; data quality:\n{dq.to_string(index=False)}",
                   err=True)
    std = pd.concat(parts, ignore_index=True)
    click.echo(f"linking {len(std)} records ...", err=True)
    overrides = {"match_threshold": threshold, "nameless_match_threshold": nameless_threshold}
    try:
        settings = identity_settings({k: v for k, v in overrides.items() if v is not None}, env)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    result = link_records(std, settings)
    prev = None
    if prev_table is not None:
        p = prev_table
        prev = pd.DataFrame({"record_id": p["source"] + ":" + p["record_id"].astype(str),
                             "person_id": p["cluster_id"]})
    index, _ = assign_person_ids(result.clusters, prev, pd.Timestamp.now().floor("s"))
    out = index.merge(std[["record_id", "source", "original_id"]], on="record_id")
    out = out.rename(columns={"person_id": "cluster_id"}).drop(columns="record_id") \
        .rename(columns={"original_id": "record_id"})
    out = out[["source", "record_id", "cluster_id", "match_confidence"]]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    if out_path.suffix.lower() == ".parquet":
        out.to_parquet(tmp, index=False)
    else:
        out.to_csv(tmp, index=False)
    tmp.replace(out_path)
    summary = {"records": len(out), "clusters": int(out["cluster_id"].nunique()),
               "linked_records": int(out["cluster_id"].duplicated(keep=False).sum())}
    click.echo(json.dumps(summary))
