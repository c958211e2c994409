"""A project copy holding the 3,000-person world as files, with a person_index built from the
truth (as the identity pipeline would write it, perfectly), for rendering reports."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import git_init, make_project_copy

RAW = ["pos_members", "tmall_members", "wechat_members", "web_members", "stores", "products",
       "orders", "order_items", "events", "campaigns", "campaign_offers", "campaign_members",
       "campaign_sends", "coupon_redemptions"]


def write_world(world: dict, dest: Path, person_index: bool = True) -> Path:
    for name in RAW:
        world[name].to_parquet(dest / "data" / "01_raw" / f"{name}.parquet", index=False)
    for name in world:
        if name.startswith("truth_"):
            world[name].to_parquet(dest / "data" / "00_truth" / f"{name}.parquet", index=False)
    if person_index:
        idx = world["truth_records"][["record_id", "channel", "person_id"]].assign(
            match_confidence=1.0)
        idx.to_parquet(dest / "data" / "03_primary" / "person_index.parquet", index=False)
    return dest


def report_tables(world: dict) -> dict:
    """The tables analyse_campaign takes, straight from the in-memory world."""
    tables = {k: world[k] for k in ("campaigns", "campaign_offers", "campaign_members",
                                     "campaign_sends", "coupon_redemptions", "orders")}
    tables["person_index"] = world["truth_records"][["record_id", "channel", "person_id"]]
    tables["customer_segments"] = None
    tables["member_channels"] = pd.concat(
        [world[f"{c}_members"][["record_id", "registered_at"]].assign(channel=c)
         for c in ("pos", "tmall", "wechat", "web")], ignore_index=True)
    return tables


@pytest.fixture(scope="session")
def report_project(tmp_path_factory, world) -> Path:
    dest = make_project_copy(tmp_path_factory.mktemp("report_project"))
    git_init(dest)
    return write_world(world, dest)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not IN_CI,
    reason="headless Chromium is not installed (apt-get install chromium)")
BROWSER = ["--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
           "--enable-logging=stderr", "--v=0"]


def open_in_chromium(uri: str, screenshot: Path | None = None) -> tuple[str, list[str]]:
    """The page's DOM after Chromium ran it, and its console errors; with ``screenshot``,
    also a 1280 px wide picture of the page."""
    assert CHROMIUM, "CI=true but no chromium: .ci/run installs Debian's package as root"
    if screenshot is not None:
        subprocess.run([CHROMIUM, *BROWSER, f"--screenshot={screenshot}",
                        "--window-size=1280,4000", uri],
                       capture_output=True, text=True, timeout=120, check=True)
    dom = subprocess.run([CHROMIUM, *BROWSER, "--dump-dom", uri], capture_output=True,
                         text=True, timeout=120, check=True)
    errors = [line for line in dom.stderr.splitlines()
              if "CONSOLE" in line or "Uncaught" in line]
    return dom.stdout, errors


def page_images(dom: str) -> list[np.ndarray]:
    """Every inline PNG of a page, decoded to pixels."""
    from PIL import Image

    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"))
            for data in re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', dom)]


def drawn_share(png: Path) -> float:
    """Share of a screenshot's pixels that are not the white page background."""
    from PIL import Image

    return float((np.asarray(Image.open(png).convert("L")) < 245).mean())
