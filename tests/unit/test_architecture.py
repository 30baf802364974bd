"""The shape of the package: no import cycles, nothing imports the CLI's entry module,
and every CLI function stays short (it parses, calls one function and prints)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tripwire"
ENTRY_POINTS = {"tripwire.launch", "tripwire.__main__"}  # may import tripwire.cli


def modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        rel = p.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = p
    return out


def imports(path: Path, known: set[str]) -> set[str]:
    """Every tripwire module ``path`` imports, at module level or inside a function
    (``from tripwire import x`` counts as ``tripwire.x`` when x is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in known and node.module != "tripwire":
                found.add(node.module)
            for a in node.names:
                if f"{node.module}.{a.name}" in known:
                    found.add(f"{node.module}.{a.name}")
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports(p, known) - {m, "tripwire"} for m, p in mods.items() if m != "tripwire"}


def test_no_import_cycles():
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == 1:
                cycles.append([*stack[stack.index(n) :], n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_nothing_imports_the_cli_entry_module():
    g = graph()
    users = sorted(m for m, deps in g.items() if "tripwire.cli" in deps and m not in ENTRY_POINTS)
    assert users == [], f"{users} import tripwire.cli (only entry points may)"


def test_no_cli_function_is_over_60_lines():
    long = []
    for p in sorted(SRC.glob("cli*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long.append(f"{p.name}:{node.name} ({n} lines)")
    assert long == [], long


def test_the_checker_sees_a_cycle_it_is_shown(tmp_path):
    """The cycle search is not vacuous: the graph has edges, and a planted cycle is found."""
    g = graph()
    assert sum(len(v) for v in g.values()) > 50
    assert "tripwire.campaign" in g["tripwire.cli_run"]
