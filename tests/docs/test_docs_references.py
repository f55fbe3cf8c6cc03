"""Every repository path, link, `make` target and `python -m infra` command named in the docs works.

Scans README.md and docs/*.md. A path is checked when its first component is a top-level entry of
the repository (so `infra/stack/proxy.py` is, `/etc/secureyeoman` is not); it must exist in the
repository or in the render output of a stack (docs name rendered files such as `alerts/...`, or
`build/render/dev/host/...`, the folder `make render` writes). Every
relative Markdown link is checked, with its #anchor against the target's headings.
"""

from __future__ import annotations

import re
import shlex
import shutil
from functools import cache
from pathlib import Path

import pytest

from infra.cli import main
from infra.render import artefacts
from infra.settings.load import load_stack
from testbed.paths import REPO_ROOT

DOCS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])
# Written by other parts of the work and linked before they land; remove an entry when its file exists.
PENDING: dict[str, str] = {}
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_PATHLIKE = re.compile(r"^\.?[\w-]+(?:\.[\w-]+)*(?:/[\w.-]*)*$")
_COMMAND = re.compile(r"(?:\.venv/bin/)?python -m infra (?:render|check|generate)\b[^`\n|;&#]*")
_MAKE = re.compile(r"\bmake ([a-z][\w-]*)")
# `make render` / `python -m infra render --out build/render/<stack>` output: checked against the render.
_RENDER_OUT = re.compile(r"^build/render/(?:[\w-]+)(?:/(.*))?$")


def code_texts(text: str) -> list[str]:
    fenced = _FENCE.findall(text)
    rest = _FENCE.sub("", text)
    return fenced + _SPAN.findall(rest)


def top_level() -> set[str]:
    return {p.name for p in REPO_ROOT.iterdir() if p.name not in {".git", ".venv", "build", ".pulumi-state"}}


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.*)$", text, re.M)}


def named_paths(text: str) -> list[str]:
    """Repository paths named in the code spans and blocks of a Markdown text."""
    roots = top_level()
    named = []
    for code in code_texts(text):
        for raw in code.split():
            token = raw.strip("'\",;:()")
            if not _PATHLIKE.match(token) or ("/" not in token and token not in roots):
                continue
            if token.split("/")[0] in roots or _RENDER_OUT.match(token):
                named.append(token)
    return named


@cache
def rendered_paths() -> frozenset[str]:
    """Paths inside the render output of every stack: docs name those too (`alerts/...`, `host/...`)."""
    stacks = [p.name.split(".")[1] for p in REPO_ROOT.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml"]
    paths: set[str] = set()
    for stack in stacks:
        for rel in artefacts(load_stack(stack)):
            parts = rel.split("/")
            paths.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(paths)


def exists(path: str) -> bool:
    if match := _RENDER_OUT.match(path):
        inside = (match.group(1) or "").rstrip("/")
        return not inside or inside in rendered_paths()
    return (REPO_ROOT / path).exists() or path.rstrip("/") in rendered_paths() or path.rstrip("/") in PENDING


def missing_paths(text: str) -> list[str]:
    return [p for p in named_paths(text) if not exists(p)]


def test_the_path_check_catches_a_wrong_path() -> None:
    text = "Run `scripts/release.sh 1.2.3`, read `infra/stack/no_such.py` and\n```sh\nls docs/nope/\n```\n"
    assert named_paths(text) == ["docs/nope/", "scripts/release.sh", "infra/stack/no_such.py"]
    assert missing_paths(text) == ["docs/nope/", "infra/stack/no_such.py"]
    rendered = "`build/render/dev/host/systemd/friday-gateway.service` and `build/render/dev/host/nope.conf`"
    assert missing_paths(rendered) == ["build/render/dev/host/nope.conf"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_repository_paths_named_in_code_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert missing_paths(text) == [], f"{doc.name} names paths that do not exist"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(doc: Path) -> None:
    broken = []
    prose = _SPAN.sub("", _FENCE.sub("", doc.read_text(encoding="utf-8")))
    for target in _LINK.findall(prose):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        rel = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)
        if not path.exists():
            if rel not in PENDING:
                broken.append(target)
            continue
        if anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(target)
    assert broken == [], f"{doc.name} has broken links"


def test_make_targets_named_in_the_docs_exist() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = {t for doc in DOCS for code in code_texts(doc.read_text(encoding="utf-8")) for t in _MAKE.findall(code)}
    assert named, "the docs name make targets"
    assert named - targets == set()


def infra_commands() -> list[tuple[str, str]]:
    found = {}
    for doc in DOCS:
        for code in code_texts(doc.read_text(encoding="utf-8")):
            for command in _COMMAND.findall(code):
                # `python -m infra render` alone names the command; it is not an invocation to run.
                if shlex.split(command)[3:] in (["render"], ["check"]):
                    continue
                found[command.strip()] = doc.name
    return sorted(found.items())


def test_the_docs_name_infra_commands() -> None:
    commands = [c for c, _ in infra_commands()]
    assert any(" render " in c for c in commands) and any(" check " in c for c in commands)


@pytest.mark.parametrize(("command", "doc"), infra_commands(), ids=[c for c, _ in infra_commands()])
def test_infra_command_from_the_docs_runs(command: str, doc: str, tmp_path: Path) -> None:
    # A copy of the files the commands read and write, so `generate` and `render` leave the repository alone.
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("README.md", "Pulumi.yaml", *(p.name for p in REPO_ROOT.glob("Pulumi.*.yaml"))):
        shutil.copy(REPO_ROOT / name, root / name)
    # `generate` also rewrites the dashboards and their reference, from the definitions there.
    shutil.copytree(REPO_ROOT / "dashboards", root / "dashboards")
    (root / "docs").mkdir()
    for generated_doc in ("dashboards.md", "performance.md"):
        shutil.copy(REPO_ROOT / "docs" / generated_doc, root / "docs" / generated_doc)
    args = shlex.split(command)[3:]
    if "--out" in args:
        args[args.index("--out") + 1] = str(tmp_path / "out")
    elif args[0] == "render":
        args += ["--out", str(tmp_path / "out")]
    code = main(["--root", str(root), *args])
    # `check --deployable` exits 1 while required secrets are missing, as the docs say.
    expected = {0, 1} if "--deployable" in args else {0}
    assert code in expected, f"`{command}` from {doc} exited {code}"
