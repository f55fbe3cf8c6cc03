"""A parser for the Alloy configuration syntax, written from its documented grammar.

No Alloy binary runs here and PyPI has no parser for the syntax, so the tests read the
rendered configs back with this independent implementation (it shares no code with
infra.logs.syntax, which writes them):

    File       = Body
    Body       = { Attribute | Block }          one per line
    Attribute  = ident "=" Expr
    Block      = ident { "." ident } [ string ] "{" Body "}"
    Expr       = Unary { binop Unary }
    Unary      = [ "!" | "-" ] Postfix
    Postfix    = Primary { "." ident | "[" Expr "]" | "(" [ Expr { "," Expr } [","] ] ")" }
    Primary    = number | string | rawstring | true | false | null | ident
               | "[" [ Expr { "," Expr } [","] ] "]"
               | "{" [ Key "=" Expr { "," Key "=" Expr } [","] ] "}"  |  "(" Expr ")"
    Key        = ident | string
Comments are `//` to the end of the line and `/* ... */`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<newline>\n)
  | (?P<number>[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)
  | (?P<string>"(\\.|[^"\\\n])*")
  | (?P<raw>`[^`]*`)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%^<>!=.,\[\]{}()])
    """,
    re.VERBOSE | re.DOTALL,
)
_BINARY = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "^"}


class AlloySyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    line: int


@dataclass(frozen=True)
class Reference:
    """An identifier path used as a value, e.g. loki.write.default.receiver."""

    path: str


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]


@dataclass
class ParsedBlock:
    name: str
    label: str | None
    attrs: dict[str, Any] = field(default_factory=dict)
    blocks: list[ParsedBlock] = field(default_factory=list)
    line: int = 0

    @property
    def component_id(self) -> str:
        return f"{self.name}.{self.label}" if self.label else self.name

    def one(self, name: str) -> ParsedBlock:
        found = [b for b in self.blocks if b.name == name]
        if len(found) != 1:
            raise KeyError(f"{self.component_id}: expected one {name} block, found {len(found)}")
        return found[0]


