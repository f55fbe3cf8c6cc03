"""Read the gateway's route list from the "Routes" section of docs/gateway.md.

docs/gateway.md describes what the real gateway serves, and docs/openapi.yaml is checked against it.
The parser is strict on purpose: a code span that looks like a route but cannot be read, a route
outside the places it knows how to classify, or an "admin" remark it does not understand raises
GatewayDocError. Skipping such text instead would let a new route silently drop out of the check.

The notation it understands (as used in gateway.md):

* a route is a code span ``METHODS /path`` where METHODS is ``GET`` or several joined by ``|``
  (``GET|PUT|DELETE /x/{id}``), and a path segment may list alternatives the same way
  (``/skills/{id}/enable|disable``): each combination is one route;
* a parenthesis right after a route whose comma-separated items include ``admin`` marks that
  route admin-only; an item ``name: admin`` marks every route of the same bullet that has a path
  segment ``name`` (``(api-keys: admin)``);
* the routes between ``Public:`` and ``Everything else`` in the paragraph before the bullets are
  public; every other route sits in a bullet ``- Area (optional note): ...``, and a code span in
  the note (``comms.enabled``) is a setting those routes depend on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SECTION_TITLE = "Routes"
HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"})

_CODE_SPAN = re.compile(r"`([^`]+)`")
_ROUTE = re.compile(r"(?P<methods>[A-Za-z]+(?:\|[A-Za-z]+)*) (?P<path>/\S*)")
# A token starting with "/" marks a span as meant to be a route (URLs have "//" after a colon).
_PATH_TOKEN = re.compile(r"(?:^|\s)/")
# A bare API path outside backticks would be invisible to the span scan.
_BARE_API_PATH = re.compile(r"(?<![\w/])/api/")
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)")
_ADMIN_WORD = re.compile(r"\badmin\b", re.IGNORECASE)
_DIRECT_ADMIN = re.compile(r"admin\b.*")
_SCOPED_ADMIN = re.compile(r"(?P<scope>[\w-]+)\s*:\s*admin")
_BULLET = re.compile(r"-\s+(?P<label>[A-Z][\w ]*?)\s*(?:\((?P<note>[^()]*)\))?\s*:\s")
_PUBLIC_START = "Public:"
_PUBLIC_END = "Everything else"


class GatewayDocError(ValueError):
    """gateway.md contains route text this parser cannot classify."""


@dataclass(frozen=True, order=True)
class Route:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class GatewayApi:
    routes: frozenset[Route]
    public: frozenset[Route]
    admin: frozenset[Route]
    # Route -> configuration setting it exists under (for example "comms.enabled").
    conditions: Mapping[Route, str]


@dataclass(frozen=True)
class _Span:
    routes: tuple[Route, ...]
    end: int  # offset just after the closing backtick, where a marker may follow


def expand_route(span: str) -> list[Route]:
    """Expand one route code span (``POST|GET /a/{id}/x|y``) into its routes."""
    match = _ROUTE.fullmatch(span.strip())
    if match is None:
        raise GatewayDocError(f"not a route: `{span}`")
    methods = match["methods"].split("|")
    unknown = [m for m in methods if m not in HTTP_METHODS]
    if unknown:
        raise GatewayDocError(f"unknown HTTP method {unknown} in `{span}`")
    segments = [segment.split("|") for segment in match["path"].split("/")]
    if any(len(alternatives) > 1 and "" in alternatives for alternatives in segments):
        raise GatewayDocError(f"empty alternative in `{span}`")
    paths = ["/".join(choice) for choice in itertools.product(*segments)]
    return [Route(method, path) for method in methods for path in paths]


def extract_section(markdown: str, title: str = SECTION_TITLE) -> str:
    """Text of the level-2 section called ``title``, up to the next heading of level 1 or 2."""
    lines = markdown.splitlines()
    heading = re.compile(rf"##\s+{re.escape(title)}\b.*")
    starts = [i for i, line in enumerate(lines) if heading.fullmatch(line)]
    if len(starts) != 1:
        raise GatewayDocError(f"expected one '## {title}' heading, found {len(starts)}")
    body: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if re.match(r"#{1,2}\s", line):
            break
        body.append(line)
    return "\n".join(body)


def _split_blocks(section: str) -> tuple[str, list[str], str]:
    """Split a section into the intro paragraph, the bullets and any text after them."""
    intro: list[str] = []
    bullets: list[list[str]] = []
    trailing: list[str] = []
    for line in section.splitlines():
        if line.startswith("- "):
            bullets.append([line])
        elif bullets and line[:1].isspace() and line.strip() and not trailing:
            bullets[-1].append(line.strip())  # continuation of a wrapped bullet
        elif bullets:
            trailing.append(line)
        else:
            intro.append(line)
    return " ".join(intro), [" ".join(lines) for lines in bullets], " ".join(trailing)


def _route_spans(text: str) -> Iterator[_Span]:
    """Route code spans of ``text``; refuses path-like text that is not a readable route."""
    if _BARE_API_PATH.search(_CODE_SPAN.sub("", text)):
        raise GatewayDocError(f"API path outside backticks in: {text!r}")
    for match in _CODE_SPAN.finditer(text):
        span = match[1]
        if _PATH_TOKEN.search(span):
            yield _Span(tuple(expand_route(span)), match.end())


def _admin_marker(text: str, offset: int) -> tuple[bool, list[str]]:
    """Read the parenthesis right after a route: (admin-only here?, scopes of ``x: admin``)."""
    rest = text[offset:]
    if not rest.lstrip().startswith("("):
        return False, []
    match = _PARENTHESIS.match(rest)
    if match is None:
        raise GatewayDocError(f"cannot read the parenthesis after a route: {rest[:60]!r}")
    direct = False
    scopes: list[str] = []
    for item in (part.strip() for part in match[1].split(",")):
        scoped = _SCOPED_ADMIN.fullmatch(item)
        if _DIRECT_ADMIN.fullmatch(item):
            direct = True
        elif scoped:
            scopes.append(scoped["scope"])
        elif _ADMIN_WORD.search(item):
            raise GatewayDocError(f"unrecognised admin marker: ({match[1]})")
    return direct, scopes


def _parse_routes_with_admin(text: str) -> tuple[list[Route], set[Route]]:
    """All routes of one block of text and the subset its markers make admin-only."""
    routes: list[Route] = []
    admin: set[Route] = set()
    all_scopes: list[str] = []
    for span in _route_spans(text):
        routes.extend(span.routes)
        direct, scopes = _admin_marker(text, span.end)
        if direct:
            admin.update(span.routes)
        all_scopes.extend(scopes)
    for scope in all_scopes:
        scoped = {r for r in routes if scope in r.path.split("/")}
        if not scoped:
            raise GatewayDocError(f"'{scope}: admin' matches no route of: {text!r}")
        admin |= scoped
    return routes, admin


def _parse_intro(intro: str) -> tuple[list[Route], set[Route]]:
    """Public routes of the intro paragraph; a route anywhere else in it is an error."""
    start = intro.find(_PUBLIC_START)
    if start < 0:
        raise GatewayDocError(f"no '{_PUBLIC_START}' list before the bullets")
    end = intro.find(_PUBLIC_END, start)
    end = len(intro) if end < 0 else end
    outside = intro[:start] + " " + intro[end:]
    if any(True for _ in _route_spans(outside)):
        raise GatewayDocError("route in the intro outside the 'Public:' list")
    return _parse_routes_with_admin(intro[start:end])


def _parse_bullet(bullet: str) -> tuple[list[Route], set[Route], str | None]:
    """Routes, admin-only routes and the condition note of one ``- Area (note): ...`` bullet."""
    label = _BULLET.match(bullet)
    if label is None:
        raise GatewayDocError(f"bullet without an 'Area:' label: {bullet[:60]!r}")
    note = label["note"]
    condition = None
    if note is not None:
        keys = _CODE_SPAN.findall(note)
        condition = keys[0] if keys else note.strip()
    routes, admin = _parse_routes_with_admin(bullet[label.end() :])
    return routes, admin, condition


def parse_http_api(markdown: str) -> GatewayApi:
    """Parse gateway.md text into the routes of its HTTP API section."""
    intro, bullets, trailing = _split_blocks(extract_section(markdown))
    if any(True for _ in _route_spans(trailing)):
        raise GatewayDocError("route after the bullets, outside any area")
    public, admin = _parse_intro(intro)
    seen: list[Route] = list(public)
    conditions: dict[Route, str] = {}
    for bullet in bullets:
        routes, bullet_admin, condition = _parse_bullet(bullet)
        seen.extend(routes)
        admin |= bullet_admin
        if condition is not None:
            conditions.update(dict.fromkeys(routes, condition))
    duplicates = sorted({r for r in seen if seen.count(r) > 1})
    if duplicates:
        raise GatewayDocError(f"routes listed twice: {[str(r) for r in duplicates]}")
    return GatewayApi(frozenset(seen), frozenset(public), frozenset(admin), conditions)


def load_gateway_api(path: Path) -> GatewayApi:
    return parse_http_api(path.read_text(encoding="utf-8"))
