"""The layering of infra/ is real: no import cycle between its packages, and every package sits in
a layer of the import-linter contract (pyproject.toml) that `make test` runs with `lint-imports`."""

from __future__ import annotations

import itertools
import re
import tomllib

import grimp

from testbed.paths import REPO_ROOT


def contract_layers() -> list[set[str]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    return [{name.strip() for name in layer.split("|")} for layer in layers["layers"]]


def package_graph() -> dict[str, set[str]]:
    """infra's top-level packages (and modules) and which of them each imports."""
    graph = grimp.build_graph("infra")
    top = set(graph.find_children("infra"))
    edges: dict[str, set[str]] = {m: set() for m in top}
    for importer, imported in itertools.permutations(top, 2):
        if graph.direct_import_exists(importer=importer, imported=imported, as_packages=True):
            edges[importer].add(imported)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_infra_packages() -> None:
    assert cycles(package_graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_infra_package_is_in_a_layer() -> None:
    layered = set().union(*contract_layers())
    entry_points = {"infra.__main__"}
    missing = set(package_graph()) - layered - entry_points
    assert not missing, f"add these to a layer of the import-linter contract in pyproject.toml: {sorted(missing)}"


def test_readme_lists_the_layers_of_the_contract() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("The packages are layered, top to bottom:")
    sentence = text[start : text.index(". ", start)]
    layers = [{f"infra.{name}" for name in re.findall(r"`(\w+)`", part)} for part in sentence.split(";")]
    assert layers == contract_layers()


def module_cycles() -> dict[str, list[list[str]]]:
    """Import cycles between the modules (and subpackages) of each package of infra, imports inside
    functions included: {package: its cycles}."""
    graph = grimp.build_graph("infra")
    found = {}
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        children = set(graph.find_children(package))
        edges = {
            child: {
                other
                for other in children
                if other != child and graph.direct_import_exists(importer=child, imported=other, as_packages=True)
            }
            for child in children
        }
        if groups := cycles(edges):
            found[package] = groups
    return found


def test_no_import_cycle_between_the_modules_of_a_package() -> None:
    assert module_cycles() == {}
