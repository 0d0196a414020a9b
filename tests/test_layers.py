"""The layers of ``sim/``: no import cycle, the registry at the bottom, the schema free of rules.

Imports are read from the source with ``ast``, wherever they are in a
module: at module level, under ``if TYPE_CHECKING:`` and inside functions.
All count. A type-only import is still a dependency a reader must follow (and
the reason lower layers are typed against :class:`sim.registry.ModelLike`, not
the model class), and a function-level import is a dependency that merely
runs late. Only explicit imports count: importing ``sim.rules.school`` is not
taken to import ``sim.rules``'s ``__init__`` (every submodule of a package
does that, and the package importing its submodules is then no cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def imports_of(path: Path, known: set[str], module_level_only: bool = False,
               text: str | None = None) -> set[str]:
    """The modules of ``sim`` that a file imports (``known``: every module of ``sim``).

    ``text``: the source to read as if it were that file's (default: the file's).
    """
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text() if text is None else text)
    nodes = ast.walk(tree) if not module_level_only else [
        n for stmt in tree.body for n in ast.walk(stmt)
        if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    out.add(sub)
                elif base in known:
                    out.add(base)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ``sim`` it imports."""
    mods = _modules()
    known = set(mods)
    return {m: imports_of(p, known) for m, p in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph as a list of modules (first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return [*path[path.index(d):], d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle_in_sim():
    """Any cycle of imports inside sim/ fails, naming the modules around it."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_planted_cycle():
    """The checker is not vacuous: a cycle added to the real graph is found."""
    graph = import_graph()
    graph["sim.registry"] = graph["sim.registry"] | {"sim.model"}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_relative_imports_are_resolved():
    """``from . import x`` and ``from ..x import y`` name the right modules."""
    src = "from . import school\nfrom ..state import EMPTY\nfrom .system import LifeCycle\n"
    got = imports_of(SIM / "rules" / "classic.py", set(_modules()), text=src)
    assert got == {"sim.rules.school", "sim.state", "sim.rules.system"}


def test_registry_is_the_bottom():
    """The registry imports nothing of sim but the errors: everything can register into it."""
    mods = _modules()
    assert imports_of(mods["sim.registry"], set(mods)) <= {"sim.errors"}


@pytest.mark.parametrize("module", ["sim.actions", "sim.agents", "sim.metrics", "sim.strategies",
                                    "sim.rules", "sim.rules.diffusion", "sim.params"])
def test_lower_layers_do_not_import_the_model(module):
    """Rules, strategies, actions, agents, metrics and the schema are typed against a protocol."""
    mods = _modules()
    assert "sim.model" not in imports_of(mods[module], set(mods))


def test_schema_is_free_of_implementations_at_import():
    """sim.params imports only the registry, errors and the plug-in loader at module level
    (the built-ins lazily); the plug-in loader itself only the registry and errors."""
    mods = _modules()
    assert imports_of(mods["sim.params"], set(mods), module_level_only=True) <= {
        "sim.registry", "sim.errors", "sim.plugins"}
    assert imports_of(mods["sim.plugins"], set(mods)) <= {"sim.registry", "sim.errors"}


def test_model_imports_the_builtins_explicitly():
    """The built-in rules are a written list, not a folder walked with pkgutil."""
    for m, path in _modules().items():
        assert "pkgutil" not in path.read_text() or m not in ("sim.rules", "sim.builtin"), m
    mods = _modules()
    assert "sim.builtin" in imports_of(mods["sim.model"], set(mods))
    listed = imports_of(mods["sim.builtin"], set(mods))
    rule_modules = {m for m in mods if m.startswith("sim.rules.")}
    assert rule_modules <= listed, f"not imported by sim.builtin: {rule_modules - listed}"
