"""The weekly business report on a project copy: rendered from the kpi pipeline's tables, its
tiles equal to the tables, listed on the index next to the campaigns, idempotent per week; the
index, a campaign report and a weekly report as a person sees them in headless Chromium."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from omnicrm.config import load_parameters
from omnicrm.contracts import CHANNELS
from omnicrm.identity.golden import member_registrations
from omnicrm.pipelines.kpi.nodes import build_kpis
from omnicrm.reporting import present
from omnicrm.reporting.render import ReportError, read_state, run_reports
from tests.conftest import make_project_copy
from tests.reporting.conftest import (
    drawn_share,
    needs_chromium,
    open_in_chromium,
    page_images,
    write_world,
)


@pytest.fixture(scope="module")
def weekly_project(tmp_path_factory, world):
    dest = write_world(world, make_project_copy(tmp_path_factory.mktemp("weekly_project")))
    params = load_parameters(None, dest)
    persons = world["truth_records"]["person_id"].unique()
    segments = pd.DataFrame({"person_id": persons, "value_tier_name": "mid"})
    tables = build_kpis(world["orders"], world["events"],
                        member_registrations(*(world[f"{c}_members"] for c in CHANNELS)),
                        world["truth_records"][["record_id", "person_id"]], segments,
                        params["kpi"], params["segments"], {"name": "duckdb", "options": {}})
    for name, frame in tables.items():
        if name != "member_stages":
            frame.to_parquet(dest / "data" / "08_reporting" / f"{name}.parquet", index=False)
    week = tables["kpi_weekly"].query("slice == 'all'").sort_values("pno").iloc[-1]
    # retention's CLV per tier x stage: the tier table carries it (every person is "mid" here)
    pd.DataFrame({"value_tier": 2, "value_tier_name": "mid",
                  "lifecycle_stage": ["active", "dormant", "aware"], "persons": [40, 60, 10],
                  "buyers": [40, 60, 0], "clv_sum": [30000.0, 4321.0, 0.0],
                  "clv_share": [0.87, 0.13, 0.0], "clv_mean": [750.0, 72.0, None],
                  "p_alive_mean": [0.9, 0.4, None], "churn_probability_mean": [0.3, 0.8, None]}
                 ).to_csv(dest / "data" / "08_reporting" / "value_segment_profile.csv", index=False)
    # one campaign too, so that the index holds both kinds of report
    calls: list[tuple] = []
    first = run_reports(dest, weeks=[week["period_label"]], campaign_ids=["C001"], track=False,
                        progress=lambda *call: calls.append(call))
    first.progress_calls = calls
    return dest, week, first


def test_the_weekly_page_shows_the_kpi_tables_figures(weekly_project):
    project, week, first = weekly_project
    assert first.weeks == [week["period_label"]] and first.rendered == ["C001"]
    assert first.failed == {}
    # one progress call per finished render, counted up, each named and timed
    calls = first.progress_calls
    assert [c[:2] for c in calls] == [(1, 2), (2, 2)]
    assert {c[2] for c in calls} == {"C001", f"week {week['period_label']}"}
    assert all(c[3] > 0 and c[4] is None for c in calls)
    page = (project / "reports" / f"week-{week['period_label']}.html").read_text(encoding="utf-8")
    assert f"Week {week['period_label']}" in page
    tile = re.search(r'id="tile-sales".*?class="value[^"]*">([^<]+)<', page, re.S).group(1)
    assert tile == present.money(week["sales"])
    conv = re.search(r'id="tile-conversion".*?class="value[^"]*">([^<]+)<', page, re.S).group(1)
    assert conv == present.pct(week["conversion"])
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) >= 5  # the charts
    assert "Traceback" not in page and not re.search(r"\bP\d{9}\b", page)  # no person ids
    # the tier table's CLV: 30,000 + 4,321; P(alive) of its 100 buyers (0.9 x 40 + 0.4 x 60)
    row = re.search(r"<th>mid</th>(.*?)</tr>", page, re.S).group(1)
    assert "¥34,321" in row and "100.0%" in row and "0.60" in row
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Weekly business reports" in index and "Campaign reports" in index
    assert f'href="week-{week["period_label"]}.html"' in index


def test_a_week_is_rendered_once_and_an_unknown_week_is_refused(weekly_project):
    project, week, _ = weekly_project
    again = run_reports(project, weeks=[week["period_label"]], track=False)
    assert again.weeks == [] and f"week {week['period_label']}" in again.skipped
    state = read_state(project / "reports")
    assert state["weekly"][week["period_label"]]["headline"]["sales"] == pytest.approx(
        week["sales"])
    with pytest.raises(ReportError, match="no KPIs for week.s. 1999-W01"):
        run_reports(project, weeks=["1999-W01"], track=False)


@needs_chromium
def test_index_campaign_and_weekly_pages_as_a_person_sees_them(weekly_project,
                                                                tmp_path_factory):
    project, week, _ = weekly_project
    shots = tmp_path_factory.mktemp("screenshots")  # kept with pytest's last three runs
    index = project / "reports" / "index.html"
    dom, errors = open_in_chromium(index.as_uri(), shots / "index.png")
    assert not errors, errors
    links = re.findall(r'href="([^"]+\.html)"', dom)
    weekly = next(h for h in links if h.startswith("week-"))
    campaign = next(h for h in links if not h.startswith("week-"))
    assert weekly == f"week-{week['period_label']}.html" and campaign == "C001.html"

    # the weekly report: its tiles are the kpi tables' figures, its charts are drawn
    dom, errors = open_in_chromium((index.parent / weekly).as_uri(), shots / "weekly.png")
    assert not errors, errors
    for text in (f"Week {week['period_label']}", present.money(week["sales"]),
                 present.pct(week["conversion"])):
        assert text in dom, text
    charts = page_images(dom)
    assert len(charts) >= 5 and all(c.shape[0] > 100 and c.shape[1] > 100 and c.std() > 5
                                    for c in charts), [c.shape for c in charts]
    assert drawn_share(shots / "weekly.png") > 0.05  # a page, not a blank

    # the campaign report: the headline figures of the analysis
    dom, errors = open_in_chromium((index.parent / campaign).as_uri(), shots / "campaign.png")
    assert not errors, errors
    h = read_state(project / "reports")["reports"]["C001"]["headline"]
    for text in ("Conversion lift", present.pp(h["conversion_lift"], 2),
                 present.money(h["incremental_revenue"], sign=True), "ROI on margin"):
        assert text in dom, text
    assert len(page_images(dom)) >= 2 and drawn_share(shots / "campaign.png") > 0.05


def test_tier_value_sums_clv_and_weights_p_alive_by_buyers():
    from omnicrm.reporting.weekly import WeeklyDataError, tier_value

    profile = pd.DataFrame({"value_tier_name": ["high", "high", "low", "low"],
                            "buyers": [10, 30, 0, 20], "clv_sum": [600.0, 200.0, 0.0, 200.0],
                            "p_alive_mean": [0.8, 0.4, None, 0.5]})
    out = tier_value(profile)
    assert out.loc["high", "clv_12m"] == 800 and out.loc["low", "clv_12m"] == 200
    assert out.loc["high", "clv_share"] == pytest.approx(0.8)
    assert out.loc["high", "p_alive"] == pytest.approx((0.8 * 10 + 0.4 * 30) / 40)
    assert out.loc["low", "p_alive"] == pytest.approx(0.5)
    assert tier_value(None) is None
    with pytest.raises(WeeklyDataError, match="lacks"):
        tier_value(profile.drop(columns="buyers"))
