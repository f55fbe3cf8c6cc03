"""`render` never deletes outside its folder (issue 22, item 5).

Render deletes what its marker (`.friday-render`) says an earlier render wrote. An edited or hostile
marker listing a path outside the folder (absolute, '..', through a symbolic link, NUL bytes, huge
lists, bytes that are not text) is refused in one line naming the entry, and NOTHING is deleted: each
case checks that a canary file outside the folder survives and that the earlier render is intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.cli import main
from infra.render import MARKER, MARKER_HEADER


@dataclass(frozen=True)
class Setup:
    out: Path  # the render folder, rendered once
    canary: Path  # a file outside it that must survive

    def rel_to_canary(self) -> str:
        return f"../{self.canary.parent.name}/{self.canary.name}"


@dataclass(frozen=True)
class Hostile:
    name: str
    lines: Callable[[Setup], list[str]]  # lines appended to the marker (after making what they need)
    expected: Callable[[Setup], str]  # in the one-line refusal
    replace: bool = False  # the marker's whole bytes are replaced, not appended to


def symlinked_folder(s: Setup) -> list[str]:
    (s.out / "services" / "elsewhere").symlink_to(s.canary.parent)
    return [f"services/elsewhere/{s.canary.name}"]


def symlinked_top(s: Setup) -> list[str]:
    (s.out / "link").symlink_to(s.canary.parent)
    return [f"link/{s.canary.name}", "link"]


HOSTILE = [
    Hostile("absolute path", lambda s: [str(s.canary)], lambda s: f"lists '{s.canary}', an absolute path"),
    Hostile("dot-dot", lambda s: [s.rel_to_canary()], lambda s: f"lists '{s.rel_to_canary()}', a path climbing out"),
    Hostile(
        "dot-dot inside a path",
        lambda s: [f"services/../{s.rel_to_canary()}"],
        lambda s: "a path climbing out of the folder with '..'",
    ),
    Hostile(
        "dot segments", lambda s: ["./stack.json", "services//gateway.json"], lambda s: "not a plain relative path"
    ),
    Hostile("through a symlinked folder", symlinked_folder, lambda s: "through the symbolic link services/elsewhere"),
    Hostile("through a top-level symlink", symlinked_top, lambda s: "a path through the symbolic link link"),
    Hostile(
        "NUL byte",
        lambda s: [f"stack.json\x00{s.rel_to_canary()}"],
        lambda s: f"lists 'stack.json\\x00{s.rel_to_canary()}', a path with control characters",
    ),
    Hostile("carriage return", lambda s: ["stack.json\r"], lambda s: "lists 'stack.json\\r', a path with control"),
    Hostile("empty line", lambda s: [""], lambda s: "lists '', an empty line"),
    Hostile("the marker itself", lambda s: [MARKER], lambda s: "the marker itself"),
    Hostile("a folder", lambda s: ["services"], lambda s: "lists 'services', a folder, not a file"),
    Hostile(
        "huge list",
        lambda s: ["stack.json"] * 20_000 + [s.rel_to_canary()],
        lambda s: "files, more than the 10,000 a render writes",
    ),
    Hostile("oversize marker", lambda s: ["a" * 1_100_000, s.rel_to_canary()], lambda s: "larger than 1,000,000 bytes"),
    Hostile(
        "not UTF-8",
        lambda s: [f"{MARKER_HEADER} dev\n\udcff{s.rel_to_canary()}"],
        lambda s: "is not UTF-8 text (byte",
        replace=True,
    ),
    Hostile(
        "invisible characters are shown escaped",
        lambda s: ["\u2024\u2024/x", f"\u200b/{s.rel_to_canary()}"],  # the first is a name inside, allowed
        lambda s: f"lists '\\u200b/{s.rel_to_canary()}', a path climbing out",
    ),
]


def rendered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Setup:
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary.txt"
    canary.write_text("must survive")
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    capsys.readouterr()
    return Setup(out, canary)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("case", HOSTILE, ids=[c.name for c in HOSTILE])
def test_a_marker_listing_a_path_outside_is_refused_and_nothing_deleted(
    case: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = rendered(tmp_path, capsys)
    marker = setup.out / MARKER
    lines = case.lines(setup)
    if case.replace:
        marker.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    else:
        with marker.open("a", encoding="utf-8", newline="") as f:
            f.write("".join(f"{line}\n" for line in lines))
    before = snapshot(setup.out)
    assert main(["render", "--stack", "dev", "--out", str(setup.out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err[:2000]
    assert case.expected(setup) in err, err[:2000]
    assert "nothing was deleted" in err or "not a render marker" in err
    assert len(err) < 600, "the refusal names the entry, it does not print the marker"
    assert setup.canary.read_text() == "must survive"
    assert snapshot(setup.out) == before, "render deleted or changed files before refusing"


def test_a_leaf_symlink_listed_is_removed_as_a_link_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The marker may list a symbolic link render's folder holds: unlinking it removes the link only."""
    setup = rendered(tmp_path, capsys)
    (setup.out / "pointer").symlink_to(setup.canary)
    with (setup.out / MARKER).open("a", encoding="utf-8") as f:
        f.write("pointer\n")
    assert main(["render", "--stack", "dev", "--out", str(setup.out)]) == 0
    assert not (setup.out / "pointer").is_symlink()
    assert setup.canary.read_text() == "must survive"


def test_empty_folders_are_removed_without_entering_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty folder behind a listed symbolic link to a folder outside stays: render never walks into it."""
    setup = rendered(tmp_path, capsys)
    (setup.canary.parent / "empty").mkdir()
    (setup.out / "gone").mkdir()
    (setup.out / "outside-link").symlink_to(setup.canary.parent)
    with (setup.out / MARKER).open("a", encoding="utf-8") as f:
        f.write("outside-link\n")
    assert main(["render", "--stack", "dev", "--out", str(setup.out)]) == 0
    assert (setup.canary.parent / "empty").is_dir()
    assert not (setup.out / "gone").exists()
    assert setup.canary.read_text() == "must survive"
