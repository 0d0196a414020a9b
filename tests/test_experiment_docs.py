"""The experiment file format is documented key by key, and `sweep --help` names every built-in."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from sim.cli import build_parser
from sim.experiments import schema
from sim.inputs.shipped import names

DOC = Path(__file__).resolve().parent.parent / "docs" / "experiments.md"


def _models(model: type[BaseModel], seen: set) -> None:
    if model in seen:
        return
    seen.add(model)
    for f in model.model_fields.values():
        stack = [f.annotation]
        while stack:
            ann = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                _models(ann, seen)
            stack += list(typing.get_args(ann))


def test_every_key_of_the_experiment_schema_is_documented():
    seen: set = set()
    _models(schema.Experiment, seen)
    text = DOC.read_text(encoding="utf-8")
    missing = [
        f"{m.__name__}.{key}"
        for m in seen
        for key in m.model_fields
        if f"`{key}" not in text and f".{key}`" not in text
    ]
    assert not missing, missing
    for method in schema.DESIGN_METHODS:
        assert method in text


def test_sweep_help_names_every_built_in_experiment(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["sweep"]
    text = sub.format_help()
    for name in names("experiments"):
        if not name.startswith("calibrate"):
            assert name in " ".join(text.split()), name
    assert "robustness" in text
