"""The package layout: imports run one way, no cycles, no module over 500 lines, the named libraries in use."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "aipsy_affect"
ROOT_MODULES = {"errors", "_torch", "_version", "__init__", "__main__"}
#: Pure helpers any layer may use (no imports from the rest of the package).
UTILITIES = {"render.tables", "render.templates"}
#: sub-package -> the sub-packages it may import from (besides itself, the root modules and the utilities).
ALLOWED: dict[str, set[str]] = {
    "battery": set(),
    "keywords": {"battery"},
    "defense": {"battery", "keywords"},
    "benchmark": {"battery"},
    "certify": {"battery", "keywords", "defense"},
    "probe": {"battery", "benchmark", "defense"},
    "norms": {"battery"},
    "render": {"battery", "keywords", "defense", "certify", "benchmark", "norms"},
    "hub": {"battery", "keywords", "defense", "certify", "benchmark", "norms", "render"},
    "cli": {"battery", "keywords", "defense", "certify", "benchmark", "probe", "norms", "render", "hub"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        out[".".join(rel.parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Every aipsy_affect module this file imports, at module level or inside functions (relative ones resolved)."""
    found = set()
    package = name.split(".")[:-1]  # the package a relative import starts from, for modules and __init__ alike
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("aipsy_affect"):
                target = node.module.removeprefix("aipsy_affect").lstrip(".")
            else:
                continue
            found.add(target)
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if target else alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aipsy_affect."):
                    found.add(alias.name.removeprefix("aipsy_affect."))
    modules = _modules()
    return {t for t in found if t in modules or f"{t}.__init__" in modules}


def _group(module: str) -> str:
    if module in UTILITIES:
        return "utility"
    head = module.split(".")[0]
    return "root" if head in ROOT_MODULES else head


def test_imports_run_one_way() -> None:
    problems = []
    for name, path in _modules().items():
        src = _group(name)
        for target in _imports(name, path):
            dst = _group(target)
            if name.split(".")[0] in ("__init__", "__main__") or dst in ("root", "utility") or src == dst:
                if (
                    src in ("root", "utility")
                    and dst not in ("root",)
                    and name.split(".")[0] not in ("__init__", "__main__")
                ):
                    problems.append(f"{name} -> {target}: the root modules and utilities import nothing above them")
                continue
            if src in ("root", "utility") or dst not in ALLOWED.get(src, set()):
                problems.append(f"{name} ({src}) -> {target} ({dst})")
    assert not problems, "imports against the layering:\n" + "\n".join(sorted(problems))


def test_no_import_cycles_between_modules() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in _imports(name, path):
            if target in modules and target != name and not name.endswith("__init__"):
                graph[name].add(target)
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if seen.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(modules):
        if node not in seen:
            visit(node)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_no_module_over_500_lines(name: str) -> None:
    lines = _modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{name} has {lines} lines"


def test_sub_packages_and_named_libraries() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert {"battery", "keywords", "defense", "certify", "benchmark", "probe", "hub", "render", "cli"} <= subpackages
    sources = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    for library in ("pandas", "nltk", "jinja2"):
        assert f"import {library}" in sources or f"from {library}" in sources, f"{library} is declared but unused"
