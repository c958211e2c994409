"""Typed settings of the scoring pipeline: the ``scoring`` section of
conf/base/parameters_scoring.yml (no defaults here: every value lives in conf)."""

from __future__ import annotations

from typing import Literal

from omnicrm.config import Settings


class GateSources(Settings):
    repurchase_target: str
    repurchase_model: str


class Gate(Settings):
    metrics: dict[str, Literal["max", "min"]]
    tolerance: float
    sources: GateSources


class Serve(Settings):
    workers: int
    max_body_mb: float
    max_rows: int


class ScoringSettings(Settings):
    registered_model_name: str
    reasons_top_k: int
    input_example_rows: int
    gate: Gate
    batch_chunk_rows: int
    serve: Serve
