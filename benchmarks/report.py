"""The benchmark table as fixed-width text (stdout), Markdown or JSON (``--out``)."""

from __future__ import annotations

import json
from dataclasses import asdict

from .common import Row

COLUMNS = ["benchmark", "size", "metric", "ours", "peer", "peer name", "ratio", "note"]
RATIO_NOTE = ("ratio: how many times better ours is (peer/ours for time and memory, "
              "ours/peer for rates); > 1 means ours wins")


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 0.1 or value == 0:
        text = f"{value:.2f}"
    else:  # a Qini of 0.0046 is not 0.00: three significant digits
        text = f"{value:.3g}"
    return f"{text} {unit}"


def cells(row: Row) -> list[str]:
    ratio = row.ratio
    return [row.benchmark, row.size, row.metric, _num(row.ours, row.unit),
            _num(row.peer, row.unit), row.peer_name,
            "-" if ratio is None else f"{ratio:,.1f}x", row.note]


def to_text(rows: list[Row]) -> str:
    """Fixed-width columns; numbers right-aligned, the note last and unpadded."""
    table = [COLUMNS] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]
    right = {3, 4, 6}

    def fmt(line: list[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(line, widths, strict=False))]
        return " | ".join(parts + [line[-1]]).rstrip()

    rule = "-+-".join("-" * w for w in widths) + "-+-" + "-" * 4
    return "\n".join([fmt(COLUMNS), rule, *(fmt(c) for c in table[1:]), "", RATIO_NOTE])


def to_markdown(rows: list[Row]) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |",
             "|" + "|".join("---:" if c in ("ours", "peer", "ratio") else "---"
                            for c in COLUMNS) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in cells(r)) + " |" for r in rows]
    return "\n".join(lines + ["", RATIO_NOTE, ""])


def to_json(rows: list[Row], meta: dict) -> str:
    return json.dumps({**meta, "rows": [{**asdict(r), "ratio": r.ratio} for r in rows]},
                      indent=2, ensure_ascii=False)
