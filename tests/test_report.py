"""``nextpractice report``: the briefing from any subset of saved results, quoting them.

The page itself is checked in a browser (``tests/browser/test_report_page.py``); here:
it is written from each kind of folder alone and from all three, it refers to nothing
outside itself, the table ``report`` prints is the page's, a folder of no known kind is
refused in one line, and ``analyze`` prints the headline table it wrote.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.analysis.report import pct, write_report
from sim.cli import main

KINDS = ("compare", "robustness", "calibration")


def outside_refs(html: str) -> list[str]:
    """Every src or href of the page that is not a data URI or a link inside the page."""
    refs = re.findall(r"""(?:src|href)=["']?([^"' >]+)""", html)
    return [r for r in refs if not r.startswith(("data:", "#"))]


@pytest.mark.parametrize(
    "kinds",
    [("compare",), ("robustness",), ("calibration",), ("compare", "calibration"), KINDS],
)
def test_any_subset_of_folders_makes_a_self_contained_page(briefing_dirs, tmp_path, kinds):
    out = tmp_path / "b.html"
    res = write_report([briefing_dirs[k] for k in kinds], out)
    html = out.read_text(encoding="utf-8")
    assert outside_refs(html) == []
    assert "http://" not in html and "https://" not in html
    expected = {
        "compare": "headline",
        "robustness": "robustness",
        "calibration": "calibration",
    }
    for kind, section in expected.items():
        assert (f"<section id={section}>" in html) == (kind in kinds), (kind, kinds)
    assert "<section id=provenance>" in html and "provenance" in res.sections


def test_the_printed_table_is_the_pages_and_the_saved_numbers(briefing_dirs, tmp_path, capsys):
    out = tmp_path / "b.html"
    assert main(["report", str(briefing_dirs["compare"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = pd.read_csv(briefing_dirs["compare"] / "summary.csv")
    html = out.read_text(encoding="utf-8")
    for r in summary[summary["outcome"] == "final_perf_mean"].itertuples():
        text = f"{pct(r.mean)} [{pct(r.ci_lo)}, {pct(r.ci_hi)}]"
        assert text in printed and text in html
        assert f'data-scenario="{r.scenario}" data-value="{r.mean!r}"' in html
    assert "| Top-down transfer " in printed  # markdown, ready to paste
    assert f"wrote {out}" in printed


def test_the_analysis_folder_itself_will_do(briefing_dirs, tmp_path):
    res = write_report([briefing_dirs["robustness"] / "analysis"], tmp_path / "b.html")
    assert res.sections == ["robustness", "provenance"]


def test_an_unanalysed_sweep_is_analysed_from_its_saved_results(briefing_dirs, tmp_path, capsys):
    sweep = tmp_path / "sweep"
    shutil.copytree(briefing_dirs["robustness"], sweep, ignore=shutil.ignore_patterns("analysis"))
    assert main(["report", str(sweep), "--out", str(tmp_path / "b.html")]) == 0
    assert (sweep / "analysis" / "robustness.csv").is_file()
    assert f"analysed {sweep}" in capsys.readouterr().out


def test_a_folder_of_no_known_kind_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    assert main(["report", str(tmp_path / "notes"), "--out", str(tmp_path / "b.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "not the output of `compare`" in err and str(tmp_path / "notes") in err
    assert not (tmp_path / "b.html").exists()


def test_analyze_prints_the_headline_table_it_wrote(briefing_dirs, tmp_path, capsys):
    out = tmp_path / "analysis"
    assert main(["analyze", str(briefing_dirs["robustness"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    robust = pd.read_csv(out / "robustness.csv")
    assert "best_share" in printed and "robustness.csv" in printed
    for policy in robust["policy"]:
        assert policy in printed
    assert "failures.csv" in printed and (out / "failures.csv").is_file()
    assert "satisficing.csv" in printed


TABLES = [
    ("compare", "summary.csv"),
    ("compare", "differences.csv"),
    ("compare", "compare.json"),
    ("compare", "outcomes.csv"),
    ("robustness", "analysis/robustness.csv"),
    ("robustness", "analysis/failures.csv"),
    ("robustness", "manifest.json"),
    ("calibration", "posterior_summary.csv"),
    ("calibration", "forecast.csv"),
    ("calibration", "summary.json"),
]


def _damage(path, how: str, cut: float, junk: bytes) -> None:
    data = path.read_bytes()
    if how == "cut":
        path.write_bytes(data[: int(len(data) * cut)])
    elif how == "junk":
        path.write_bytes(junk)
    elif how == "column":  # the first line's last name gone: a column the page reads, maybe
        head, _, rest = data.partition(b"\n")
        path.write_bytes(head.rsplit(b",", 1)[0] + b"\n" + rest)
    else:
        path.unlink()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=st.sampled_from(TABLES),
    how=st.sampled_from(["cut", "junk", "column", "delete"]),
    cut=st.floats(0, 1),
    junk=st.binary(max_size=200),
)
def test_a_damaged_saved_table_is_refused_in_one_line_or_read(
    briefing_dirs, capsys, table, how, cut, junk
):
    kind, name = table
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / kind
        shutil.copytree(briefing_dirs[kind], folder)
        if not (folder / name).is_file():
            return
        _damage(folder / name, how, cut, junk)
        code = main(["report", str(folder), "--out", str(Path(tmp) / "b.html")])
        err = capsys.readouterr().err.strip()
        assert code in (0, 2), err
        if code == 2:
            assert len(err.splitlines()) == 1 and "unexpected error" not in err, err
            assert str(folder) in err, err