def tokenize(text: str) -> list[Tok]:
    tokens: list[Tok] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise AlloySyntaxError(f"line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        value = m.group()
        if kind == "comment" and value.startswith("/*"):
            line += value.count("\n")
        elif kind not in ("ws", "comment"):
            tokens.append(Tok(kind, value, line))
            line += kind == "newline"
        pos = m.end()
    tokens.append(Tok("eof", "", line))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.toks = tokens
        self.i = 0
        self.nesting = 0  # inside ( [ or an object literal newlines are insignificant

    def peek(self) -> Tok:
        while self.nesting and self.toks[self.i].kind == "newline":
            self.i += 1
        return self.toks[self.i]

    def take(self, kind: str | None = None, text: str | None = None) -> Tok:
        tok = self.peek()
        if (kind and tok.kind != kind) or (text and tok.text != text):
            want = text or kind
            raise AlloySyntaxError(f"line {tok.line}: expected {want!r}, found {tok.text or tok.kind!r}")
        self.i += 1
        return tok

    def skip_newlines(self) -> None:
        while self.toks[self.i].kind == "newline":
            self.i += 1

    def body(self, closing: str | None) -> tuple[dict[str, Any], list[ParsedBlock]]:
        attrs: dict[str, Any] = {}
        blocks: list[ParsedBlock] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if closing and tok.text == closing:
                return attrs, blocks
            if tok.kind == "eof":
                if closing:
                    raise AlloySyntaxError(f"line {tok.line}: missing {closing!r}")
                return attrs, blocks
            start = self.take("ident")
            if self.peek().text == "=":
                self.take(text="=")
                if start.text in attrs:
                    raise AlloySyntaxError(f"line {start.line}: attribute {start.text} set twice")
                attrs[start.text] = self.expr()
            else:
                blocks.append(self.block(start))
            end = self.toks[self.i]
            if end.kind == "newline":
                continue
            if not (closing and end.text == closing) and end.kind != "eof":
                raise AlloySyntaxError(f"line {end.line}: expected a new line, found {end.text!r}")

    def block(self, first: Tok) -> ParsedBlock:
        parts = [first.text]
        while self.peek().text == ".":
            self.take(text=".")
            parts.append(self.take("ident").text)
        label = None
        if self.peek().kind == "string":
            label = json.loads(self.take("string").text)
        self.take(text="{")
        attrs, blocks = self.body("}")
        self.take(text="}")
        return ParsedBlock(".".join(parts), label, attrs, blocks, first.line)

    def expr(self) -> Any:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in _BINARY:
            op = self.take().text
            left = (op, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.peek().text in ("!", "-"):
            op = self.take().text
            return (op, self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while True:
            tok = self.toks[self.i]  # postfix operators must be on the same line
            if tok.text == "." and isinstance(value, Reference):
                self.take(text=".")
                value = Reference(f"{value.path}.{self.take('ident').text}")
            elif tok.text == "[":
                self.take(text="[")
                self.nesting += 1
                index = self.expr()
                self.take(text="]")
                self.nesting -= 1
                value = ("index", value, index)
            elif tok.text == "(" and isinstance(value, Reference):
                args = self.sequence("(", ")")
                value = Call(value.path, tuple(args))
            else:
                return value

    def sequence(self, open_: str, close: str) -> list[Any]:
        self.take(text=open_)
        self.nesting += 1
        items: list[Any] = []
        while self.peek().text != close:
            items.append(self.expr())
            if self.peek().text != ",":
                break
            self.take(text=",")
        self.take(text=close)
        self.nesting -= 1
        return items

    def object(self) -> dict[str, Any]:
        self.take(text="{")
        self.nesting += 1
        out: dict[str, Any] = {}
        while self.peek().text != "}":
            key_tok = self.peek()
            key = self.take().text if key_tok.kind == "ident" else json.loads(self.take("string").text)
            self.take(text="=")
            if key in out:
                raise AlloySyntaxError(f"line {key_tok.line}: key {key} set twice")
            out[key] = self.expr()
            if self.peek().text != ",":
                break
            self.take(text=",")
        self.take(text="}")
        self.nesting -= 1
        return out

    def primary(self) -> Any:  # noqa: PLR0911 (one return per kind of value)
        tok = self.peek()
        if tok.kind == "number":
            self.take()
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "string":
            self.take()
            return json.loads(tok.text)
        if tok.kind == "raw":
            self.take()
            return tok.text[1:-1]
        if tok.kind == "ident":
            self.take()
            return {"true": True, "false": False, "null": None}.get(tok.text, Reference(tok.text))
        if tok.text == "[":
            return self.sequence("[", "]")
        if tok.text == "{":
            return self.object()
        if tok.text == "(":
            self.take(text="(")
            self.nesting += 1
            inner = self.expr()
            self.take(text=")")
            self.nesting -= 1
            return inner
        raise AlloySyntaxError(f"line {tok.line}: expected a value, found {tok.text or tok.kind!r}")


def parse(text: str) -> list[ParsedBlock]:
    """The top-level blocks of a config; top-level attributes are not allowed in Alloy files."""
    parser = _Parser(tokenize(text))
    attrs, blocks = parser.body(None)
    if attrs:
        raise AlloySyntaxError(f"top-level attributes are not allowed: {sorted(attrs)}")
    return blocks


def references(value: Any) -> list[str]:
    """Every reference inside a parsed value."""
    if isinstance(value, Reference):
        return [value.path]
    if isinstance(value, Call):
        return [r for a in value.args for r in references(a)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list | tuple):
        return [r for v in value for r in references(v)]
    return []


def all_references(block: ParsedBlock) -> list[str]:
    refs = [r for v in block.attrs.values() for r in references(v)]
    return refs + [r for b in block.blocks for r in all_references(b)]
