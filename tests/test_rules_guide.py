"""The researcher's guide (``docs/rules.md``) runs as written.

Its code blocks are of two kinds: a block whose first line is ``# file: NAME``
is written to ``NAME`` in a fresh folder (the plug-ins, their scenario files
and their tests, side by side as a researcher keeps them); any other Python
block is run as it stands. Then the guide's own tests are run there by pytest
in a separate process that has neither that folder nor the project's tests on
its import path: the plug-ins must be found beside the scenario files, as the
guide says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "rules.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def blocks() -> list[tuple[str, str | None, str]]:
    """The guide's code blocks: (language, file name or None, code)."""
    out = []
    for lang, code in BLOCK.findall(GUIDE.read_text()):
        first = code.splitlines()[0] if code.strip() else ""
        name = re.match(r"#\s*file:\s*(\S+)\s*$", first)
        out.append((lang, name.group(1) if name else None, code))
    return out


def test_the_guide_has_the_worked_examples():
    names = {name for _, name, _ in blocks() if name}
    assert {
        "trusting.py",
        "trusting.yaml",
        "test_trusting.py",
        "conformity.py",
        "conformity.yaml",
        "test_conformity.py",
        "peer_review.py",
        "peer_review.yaml",
        "test_peer_review.py",
    } <= names
    assert any(name is None and lang == "python" for lang, name, _ in blocks())


def test_the_guides_changed_rule_overrides_the_shipped_numpy_form():
    """The worked change of ``judged`` is its numpy method, copied and changed in one line."""
    import inspect

    from sim.rules.judged import JudgedAdoption

    code = next(code for _, name, code in blocks() if name == "trusting.py")
    shipped = inspect.getsource(JudgedAdoption.judge)
    assert "def judge(keys, t, x)" in code and "def judge(keys, t, x: JudgeInputs)" in shipped
    assert "prec_j = x.trust[x.tie] / x.sd_judge**2" in code
    assert "prec_j = 1.0 / x.sd_judge**2" in shipped


def test_the_guide_names_every_shipped_rule_and_its_file():
    """Every default rule's file is in the guide's table, and every file it names exists."""
    from sim.rules import DEFAULTS, RULES

    text = GUIDE.read_text()
    for slot, name in DEFAULTS.items():
        module = RULES[slot][name].__module__
        rel = module.removeprefix("sim.rules.").replace(".", "/") + ".py"
        assert f"`{name}` (`{rel}`" in text, (slot, name, rel)
    named = set(re.findall(r"`((?:strategies/)?\w+\.py)`", text))
    rules = ROOT / "sim" / "rules"
    missing = [
        n
        for n in named
        if not (rules / n).exists()
        and not (rules / "strategies" / n).exists()
        and n not in _EXAMPLES
    ]
    assert not missing, missing
    assert "_numpy`" not in text.replace("judged_numpy`", "")  # no numpy form named as a rule


_EXAMPLES = {"trusting.py", "conformity.py", "peer_review.py"}


def test_the_guides_code_runs_as_written(tmp_path):
    """Files written side by side, loose blocks run, then the guide's tests pass."""
    loose = []
    for lang, name, code in blocks():
        if name:
            (tmp_path / name).write_text(code)
        elif lang == "python":
            loose.append(code)
    # This checkout's sim, whichever checkout the environment's editable install points at.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "PYTHONPATH": str(ROOT)}
    for code in loose:  # in a fresh process: nothing of the test session leaks in
        subprocess.run(
            [sys.executable, "-P", "-c", code], cwd=tmp_path, env=env, check=True, timeout=600
        )
    out = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            *sorted(p.name for p in tmp_path.glob("test_*.py")),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout and "failed" not in out.stdout
