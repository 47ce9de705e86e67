"""The import graph of the stylebridge package: no cycles, and low packages import nothing above.

Every ``import``/``from ... import`` of the package is read from the source (function-level
imports included, since a lazy import is still a dependency), reduced to the top-level
package or module of both ends, and checked against the layer table below. A new
module must be given a layer here; an import that reaches up a layer fails with the
file and line that does it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import stylebridge

PACKAGE_DIR = Path(stylebridge.__file__).resolve().parent

# Lowest first. A package may import only packages of a strictly lower layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "file_kinds"),
    (
        "__init__", "atomic", "credentials", "engines", "frames", "paths", "sizes",
        "store_condition", "timing", "v1", "wire",
    ),
    ("catalog", "frame_sources", "models", "protocol"),
    ("inference",),
    ("config", "evaluate", "store"),
    ("bridge", "client", "dashboard", "harness", "optimize", "report"),
    ("style",),
    ("demo", "doctor"),
    ("commands",),
    ("cli",),
    ("__main__",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# The imports the design forbids by name (STYLE.md, issue 13): (importer, imported).
FORBIDDEN = (
    ("bridge", "optimize"),
    ("optimize", "bridge"),
    ("evaluate", "optimize"),
    ("inference", "optimize"),
    ("client", "store"),
    ("client", "bridge"),
)


def _unit(path: Path) -> str:
    """The top-level package (or module) of the package a file belongs to."""
    rel = path.relative_to(PACKAGE_DIR)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "stylebridge":
            return [
                alias.name if (PACKAGE_DIR / alias.name).exists()
                or (PACKAGE_DIR / f"{alias.name}.py").exists() else "__init__"
                for alias in node.names
            ]
        if node.module.startswith("stylebridge."):
            return [node.module.split(".")[1]]
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1] for a in node.names if a.name.startswith("stylebridge.")]
    return []


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        source = _unit(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node):
                if target != source:
                    edges[(source, target)].append(
                        f"{path.relative_to(PACKAGE_DIR)}:{node.lineno}"  # type: ignore[attr-defined]
                    )
    return edges


EDGES = _edges()


def test_every_unit_has_a_layer() -> None:
    units = {_unit(p) for p in PACKAGE_DIR.rglob("*.py")}
    missing = sorted(units - set(RANK))
    assert not missing, f"give these a layer in tests/test_layering.py: {missing}"


def test_low_packages_import_nothing_above_them() -> None:
    upward = [
        f"{src} (layer {RANK[src]}) imports {dst} (layer {RANK[dst]}) at {', '.join(where)}"
        for (src, dst), where in sorted(EDGES.items())
        if RANK.get(dst, -1) >= RANK.get(src, -1)
    ]
    assert not upward, "\n".join(upward)


def test_import_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in EDGES:
        graph[src].add(dst)
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_named_imports_stay_out(importer: str, imported: str) -> None:
    where = EDGES.get((importer, imported))
    assert not where, f"{importer} imports {imported} at {where}"


def test_the_layer_check_can_fail(tmp_path: Path) -> None:
    """An upward import written into a parsed tree is seen (the checker is not vacuous)."""
    tree = ast.parse("def f():\n    from stylebridge.optimize.pipeline import optimize\n")
    found = [t for node in ast.walk(tree) for t in _targets(node)]
    assert found == ["optimize"] and RANK["optimize"] > RANK["catalog"]


# --- inside bridge/ and client/ (issue 15) ------------------------------------------

# bridge/ by flow, lowest first: a subpackage imports only its own and lower ones.
BRIDGE_LAYERS = ("core", "swaps", "frames", "control", "serving")


def _module_edges(package: str) -> dict[tuple[str, str], list[str]]:
    """Imports between the modules of ``package`` (dotted names below it), with where."""
    root = PACKAGE_DIR / package
    prefix = f"stylebridge.{package}."
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        source = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith(prefix):
                    names = [node.module[len(prefix) :]]
                elif node.module == f"stylebridge.{package}":
                    names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name[len(prefix) :] for a in node.names if a.name.startswith(prefix)]
            for name in names:
                if name and name != source:
                    edges[(source, name)].append(
                        f"{package}/{path.relative_to(root)}:{node.lineno}"
                    )  # type: ignore[attr-defined]
    return edges


def _cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in edges:
        graph[src].add(dst)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*trail, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_bridge_modules_sit_in_flow_subpackages() -> None:
    loose = sorted(p.name for p in (PACKAGE_DIR / "bridge").glob("*.py") if p.name != "__init__.py")
    assert not loose, f"bridge/ modules belong in a flow subpackage {BRIDGE_LAYERS}: {loose}"
    subpackages = sorted(
        p.name
        for p in (PACKAGE_DIR / "bridge").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
    )
    assert subpackages == sorted(BRIDGE_LAYERS)


def test_bridge_flows_import_only_lower_flows() -> None:
    rank = {name: i for i, name in enumerate(BRIDGE_LAYERS)}
    upward = []
    for (src, dst), where in sorted(_module_edges("bridge").items()):
        top_src, top_dst = src.split(".")[0], dst.split(".")[0]
        if top_src and top_src in rank and rank[top_dst] > rank[top_src]:
            upward.append(f"bridge.{src} imports bridge.{dst} at {', '.join(where)}")
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("package", ["bridge", "client"])
def test_no_import_cycle_between_modules(package: str) -> None:
    # A package's __init__ re-exports its modules: it is left out (nothing imports it).
    edges = {k: v for k, v in _module_edges(package).items() if k[0] and k[1]}
    cycle = _cycle(edges)
    assert cycle is None, f"import cycle in {package}/: {' -> '.join(cycle or [])}"


def test_the_module_cycle_check_can_fail() -> None:
    assert _cycle({("a", "b"): [], ("b", "c"): [], ("c", "a"): []}) == ["a", "b", "c", "a"]
    assert _cycle({("a", "b"): [], ("b", "c"): []}) is None
