"""The house's shape: imports run commands/ -> bot/ -> storage/ only, no circle, small rooms and modules, README true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "commands")
# A room of bot/ holds a handful of modules; a module past this many lines is asking to be split.
MAX_ROOM_MODULES = 8
MAX_MODULE_LINES = 450


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """Every project module `path` imports, anywhere in it: at the top, in functions, under TYPE_CHECKING."""
    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {m for m in (resolve(a.name) for a in node.names) if m}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = resolve(f"{node.module}.{alias.name}") or resolve(node.module)
                if target:
                    found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_runs_up() -> None:
    upward = []
    for module, targets in graph().items():
        for target in targets:
            if module.startswith("storage") and not target.startswith("storage"):
                upward.append(f"{module} -> {target}")
            if module.startswith("bot") and target.startswith("commands"):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports must run commands/ -> bot/ -> storage/: " + ", ".join(sorted(upward))


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_storage_knows_nothing_of_discord() -> None:
    for path in (ROOT / "storage").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import discord|from discord)", source, re.M), path


def test_rooms_are_small_and_say_what_they_are_for() -> None:
    rooms = [p for p in (ROOT / "bot").iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert {p.name for p in (ROOT / "bot").glob("*.py")} == {"__init__.py", "__main__.py"}  # everything else is in a room
    for room in rooms:
        count = len([p for p in room.glob("*.py") if p.name != "__init__.py"])
        assert count <= MAX_ROOM_MODULES, f"bot/{room.name} holds {count} modules"
        doc = ast.get_docstring(ast.parse((room / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "\n" not in doc.strip(), f"bot/{room.name}/__init__.py says in one line what the room is for"


def test_no_module_is_past_the_size_that_asks_for_a_split() -> None:
    long = {str(p.relative_to(ROOT)): n for p in modules().values() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, long


def test_readme_layout_names_every_room() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("Layout ("):readme.index("```\n", readme.index("```\nbot/") + 4)]
    listed = set(re.findall(r"^\s*([a-z0-9_]+)/", layout, re.M))
    rooms = {p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists()}
    rooms |= {p.name for p in (ROOT / "storage").iterdir() if (p / "__init__.py").exists() and p.name != "migrations"}
    assert rooms <= listed, f"README's layout misses {sorted(rooms - listed)}"
    stale = listed - rooms - {"bot", "commands", "storage", "tests", "deploy", "bench", "docs"}
    assert not stale, f"README's layout names rooms that are gone: {sorted(stale)}"
