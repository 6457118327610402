"""Camunda JUEL (``${...}``/``#{...}``) translated into the Python ``ast`` the checker knows."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ExpressionError
from .checker import MAX_DEPTH, _Empty

# --------------------------------------------------------------------------- JUEL


_JUEL_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      |(?P<name>[^\W\d]\w*)
      |(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:()\[\],.])""",
    re.VERBOSE | re.DOTALL,
)
_JUEL_WORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "div": "/",
    "mod": "%",
    "empty": "empty",
}
_JUEL_CONSTANTS = {"true": True, "false": False, "null": None}
_JUEL_INFIX: dict[str, tuple[int, Callable[[ast.expr, ast.expr], ast.expr]]] = {}
_PREFIX_BP = 8


def _juel_bool(op: ast.boolop) -> Callable[[ast.expr, ast.expr], ast.expr]:
    def build(left: ast.expr, right: ast.expr) -> ast.expr:
        # a && b && c becomes one flat BoolOp, as Python parses a and b and c
        if isinstance(left, ast.BoolOp) and type(left.op) is type(op):
            return ast.BoolOp(op=op, values=[*left.values, right])
        return ast.BoolOp(op=op, values=[left, right])

    return build


def _juel_compare(op: ast.cmpop) -> Callable[[ast.expr, ast.expr], ast.expr]:
    return lambda left, right: ast.Compare(left=left, ops=[op], comparators=[right])


def _juel_binop(op: ast.operator) -> Callable[[ast.expr, ast.expr], ast.expr]:
    return lambda left, right: ast.BinOp(left=left, op=op, right=right)


