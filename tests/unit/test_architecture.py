"""The layers, checked on the source (imports inside functions count too).

The security kernel (domain, crypto, audit, access) depends on nothing above it, and the top-level
packages import one another without cycles. docs/architecture.md says what each may import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "shareplatform"

# What each kernel package may import from shareplatform, besides itself.
KERNEL = {
    "domain": set(),
    "db": set(),
    "faults": set(),
    "crypto": {"domain", "db", "faults"},
    "audit": {"domain", "db"},
    "access": {"domain", "db", "faults", "crypto", "audit"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every shareplatform module this file imports, absolute, with the line."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            for name in names if node.module is None else [target]:
                if name.startswith("shareplatform"):
                    out.append((node.lineno, name))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("shareplatform")]
    return out


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, dict[str, list[str]]]:
    """top-level package -> imported top-level package -> where."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _top(_module_name(path))
        for line, target in _imports(path):
            top = _top(target)
            if top and top != source:
                graph[source][top].append(f"{path.relative_to(PACKAGE)}:{line}")
    return graph


def test_the_kernel_imports_nothing_above_it() -> None:
    graph = _graph()
    offenders = [
        f"{package} -> {target} ({', '.join(where[:3])})"
        for package, allowed in KERNEL.items()
        for target, where in graph.get(package, {}).items()
        if target not in allowed
    ]
    assert offenders == []


def test_no_import_cycles_between_top_level_packages() -> None:
    graph = _graph()
    cycles = set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in graph.get(node, {}):
            if nxt in path:
                cycle = path[path.index(nxt) :]
                start = cycle.index(min(cycle))
                cycles.add(" -> ".join(cycle[start:] + cycle[:start] + [min(cycle)]))
            elif len(path) < 12:
                visit(nxt, [*path, nxt])

    for package in list(graph):
        visit(package, [package])
    examples = {
        cycle: graph[cycle.split(" -> ")[0]][cycle.split(" -> ")[1]][:2] for cycle in cycles
    }
    assert sorted(cycles) == [], examples
