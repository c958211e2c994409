"""What the main command made, in a few lines: ``python -m omnicrm.summary [PROJECT]``.

Reads the run's outputs (the documented files under data/ and reports/); a missing output is
said as missing, never guessed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def _read(path: Path):
    if not path.exists():
        return None
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def summary_lines(project: Path) -> list[str]:
    d = project / "data"
    lines = ["", "omnicrm: what this run made", ""]
    idx = _read(d / "03_primary" / "person_index.parquet")
    if idx is not None:
        persons = idx["person_id"].nunique()
        lines.append(f"  OneID        {len(idx):,} member records linked into {persons:,} persons "
                     f"({len(idx) / max(persons, 1):.2f} records each)")
    seg = _read(d / "07_model_output" / "customer_segments.parquet")
    if seg is not None:
        tiers = seg["value_tier_name"].value_counts()
        lines.append("  value tiers  " + ", ".join(f"{k} {v:,}" for k, v in tiers.items()))
    comp = _read(d / "08_reporting" / "repurchase_model_comparison.csv")
    if comp is not None:
        best = comp.loc[comp.groupby("target")["auc"].idxmax()]
        prop = best["target"].str.startswith("propensity:")
        parts = [f"{r.target}: {r.model} AUC {r.auc:.3f}" for r in best[~prop].itertuples()]
        if prop.any():
            parts.append(f"{int(prop.sum())} category/brand propensities: mean AUC "
                         f"{best.loc[prop, 'auc'].mean():.3f}")
        lines.append("  models       " + "; ".join(parts))
    churn = _read(d / "08_reporting" / "churn_comparison.csv")
    value = _read(d / "08_reporting" / "customer_value_evaluation.csv")
    winback = _read(d / "07_model_output" / "winback_audience.parquet")
    if churn is not None and value is not None and winback is not None:
        auc = churn.set_index("model")["auc"]
        v = value.iloc[0]
        how = winback["method"].iloc[0] if len(winback) else "-"
        lines.append(f"  retention    churn AUC {auc['xgboost']:.3f} (recency rule "
                     f"{auc['recency_rule']:.3f}); CLV vs the next year's spend: Spearman "
                     f"{v['spearman_clv_spend']:.2f}, top decile {v['top_decile_capture']:.0%}"
                     f" of it; win-back audience {len(winback):,} ({how})")
    c360 = _read(d / "07_model_output" / "customer_360.parquet")
    rfm = _read(d / "08_reporting" / "rfm_profile.csv")
    if c360 is not None and rfm is not None:
        cells = rfm.set_index("rfm_cell")
        named = {"champions": "champions", "at_risk": "at risk", "cant_lose": "can't lose"}
        parts = [f"{label} {int(cells.loc[cell, 'persons']):,} "
                 f"({cells.loc[cell, 'spend_share']:.0%} of spend)"
                 for cell, label in named.items() if cell in cells.index]
        line = f"  profiles     customer 360 of {len(c360):,} persons; RFM " + ", ".join(parts)
        browse = _read(d / "08_reporting" / "browse_interest_evaluation.json")
        if browse is not None:
            hit, base = browse["browse_accuracy_at_1"], browse["purchase_accuracy_at_1"]
            line += f"; top browse interest = true favourite {hit:.0%} (purchases {base:.0%})"
        lines.append(line)
    rules = _read(d / "07_model_output" / "association_rules.parquet")
    nbc = _read(d / "08_reporting" / "next_best_evaluation.csv")
    if rules is not None and nbc is not None:
        overall = rules[rules["segment"] == "all"]["level"].value_counts()
        hit = nbc.set_index("method")["hit_rate_at_3"]
        lines.append(f"  cross-sell   rules: {overall.get('category', 0):,} category, "
                     f"{overall.get('sku', 0):,} SKU (overall); next best category hit "
                     f"rate@3 {hit['propensity']:.2f} (most popular {hit['most_popular']:.2f}"
                     f", item-item {hit['item_item']:.2f}, rules {hit['rules']:.2f})")
    plan = _read(d / "08_reporting" / "coupon_plan_totals.json")
    if plan is not None:
        lines.append(f"  coupon plan  {plan['offers']:,} offers, expected incremental margin "
                     f"¥{plan['expected_incremental_margin']:,.0f} for ¥"
                     f"{plan['expected_cost']:,.0f} of coupons ({plan['uplift_model']})")
    scoring = _read(d / "08_reporting" / "scoring_model.json")
    if scoring is not None:
        role = "champion" if scoring["promoted"] else "not promoted"
        lines.append(f"  scoring      {scoring['registered_model_name']} version "
                     f"{scoring['version']} ({role}: {scoring['reason']})")
    reports = project / "reports"
    design = _read(d / "08_reporting" / "campaign_design_summary.csv")
    if design is not None and len(design):
        r = design.iloc[0]
        page = reports / f"{r['campaign_id']}.html"
        done = f"its report {page}" if page.exists() else "not run yet (no report)"
        lines.append(f"  campaign     {r['campaign_id']}: {int(r['audience']):,} members, "
                     f"{int(r['control']):,} held out ({r['control_share']:.0%}), detects a "
                     f"{r['mde_relative_detectable']:.0%} lift; {done}")
    state = _read(reports / ".rendered.json")
    if state is not None:
        lines.append(f"  reports      {len(state.get('reports', {}))} campaign reports, "
                     f"{len(state.get('weekly', {}))} weekly reports: "
                     f"{reports / 'index.html'}")
    lines += ["", "  MLflow UI:   .venv/bin/mlflow ui --backend-store-uri "
                  f"sqlite:///{project / 'mlruns' / 'mlflow.db'}", ""]
    return lines


def main(argv: list[str]) -> None:
    project = Path(argv[0] if argv else ".").resolve()
    print("\n".join(summary_lines(project)))


if __name__ == "__main__":
    main(sys.argv[1:])