_JUEL_INFIX.update(
    {
        "||": (2, _juel_bool(ast.Or())),
        "&&": (3, _juel_bool(ast.And())),
        "==": (4, _juel_compare(ast.Eq())),
        "!=": (4, _juel_compare(ast.NotEq())),
        "<": (5, _juel_compare(ast.Lt())),
        ">": (5, _juel_compare(ast.Gt())),
        "<=": (5, _juel_compare(ast.LtE())),
        ">=": (5, _juel_compare(ast.GtE())),
        "+": (6, _juel_binop(ast.Add())),
        "-": (6, _juel_binop(ast.Sub())),
        "*": (7, _juel_binop(ast.Mult())),
        "/": (7, _juel_binop(ast.Div())),
        "%": (7, _juel_binop(ast.Mod())),
    }
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, str, name, const, op, end
    value: Any
    pos: int


def _juel_tokens(inner: str, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(inner):
        m = _JUEL_TOKEN.match(inner, pos)
        if m is None:
            raise _juel_bad_char(inner[pos], pos, source)
        kind, text = m.lastgroup or "", m.group()
        if kind == "num":
            tokens.append(
                _Token("num", float(text) if "." in text or "e" in text.lower() else int(text), pos)
            )
        elif kind == "str":
            tokens.append(_Token("str", re.sub(r"\\([\\'\"])", r"\1", text[1:-1]), pos))
        elif kind == "name" and text in _JUEL_CONSTANTS:
            tokens.append(_Token("const", _JUEL_CONSTANTS[text], pos))
        elif kind == "name" and text in _JUEL_WORD_OPS:
            tokens.append(_Token("op", _JUEL_WORD_OPS[text], pos))
        elif kind == "name" and text == "instanceof":
            raise ExpressionError(
                "JUEL 'instanceof' is not supported",
                "'instanceof' pada JUEL tidak didukung",
                expression=source,
            )
        elif kind != "ws":
            tokens.append(_Token(kind, text, pos))
        pos = m.end()
    tokens.append(_Token("end", None, len(inner)))
    return tokens


def _juel_bad_char(char: str, pos: int, source: str) -> ExpressionError:
    hint_en, hint_id = "", ""
    if char == "=":
        hint_en, hint_id = " (use '==' to compare)", " (pakai '==' untuk membandingkan)"
    elif char in "&|":
        hint_en, hint_id = " (use '&&' or '||')", " (pakai '&&' atau '||')"
    return ExpressionError(
        f"Unexpected character '{char}' at position {pos + 1}{hint_en}",
        f"Karakter '{char}' tidak terduga di posisi {pos + 1}{hint_id}",
        expression=source,
    )


class _JuelParser:
    """A Pratt parser from the JUEL subset to the Python node types the checker knows."""

    def __init__(self, inner: str, source: str) -> None:
        self.tokens = _juel_tokens(inner, source)
        self.source = source
        self.i = 0
        self.depth = 0

    def fail(self, en: str, id_: str) -> ExpressionError:
        return ExpressionError(en, id_, expression=self.source)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def unexpected(self, tok: _Token) -> ExpressionError:
        if tok.kind == "end":
            return self.fail("Unexpected end of expression", "Ekspresi berakhir tiba-tiba")
        return self.fail(
            f"Unexpected '{tok.value}' at position {tok.pos + 1}",
            f"'{tok.value}' tidak terduga di posisi {tok.pos + 1}",
        )

    def expect(self, op: str) -> None:
        tok = self.advance()
        if tok.kind != "op" or tok.value != op:
            raise self.unexpected(tok)

    def parse(self) -> ast.expr:
        if self.peek().kind == "end":
            raise self.fail("Empty expression", "Ekspresi kosong")
        node = self.expr(0)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def expr(self, min_bp: int) -> ast.expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                f"Expression is nested too deeply (more than {MAX_DEPTH} levels)",
                f"Ekspresi terlalu bertingkat (lebih dari {MAX_DEPTH} tingkat)",
            )
        left = self.prefix()
        while (tok := self.peek()).kind == "op":
            if tok.value in ("(", "[", "."):
                left = self.postfix(left)
                continue
            if tok.value == "?":
                if min_bp >= 1:
                    break
                self.advance()
                body = self.expr(0)
                self.expect(":")
                left = ast.IfExp(test=left, body=body, orelse=self.expr(0))
                continue
            infix = _JUEL_INFIX.get(tok.value)
            if infix is None or infix[0] <= min_bp:
                break
            self.advance()
            left = infix[1](left, self.expr(infix[0]))
        self.depth -= 1
        return left

    def prefix(self) -> ast.expr:
        tok = self.advance()
        if tok.kind in ("num", "str", "const"):
            return ast.Constant(value=tok.value)
        if tok.kind == "name":
            return ast.Name(id=tok.value, ctx=ast.Load())
        if tok.kind == "op":
            if tok.value == "(":
                node = self.expr(0)
                self.expect(")")
                return node
            if tok.value == "-":
                return ast.UnaryOp(op=ast.USub(), operand=self.expr(_PREFIX_BP))
            if tok.value == "!":
                return ast.UnaryOp(op=ast.Not(), operand=self.expr(_PREFIX_BP))
            if tok.value == "empty":
                return _Empty(self.expr(_PREFIX_BP))
        raise self.unexpected(tok)

    def postfix(self, left: ast.expr) -> ast.expr:
        tok = self.advance()
        if tok.value == ".":
            member = self.peek().value if self.peek().kind == "name" else "..."
            raise self.fail(
                f"Member access ('.{member}') is not supported; pass the value as a variable",
                f"Akses anggota ('.{member}') tidak didukung; kirim nilainya sebagai variabel",
            )
        if tok.value == "[":
            index = self.expr(0)
            self.expect("]")
            return ast.Subscript(value=left, slice=index, ctx=ast.Load())
        if not isinstance(left, ast.Name):
            raise self.fail(
                "Only named functions can be called", "Hanya fungsi bernama yang boleh dipanggil"
            )
        args: list[ast.expr] = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            args.append(self.expr(0))
            while self.peek().kind == "op" and self.peek().value == ",":
                self.advance()
                args.append(self.expr(0))
        self.expect(")")
        return ast.Call(func=left, args=args, keywords=[])


def _split_el(text: str, source: str) -> list[tuple[bool, str]]:
    """Split text into (is_expression, text) parts; a '}' inside a string literal is not an end."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    while (start := _next_opener(text, pos)) >= 0:
        if start > pos:
            parts.append((False, text[pos:start]))
        i = start + 2
        while i < len(text) and text[i] != "}":
            if text[i] in "'\"":
                quote, i = text[i], i + 1
                while i < len(text) and text[i] != quote:
                    i += 2 if text[i] == "\\" else 1
            i += 1
        if i >= len(text):
            raise ExpressionError(
                f"Unterminated expression starting at position {start + 1} (missing '}}')",
                f"Ekspresi mulai posisi {start + 1} tidak ditutup (kurang '}}')",
                expression=source,
            )
        parts.append((True, text[start + 2 : i]))
        pos = i + 1
    if pos < len(text):
        parts.append((False, text[pos:]))
    return parts


def _next_opener(text: str, pos: int) -> int:
    found = [i for i in (text.find("${", pos), text.find("#{", pos)) if i >= 0]
    return min(found) if found else -1


def is_juel(text: str | None) -> bool:
    """True when Camunda would read the text as EL: a ``${...}``/``#{...}`` alone or in a template.

    Text without any ``${``/``#{`` is plain: a constant to Camunda, or the Python subset where
    an expression is expected. The caller decides which.
    """
    return isinstance(text, str) and _next_opener(text, 0) >= 0
