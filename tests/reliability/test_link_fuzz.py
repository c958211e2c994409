"""`omnicrm link` on random garbage records (hypothesis): it never crashes (it links, or it
stops with one message and no traceback) and never links two records that share nothing.

The other reliability cases of issue 22 sit next to the code they guard: bad input to
`omnicrm link` (tests/identity/test_oneid.py), to `omnicrm score` and the served model
(tests/scoring/test_scoring.py), raw exports (tests/test_contracts.py) and concurrent
report runs (tests/reporting/test_render.py)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=14)
MOBILES = ["13800138000", "+86 139-1234-5678", "138****8000", "15000000001"]
NAMES = ["张伟", "王芳", "Li Na", "Na Li", "欧阳娜娜"]
RECORD = st.fixed_dictionaries({
    "name": st.one_of(st.none(), TEXT, st.sampled_from(NAMES)),
    "mobile": st.one_of(st.none(), st.text("0123456789+-* ", max_size=16),
                        st.sampled_from(MOBILES)),
    "email": st.one_of(st.none(), TEXT, st.sampled_from(["li.na@example.cn"])),
    "birthday": st.one_of(st.none(), TEXT, st.dates().map(str)),
    "city": st.one_of(st.none(), TEXT, st.sampled_from(["上海市", "杭州"])),
})
ROLES = '{"record_id": record_id, "full_name": name, "mobile": mobile, "email": email, ' \
        '"birth_date": birthday, "city": city}'


def _keys(row: pd.Series) -> set[str]:
    """Everything two records could be linked on, loosely: each field's text, its digits
    and its last four digits (a masked mobile), lower-cased."""
    out = set()
    for field in ("name", "mobile", "email", "birthday", "city"):
        value = row[field]
        if not isinstance(value, str) or not value.strip():
            continue
        text = "".join(value.lower().split())
        out.add(f"{field}:{text}")
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 4:
            out.update({f"digits:{digits}", f"last4:{digits[-4:]}"})
        if field == "name":  # pinyin order and spacing: the letters as a set
            out.add(f"letters:{''.join(sorted(text))}")
    return out


def _share_something(a: set[str], b: set[str]) -> bool:
    if a & b:
        return True
    return any(x.split(":", 1)[0] == y.split(":", 1)[0] and len(x) > 8 and len(y) > 8
               and (x in y or y in x) for x in a for y in b)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(RECORD, min_size=1, max_size=25))
def test_link_never_crashes_and_never_links_strangers(records):
    from omnicrm.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        df = pd.DataFrame(records).assign(record_id=[f"r{i}" for i in range(len(records))])
        df.to_csv(folder / "garbage.csv", index=False)
        (folder / "roles.yml").write_text(ROLES, encoding="utf-8")
        out = folder / "clusters.csv"
        res = CliRunner().invoke(cli, ["link", str(folder / "garbage.csv"), "--roles",
                                       str(folder / "roles.yml"), "--out", str(out)])
        if res.exit_code != 0:  # allowed: one message, no traceback, no output
            assert isinstance(res.exception, SystemExit), repr(res.exception)
            assert "Traceback" not in res.output and not out.exists()
            return
        clusters = pd.read_csv(out, dtype=str)
        assert sorted(clusters["record_id"]) == sorted(df["record_id"])
        keys = {r["record_id"]: _keys(r) for _, r in df.iterrows()}
        for _, members in clusters.groupby("cluster_id")["record_id"]:
            ids = list(members)
            for rid in ids if len(ids) > 1 else []:
                others = [o for o in ids if o != rid]
                assert any(_share_something(keys[rid], keys[o]) for o in others), (
                    rid, ids, df.set_index("record_id").loc[ids].to_dict("records"))
