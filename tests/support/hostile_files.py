"""The hostile-document table: small stack files (and Pulumi.yaml files) that would cost minutes,
gigabytes or a RecursionError without the bounds of infra/settings/bounded.py, with what the one-line
refusal says. Run through `check` and `render` (tests/unit/test_hostile_files.py) and through the Pulumi
program (tests/pulumi/test_hostile_files_engine.py)."""

from __future__ import annotations

from dataclasses import dataclass

# Each refusal must come within this (a refused document takes well under a second here).
BOUND_SECONDS = 15


def laughs(namespace_key: str, levels: int = 9, width: int = 9) -> str:
    """The billion laughs: each anchor a list of `width` aliases of the one before (width^levels)."""
    lines = [f"  {namespace_key}0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"  {namespace_key}{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "config:\n" + "\n".join(lines) + "\n"


def merge_laughs() -> str:
    """The same growth through merge keys (<<), which only the constructor expands."""
    lines = ["  docker:m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}"]
    for i in range(1, 10):
        keys = ", ".join(f"k{j}: *m{i - 1}" for j in range(10))
        lines.append(f"  docker:m{i}: &m{i} {{{keys}}}")
    return "config:\n" + "\n".join(lines) + "\n"


def long_scalar_repeated() -> str:
    """200 KB on disk, 20 MB of text once a 100 KB string's alias is repeated 200 times."""
    return "config:\n  docker:s: &s " + "x" * 100_000 + "\n  docker:t: [" + ", ".join(["*s"] * 200) + "]\n"


@dataclass(frozen=True)
class Hostile:
    name: str
    text: str  # the stack file (or Pulumi.yaml when project is True)
    expected: str
    project: bool = False  # put it in Pulumi.yaml instead of the stack file


HOSTILE = [
    Hostile("billion laughs, provider namespace", laughs("docker:l"), "expands to more than 100,000 values"),
    Hostile("billion laughs, our namespace", laughs("friday:l"), "expands to more than 100,000 values"),
    Hostile("billion laughs, top level", laughs("l").replace("  l", "l").replace("config:\n", ""), "expands to more"),
    Hostile("merge-key laughs", merge_laughs(), "expands to more than 100,000 values"),
    Hostile("one long scalar repeated", long_scalar_repeated(), "4,000,000 characters"),
    Hostile("recursive alias", "config:\n  docker:r: &r [a, *r]\n", "alias *r refers to the node that contains it"),
    Hostile("recursive mapping alias", "config:\n  docker:r: &r {a: *r}\n", "(a recursive alias)"),
    Hostile("deep flow lists", "config:\n  friday:target: " + "[" * 5000 + "]" * 5000 + "\n", "nests deeper than 64"),
    Hostile("deep flow mappings", "config:\n  docker:x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nests deeper"),
    Hostile(
        "deep block mappings",
        "config:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(400)) + "  " * 401 + "v\n",
        "nests deeper than 64",
    ),
    Hostile("deep sequences", "config:\n  docker:x:\n" + "".join("    " + "- " * 300 + "x\n"), "nests deeper"),
    Hostile("2 MB of comments", "config:\n  friday:target: docker\n" + "# padding\n" * 200_000, "larger than 1,000"),
    Hostile("2 MB one line", "config:\n  friday:environment: " + "a" * 2_000_000 + "\n", "larger than 1,000,000"),
    Hostile("Pulumi.yaml laughs", "name: friday\n" + laughs("l").replace("  l", "l")[8:], "expands to more", True),
    Hostile("Pulumi.yaml deep", "name: friday\nx: " + "[" * 5000 + "]" * 5000 + "\n", "nests deeper", True),
    Hostile("Pulumi.yaml oversize", "name: friday\n" + "#\n" * 600_000, "larger than 1,000,000", True),
]
