"""How the campaign report shows its numbers: formatting, HTML tables and headline cards, and
the charts (matplotlib). Used by notebooks/templates/campaign_report.ipynb and the index page."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

CSS = """
<style>
.omni-cards {display:flex; flex-wrap:wrap; gap:12px; margin:8px 0 16px 0;}
.omni-card {border:1px solid #d0d7de; border-radius:8px; padding:10px 14px; min-width:190px;
            background:#f6f8fa;}
.omni-card .label {font-size:12px; color:#57606a; text-transform:uppercase;}
.omni-card .value {font-size:24px; font-weight:600; margin:2px 0;}
.omni-card .sub {font-size:12px; color:#57606a;}
.omni-good {color:#1a7f37;} .omni-bad {color:#cf222e;} .omni-flat {color:#57606a;}
table.omni {border-collapse:collapse; font-size:13px; margin:6px 0 14px 0;}
table.omni th, table.omni td {border-bottom:1px solid #d0d7de; padding:4px 10px;
                              text-align:right;}
table.omni th:first-child, table.omni td:first-child {text-align:left;}
.omni-note {background:#fff8c5; border-left:4px solid #d4a72c; padding:6px 10px;
            margin:4px 0; font-size:13px;}
</style>
"""


def pct(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x * 100:.{digits}f}%"


def pp(x: float, digits: int = 1, sign: bool = True) -> str:
    """Percentage points (a difference of two rates)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x * 100:+.{digits}f} pp" if sign else f"{x * 100:.{digits}f} pp"


def money(x: float, digits: int = 0, sign: bool = False) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    text = f"¥{abs(x):,.{digits}f}"
    if sign:
        return ("+" if x >= 0 else "−") + text
    return text if x >= 0 else "−" + text


def num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:,.{digits}f}"


def pvalue(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def roi(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"1 : {x:.1f}"


def tone(low: float, high: float) -> str:
    if np.isfinite(low) and low > 0:
        return "omni-good"
    if np.isfinite(high) and high < 0:
        return "omni-bad"
    return "omni-flat"


def cards(items: list[dict]) -> str:
    """Headline cards: dicts with label, value, sub and optional tone and id."""
    out = ['<div class="omni-cards" id="headline">']
    for it in items:
        ident = f' id="{html.escape(it["id"])}"' if it.get("id") else ""
        out.append(f'<div class="omni-card"{ident}><div class="label">{html.escape(it["label"])}'
                   f'</div><div class="value {it.get("tone", "")}">{html.escape(it["value"])}'
                   f'</div><div class="sub">{html.escape(it.get("sub", ""))}</div></div>')
    out.append("</div>")
    return "".join(out)


def table(frame: pd.DataFrame, formats: dict | None = None, index: bool = True) -> str:
    """A DataFrame as a plain HTML table, each column formatted by ``formats[col]``."""
    f = frame.copy()
    for col, fn in (formats or {}).items():
        if col in f.columns:
            f[col] = [fn(v) for v in f[col]]
    return f.to_html(classes="omni", border=0, index=index, escape=True, na_rep="")


def notes(lines: list[str]) -> str:
    return "".join(f'<div class="omni-note">{html.escape(s)}</div>' for s in lines)


def ci_text(low: float, high: float, fmt, confidence: float) -> str:
    return f"{confidence:.0%} CI {fmt(low)} to {fmt(high)}"


# --- charts --------------------------------------------------------------------------------

def plot_cumulative(cumulative: pd.DataFrame, offers_at: list | None = None, ax=None):
    """Cumulative conversion of treatment vs control over the attribution window."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(8, 3.6))[1]
    ax.plot(cumulative.index, cumulative["treatment"] * 100, label="treatment", lw=2,
            color="#0969da")
    ax.plot(cumulative.index, cumulative["control"] * 100, label="control", lw=2,
            color="#8c959f", ls="--")
    for i, t in enumerate(offers_at or []):
        ax.axvline(t, color="#d4a72c", lw=1, ls=":")
        ax.text(t, ax.get_ylim()[1] * 0.95, f" wave {i + 1}", fontsize=8, color="#9a6700")
    ax.set_ylabel("converted so far (%)")
    ax.set_title("Cumulative conversion")
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    ax.figure.autofmt_xdate()
    return ax


def plot_segment_lifts(segments: pd.DataFrame, ax=None):
    """Conversion lift per segment with its simultaneous (Bonferroni) interval."""
    import matplotlib.pyplot as plt

    s = segments.iloc[::-1]
    ax = ax or plt.subplots(figsize=(8, 0.38 * len(s) + 1.2))[1]
    y = np.arange(len(s))
    lift = s["abs_lift"].to_numpy() * 100
    colors = np.where(s["significant_holm"], "#0969da", "#8c959f")
    ax.errorbar(lift, y, xerr=[lift - s["simul_low"] * 100, s["simul_high"] * 100 - lift],
                fmt="none", ecolor="#8c959f", capsize=3)
    ax.scatter(lift, y, c=colors, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{d}: {v}" for d, v in zip(s["dimension"], s["segment"], strict=True)],
                  fontsize=9)
    ax.set_xlabel("conversion lift, treatment − control (pp)")
    ax.set_title("Lift by segment (blue: significant after Holm)")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_quadrant(quadrant: pd.DataFrame, ax=None):
    """Audience packs on conversion rate x average order value, split at the medians."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(7, 5))[1]
    colours = {"amplify": "#1a7f37", "iterate": "#9a6700", "drop": "#cf222e", "keep,": "#0969da"}
    c = [colours.get(a.split()[0].rstrip(":"), "#57606a") for a in quadrant["action"]]
    size = 30 + 400 * quadrant["members"] / quadrant["members"].max()
    ax.scatter(quadrant["conversion rate"] * 100, quadrant["average order value"], s=size, c=c,
               alpha=0.7)
    for _, r in quadrant.iterrows():
        ax.annotate(r["pack"], (r["conversion rate"] * 100, r["average order value"]),
                    fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.axvline(quadrant.attrs.get("conversion_median", quadrant["conversion rate"].median())
               * 100, color="#8c959f", ls="--", lw=1)
    ax.axhline(quadrant.attrs.get("aov_median", quadrant["average order value"].median()),
               color="#8c959f", ls="--", lw=1)
    ax.set_xlabel("conversion rate (%)")
    ax.set_ylabel("average order value (¥)")
    ax.set_title("Audience packs: amplify (green), iterate (amber), drop (red), keep (blue)")
    ax.grid(alpha=0.3)
    return ax


def safe(x) -> float:
    """A float for MLflow / JSON (NaN for anything not finite)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan
