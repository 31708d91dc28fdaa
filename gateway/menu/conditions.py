"""A small, safe condition language for routers: no ``eval``, no attribute access, no calls.

    expr    := or_expr
    or_expr := and_expr ("or" and_expr)*
    and_expr:= not_expr ("and" not_expr)*
    not_expr:= "not" not_expr | compare
    compare := value (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") value)?
    value   := NUMBER | 'string' | "string" | true | false | null | NAME(.NAME)* | "(" expr ")"
             | "[" value ("," value)* "]"

Comparisons are numeric when both sides look like numbers (inputs arrive as text), otherwise
textual; an undefined variable is ``null`` and orders before nothing (``<``/``>`` give false).
A bare value is true when it is set and not empty, ``0`` or ``false``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from gateway.menu.templates import lookup

Condition = Callable[[Mapping[str, Any]], bool]
_Value = Callable[[Mapping[str, Any]], Any]

_TOKEN = re.compile(
    r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'[^']*'|"[^"]*")|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class ConditionError(ValueError):
    """The expression does not parse; the message says where."""


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    source = source.rstrip()
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match or match.end() == pos:
            raise ConditionError(f"unexpected {source[pos:].strip()[:10]!r} at character {pos + 1}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "name" and text in _KEYWORDS:
            kind = "kw"
        tokens.append((kind, text))
        pos = match.end()
    return tokens


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return str(a).casefold() == str(b).casefold() if isinstance(a, str | int | float) else a == b


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ("in", "not in"):
        items = b if isinstance(b, list | tuple) else [b]
        found = any(_equal(a, item) for item in items)
        return found if op == "in" else not found
    if a is None or b is None:
        return False
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return bool(_ORDER[op](na, nb))
    return bool(_ORDER[op](str(a), str(b)))


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no")
    return bool(value)


def _either(a: _Value, b: _Value) -> _Value:
    return lambda v: truthy(a(v)) or truthy(b(v))


def _both(a: _Value, b: _Value) -> _Value:
    return lambda v: truthy(a(v)) and truthy(b(v))


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.i = 0
        self.variables: set[str] = set()

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1] != text):
            raise ConditionError(f"expected {text or 'a value'}, found {token[1] or 'the end'!r}")
        self.i += 1
        return token

    def parse(self) -> Condition:
        if not self.tokens:
            raise ConditionError("empty condition")
        expr = self.or_expr()
        if self.peek()[0] != "end":
            raise ConditionError(f"unexpected {self.peek()[1]!r}")
        return lambda values: truthy(expr(values))

    def or_expr(self) -> _Value:
        left = self.and_expr()
        while self.peek() == ("kw", "or"):
            self.take()
            left = _either(left, self.and_expr())
        return left

    def and_expr(self) -> _Value:
        left = self.not_expr()
        while self.peek() == ("kw", "and"):
            self.take()
            left = _both(left, self.not_expr())
        return left

    def not_expr(self) -> _Value:
        if self.peek() == ("kw", "not"):
            self.take()
            inner = self.not_expr()
            return lambda v: not truthy(inner(v))
        return self.compare()

    def compare(self) -> _Value:
        left = self.value()
        kind, text = self.peek()
        op = None
        if kind == "op" and text in ("==", "!=", "<", "<=", ">", ">="):
            op = text
        elif (kind, text) == ("kw", "in"):
            op = "in"
        elif (kind, text) == ("kw", "not") and self.tokens[self.i + 1 : self.i + 2] == [
            ("kw", "in")
        ]:
            self.take()
            op = "not in"
        if op is None:
            return left
        self.take()
        right = self.value()
        return lambda v: _compare(op, left(v), right(v))

    def value(self) -> _Value:
        kind, text = self.take()
        if kind == "num":
            number = float(text) if "." in text else int(text)
            return lambda _v: number
        if kind == "str":
            literal = text[1:-1]
            return lambda _v: literal
        if kind == "kw" and text in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[text]
            return lambda _v: constant
        if kind == "name":
            self.variables.add(text)
            return lambda v: lookup(v, text)
        if text == "(":
            inner = self.or_expr()
            self.take(")")
            return inner
        if text == "[":
            items = [self.value()]
            while self.peek()[1] == ",":
                self.take()
                items.append(self.value())
            self.take("]")
            return lambda v: [item(v) for item in items]
        raise ConditionError(f"unexpected {text!r}")


def compile_condition(source: str) -> tuple[Condition, frozenset[str]]:
    """Compile ``source`` into a predicate over session variables, plus the names it reads."""
    parser = _Parser(source)
    return parser.parse(), frozenset(parser.variables)
