"""Loading the Lark grammars and parsing with them: the reference parsers of the formats.

The files in ``grammars/`` are the single source of truth. Each is lenient as written; the
canonical variant (for generating canonical text) is derived line by line:

* ``X  //canonical Y`` — the line ``X`` is replaced by ``Y`` (``X`` may be empty: a line
  that is only ``//canonical Y`` adds ``Y``);
* ``X  //lenient-only`` — the line is dropped.

Both variants are plain Lark (rules, literals, regex terminals, ``%ignore``) and LALR(1).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import lark
from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import LexerState, LexerThread
from lark.utils import TextSlice

from . import _lexical as lex
from .errors import HLXError, ParseError
from .model import CONTRACT_ID_MAX, FIELD_INDEX_MAX, MAX_DEPTH, Contract, Handle
from .registry import FORMAT_TITLES, FORMATS, get_format, normalize_format

LexicalError = lex.LexicalError  # what decode_token raises for a token that breaks a data-model rule

__all__ = [
    "FORMATS", "FORMAT_TITLES", "grammar_text", "normalize_format", "lark_parser", "parse_reference", "check_reference",
    "decode_token", "LexicalError", "error_at", "strip_bom", "text_input", "reference_error",
]  # fmt: skip


_SHARED_TERMINALS = "common.lark"
_IMPORT = re.compile(r"%import common \((?P<names>[A-Z_, ]+)\)\s*\Z")


@functools.cache
def _grammar_file_text(fmt: str) -> str:
    """A format's grammar file with each ``%import common (...)`` line replaced by the lines
    of ``common.lark`` that define those terminals: one self-contained text for Lark and
    llguidance alike."""
    text = _grammar_folder().joinpath(get_format(fmt).grammar_file).read_text("utf-8")
    lines = []
    for line in text.splitlines():
        imported = _IMPORT.match(line)
        if imported is None:
            lines.append(line)
            continue
        for name in (name.strip() for name in imported.group("names").split(",")):
            lines.append(_shared_terminals()[name])
    return "\n".join(lines) + "\n"


@functools.cache
def _shared_terminals() -> dict[str, str]:
    """``common.lark``'s terminal lines by name."""
    text = _grammar_folder().joinpath(_SHARED_TERMINALS).read_text("utf-8")
    return {line.split(":", 1)[0]: line for line in text.splitlines() if re.match(r"[A-Z_]+:", line)}


def _grammar_folder() -> Any:
    """The grammar files: the package data ``hlx_formats.grammars`` (installed from the
    repository's ``grammars/``), read through ``importlib.resources`` and nowhere else."""
    try:
        return resources.files("hlx_formats.grammars")
    except ModuleNotFoundError:
        raise HLXError(
            "the grammar files are missing: hlx_formats.grammars is not installed (install the package, e.g. pip install -e .)"
        ) from None


def grammar_text(fmt: str, canonical: bool = False) -> str:
    """The Lark grammar of a format, lenient (as in the file) or canonical."""
    return _grammar_variant(normalize_format(fmt), bool(canonical))


@functools.cache
def _grammar_variant(fmt: str, canonical: bool) -> str:
    text = _grammar_file_text(fmt)
    if not canonical:
        return text
    lines = []
    for line in text.splitlines():
        code, marker, replacement = line.partition("//canonical ")
        if marker and (not code.strip() or not code.lstrip().startswith("//")):
            lines.append(replacement.strip())
        elif line.rstrip().endswith("//lenient-only"):
            continue
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def lark_parser(fmt: str, canonical: bool = False) -> Lark:
    """The LALR parser of a format, built once per process and reused."""
    return _lark_parser(normalize_format(fmt), bool(canonical))


@functools.cache
def _lark_parser(fmt: str, canonical: bool) -> Lark:
    return Lark(
        grammar_text(fmt, canonical),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
    )


_HANDLE_PREFIX = {"hlxl": 3, "lc-t": 1, "lc-r": 1, "lc-b": 1}
_CONSTANTS = {"NULL": None, "TRUE": True, "FALSE": False}

# How tokens are named in error messages.
_TOKEN_NAMES = {
    "INT": "integer", "HEX": "hex integer", "FLOAT": "float", "STRING": "string",
    "BYTES": "bytes", "HANDLE": "handle", "NAME": "key", "QUOTED_KEY": "quoted key", "FIELD": "field",
    "CONTRACT": "contract start", "NULL": "null", "TRUE": "true", "FALSE": "false",
    "$END": "end of input",
}  # fmt: skip


def decode_token(token: Token, fmt: str) -> Any:
    kind = token.type
    text = token.value
    if kind in _CONSTANTS:
        return _CONSTANTS[kind]
    if kind == "INT":
        return lex.parse_hex_int(text) if "x" in text else lex.parse_int(text)
    if kind == "FLOAT":
        return lex.parse_float(text)
    if kind == "STRING":
        return lex.unquote_string(text)
    if kind == "HEX":
        return lex.parse_hex_int(text)
    if kind == "BYTES":
        return lex.unquote_bytes(text) if fmt == "hlxl" else lex.bytes_from_hex(text, 1)
    if kind == "HANDLE":
        return Handle(text[_HANDLE_PREFIX[fmt] :])
    raise lex.LexicalError(f"unexpected token {kind}")  # the grammars have no other value tokens


def _decode_key(token: Token, fmt: str) -> str:
    if token.type == "NAME":
        if token.value in get_format(fmt).reserved_keys:
            raise lex.LexicalError(f"the key {token.value!r} must be quoted in {FORMAT_TITLES[fmt]}")
        name: str = token.value
        return name
    return lex.unquote_string(token.value)


def error_at(fmt: str, text: str, offset: int, reason: str) -> ParseError:
    """A ParseError at ``offset`` of ``text``, with line, column and excerpt."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    return ParseError(fmt, reason, line=line, column=column, offset=offset, excerpt=excerpt(text, offset))


def excerpt(text: str, offset: int, width: int = 60) -> str:
    """The line of ``text`` around ``offset`` (at most ``width`` characters), caret below."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end < 0:
        line_end = len(text)
    start = max(line_start, offset - width // 2)
    end = min(line_end, start + width)
    shown = text[start:end].replace("\t", " ").replace("\r", " ")
    prefix = "..." if start > line_start else ""
    suffix = "..." if end < line_end else ""
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + offset - start)}^"


def _diagnose_quoted(text: str, start: int, fmt: str) -> tuple[int, str] | None:
    """Why the string or bytes literal starting at ``start`` did not match the grammar."""
    is_bytes = text.startswith('b"', start) and fmt == "hlxl"
    position = start + (2 if is_bytes else 1)
    what = "bytes literal" if is_bytes else "string"
    ascii_only = fmt in ("lc-t", "lc-b") or is_bytes
    escapes = '"\\nrt' if is_bytes else '"\\bfnrt'
    while position < len(text):
        char = text[position]
        if char == '"':
            return None
        if char == "\\":
            following = text[position + 1 : position + 2]
            if is_bytes and following == "x":
                digits = text[position + 2 : position + 4]
                if len(digits) == 2 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    position += 4
                    continue
                return position, "invalid \\x escape in bytes literal (expected two hex digits)"
            if not is_bytes and following == "u":
                digits = text[position + 2 : position + 6]
                if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    position += 6
                    continue
                return position, "invalid \\u escape in string (expected four hex digits)"
            if following and following in escapes:
                position += 2
                continue
            escape = "\\" + following
            return position, f"invalid escape {escape!r} in {what}"
        if ord(char) < 0x20 or char == "\x7f":
            return position, f"raw control character U+{ord(char):04X} in {what} (write it as an escape)"
        if ascii_only and not char.isascii():
            hint = "\\xHH escapes" if is_bytes else "\\uXXXX escapes"
            return position, f"non-ASCII character {char!r} in {what} (use {hint})"
        position += 1
    return start, f"unterminated {what}"


def _expected(parser: Lark, names: set[str] | frozenset[str]) -> str:
    shown = []
    for name in sorted(names):
        if name in _TOKEN_NAMES:
            shown.append(_TOKEN_NAMES[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
        except (KeyError, AttributeError):
            continue
        if isinstance(pattern, lark.lexer.PatternStr):
            shown.append(repr(pattern.value))
        elif not name.startswith("_"):
            shown.append(name.lower())
        else:
            shown.append(name.strip("_").lower().replace("_", " "))
    return ", ".join(sorted(set(shown)))


def _lark_error(fmt: str, text: str, parser: Lark, error: LarkError) -> ParseError:
    if isinstance(error, UnexpectedCharacters):
        offset: int = error.pos_in_stream  # type: ignore[assignment]  # lark declares it None on the base class; this subclass sets an int
        char = text[offset] if offset < len(text) else ""
        if char == '"' or (char == "b" and text.startswith('b"', offset)):
            diagnosis = _diagnose_quoted(text, offset, fmt)
            if diagnosis:
                return error_at(fmt, text, *diagnosis)
        reason = f"unexpected character {char!r}"
        if error.allowed:
            reason += f"; expected {_expected(parser, error.allowed)}"
        return error_at(fmt, text, offset, reason)
    if isinstance(error, UnexpectedToken):
        token = error.token
        if fmt == "hlxl" and token.type == "NAME" and text.startswith('b"', token.start_pos):
            diagnosis = _diagnose_quoted(text, token.start_pos, fmt)  # a bytes literal gone wrong
            if diagnosis:
                return error_at(fmt, text, *diagnosis)
        expected = _expected(parser, error.accepts or error.expected)
        if token.type == "$END":
            return error_at(fmt, text, len(text), f"unexpected end of input; expected {expected}")
        shown = token.value if len(token.value) <= 20 else token.value[:20] + "..."
        return error_at(fmt, text, token.start_pos, f"unexpected {shown!r}; expected {expected}")
    if isinstance(error, UnexpectedEOF):
        return error_at(fmt, text, len(text), "unexpected end of input")
    return error_at(fmt, text, 0, f"invalid input ({error})")


def parse_reference(fmt: str, text: str, canonical: bool = False) -> Any:
    """Parse ``text`` with the Lark grammar of ``fmt`` and build the value."""
    text = strip_bom(text)
    tree = _run_lark(fmt, text, lark_parser(fmt, canonical), build=True)
    return _build_value(tree.children[0], fmt, text)


def check_reference(fmt: str, text: str, resume: tuple[str, int] | None = None) -> None:
    """Raise the ParseError that the Lark grammar finds in ``text`` (syntax and nesting), if
    any, without building a tree: memory in the nesting depth, not in the input's length.

    ``resume``: ``(prefix, offset)`` -- Lark reads ``prefix`` (text that leaves its parser in
    the state it has at ``offset`` of ``text``, from ``hlx_formats._fast.resume_point``), then
    ``text`` from ``offset`` on; so only the part of ``text`` from ``offset`` is read, and
    every position is one of ``text``. (Without a byte-order mark: ``offset`` counts from
    the character after one.)"""
    text = strip_bom(text)
    _run_lark(fmt, text, lark_parser(fmt), build=False, resume=resume)


def reference_error(fmt: str, text: str, resume: tuple[str, int]) -> ParseError | None:
    """The data-model error (a number out of range, a reserved key, a bad escape...) that the
    reference builder finds in ``text``, reading it from ``resume`` (see
    :func:`check_reference`; the text has no syntax error from there): the first one from
    that offset on, as :func:`parse_reference` reports it when everything before the offset
    is valid. None when it finds none there, or only a repeated key or index (whose first
    occurrence may be before the offset, where the stand-ins are)."""
    text = strip_bom(text)
    tree = _run_lark(fmt, text, lark_parser(fmt), build=True, resume=resume)
    try:
        _build_value(tree.children[0], fmt, text)
    except ParseError as error:
        if error.offset >= resume[1] and not error.reason.startswith("duplicate "):
            return error
    return None


def strip_bom(text: str) -> str:
    """``text`` without one byte-order mark (U+FEFF) at its very start, as JSON tools read it;
    positions in errors count from the character after it."""
    return text[1:] if text.startswith("\ufeff") else text


def _discard(children: list[Any]) -> None:
    return None


#: How many times Lark read a whole text, went on from a resume point, or could not read a
#: resume point's prefix (never expected); tests/test_rejection.py counts them.
LARK_PASSES = {"whole": 0, "resumed": 0, "prefix failed": 0}


def _run_lark(fmt: str, text: str, parser: Lark, build: bool, resume: tuple[str, int] | None = None) -> Any:
    """Lark's parse of ``text``, token by token, so that nesting past MAX_DEPTH is reported at
    its first opener and the parse stops there (the rest of the input is never read).

    With ``resume`` (see :func:`check_reference`) Lark first reads its prefix, then ``text``
    from its offset; should the prefix not parse (it always does), Lark reads ``text`` whole."""
    interactive = parser.parse_interactive(text if resume is None else resume[0])
    state = interactive.parser_state
    if not build:  # every rule reduces to None: the value stack holds one item per open rule
        conf = copy.copy(state.parse_conf)
        conf.callbacks = dict.fromkeys(conf.callbacks, _discard)
        state.parse_conf = conf
    depth = _DepthCounter(fmt)
    token = None
    if resume is None:
        LARK_PASSES["whole"] += 1
    else:
        try:
            for token in interactive.lexer_thread.lex(state):  # type: ignore[no-untyped-call]  # lark does not annotate LexerThread.lex
                state.feed_token(token)
                depth.after(token)
        except LarkError:
            LARK_PASSES["prefix failed"] += 1
            return _run_lark(fmt, text, parser, build)
        LARK_PASSES["resumed"] += 1
        lexer = interactive.lexer_thread.lexer
        interactive.lexer_thread = LexerThread(lexer, LexerState(TextSlice(text, resume[1], len(text))))
    try:
        for token in interactive.lexer_thread.lex(state):  # type: ignore[no-untyped-call]  # lark does not annotate LexerThread.lex
            state.feed_token(token)
            if depth.after(token) > MAX_DEPTH:
                raise error_at(fmt, text, token.start_pos, f"nesting deeper than {MAX_DEPTH} levels")
        end = Token.new_borrow_pos("$END", "", token) if token is not None else Token("$END", "", 0, 1, 1)
        return state.feed_token(end, True)
    except LarkError as error:
        if isinstance(error, UnexpectedInput):
            error.interactive_parser = interactive  # as Lark's own parse loop does (for .accepts)
        raise _lark_error(fmt, text, parser, error) from None


# Per format: the tokens that open and close a nesting level.
_OPENERS = {
    "hlxl": frozenset({"LSQB", "LBRACE"}),
    "lc-t": frozenset({"LSQB", "LBRACE"}),
    "lc-r": frozenset({"_ARRAY_START", "_OBJECT_START", "CONTRACT"}),
    "lc-b": frozenset({"LSQB", "LBRACE"}),
}
_CLOSERS = {
    "hlxl": frozenset({"RSQB", "RBRACE"}),
    "lc-t": frozenset({"RSQB", "RBRACE"}),
    "lc-r": frozenset({"_ARRAY_END", "_OBJECT_END", "_CONTRACT_END"}),
    "lc-b": frozenset({"RSQB", "RBRACE"}),
}


class _DepthCounter:
    """The nesting depth after each token the parser has accepted.

    Two openers do not count: the inner ``{`` of an HLXL contract (``{7: {@0: 1}}``, after
    the id and its colon) and the frame ``[...]`` around an LC-B text that is not a contract.
    """

    __slots__ = ("openers", "closers", "fmt", "counted", "depth", "recent")

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.openers = _OPENERS[fmt]
        self.closers = _CLOSERS[fmt]
        self.counted: list[bool] = []  # per open opener: whether it is a level
        self.depth = 0
        self.recent: list[str] = []  # the types of the last tokens (HLXL: 3; LC-B: the first 3)

    def after(self, token: Token) -> int:
        kind = token.type
        recent = self.recent
        if self.fmt == "hlxl":
            counts = not (kind == "LBRACE" and recent[-2:] == ["ID", "_COLON"])
            recent.append(kind)
            if len(recent) > 3:
                del recent[0]
        elif self.fmt == "lc-b" and len(recent) < 3:
            counts = True
            recent.append(kind)
            if len(recent) == 3 and recent[0] == "LSQB" and recent[1:] != ["INT", "VBAR"]:
                self.counted[0] = False  # the first [ frames a value that is not a contract
                self.depth -= 1
        else:
            counts = True
        if kind in self.openers:
            self.counted.append(counts)
            self.depth += counts
        elif kind in self.closers and self.counted:
            self.depth -= self.counted.pop()
        return self.depth


_CONTAINERS = ("array", "object", "contract")


def _start(token: Token) -> int:
    """Where a token from the lexer starts (lark types start_pos as optional: a token built by
    hand may lack one, which no token of a parse tree does)."""
    assert token.start_pos is not None
    return token.start_pos


def _build_value(root: Tree[Token] | Token, fmt: str, text: str) -> Any:
    """Turn a parse tree into the value, without recursion, checking the depth limit."""

    def fail(offset: int, reason: str) -> ParseError:
        return error_at(fmt, text, offset, reason)

    def leaf(token: Token) -> Any:
        try:
            return decode_token(token, fmt)
        except lex.LexicalError as error:
            raise fail(_start(token) + error.offset, error.reason) from None
        except HLXError as error:  # a Handle whose name is not an identifier
            raise fail(_start(token), str(error)) from None

    if isinstance(root, Token):
        return leaf(root)

    # Each frame: [node, values of the children done so far, index of the next child, depth].
    result: list[Any] = []
    stack: list[list[Any]] = [[root, [], 0, 1 if root.data in _CONTAINERS else 0]]
    if stack[0][3] > MAX_DEPTH:
        raise fail(root.meta.start_pos, f"nesting deeper than {MAX_DEPTH} levels")
    assemble = _ASSEMBLERS
    while stack:
        frame = stack[-1]
        node, values, index, depth = frame
        children = node.children
        if index < len(children):
            frame[2] = index + 1
            child = children[index]
            if isinstance(child, Token):
                if node.data == "pair" and index == 0:
                    try:
                        values.append(_decode_key(child, fmt))
                    except lex.LexicalError as error:
                        raise fail(_start(child) + error.offset, error.reason) from None
                elif node.data in ("field", "contract") and index == 0:
                    maximum, what = (FIELD_INDEX_MAX, "field index") if node.data == "field" else (CONTRACT_ID_MAX, "contract id")
                    try:
                        values.append(lex.parse_index(child.value, maximum, what))
                    except lex.LexicalError as error:
                        raise fail(_start(child) + error.offset, error.reason) from None
                else:
                    values.append(leaf(child))
            else:
                child_depth = depth + 1 if child.data in _CONTAINERS else depth
                if child_depth > MAX_DEPTH:
                    raise fail(child.meta.start_pos, f"nesting deeper than {MAX_DEPTH} levels")
                stack.append([child, [], 0, child_depth])
            continue
        stack.pop()
        value = assemble[node.data](node, values, fail)
        (stack[-1][1] if stack else result).append(value)
    return result[0]


def _assemble_array(node: Tree[Token], values: list[Any], fail: Callable[..., ParseError]) -> list[Any]:
    return values


def _assemble_pair(node: Tree[Token], values: list[Any], fail: Callable[..., ParseError]) -> tuple[Any, ...]:
    return (values[0], values[1], node.children[0])


def _assemble_object(node: Tree[Token], values: list[Any], fail: Callable[..., ParseError]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value, key_token in values:
        if key in result:
            raise fail(key_token.start_pos, f"duplicate key {key!r}")
        result[key] = value
    return result


def _assemble_contract(node: Tree[Token], values: list[Any], fail: Callable[..., ParseError]) -> Contract:
    contract_id, fields = values[0], values[1:]
    seen: dict[int, Any] = {}
    for index, value, index_token in fields:
        if index in seen:
            raise fail(index_token.start_pos, f"duplicate field index {index}")
        seen[index] = value
    return Contract(contract_id, seen)


_ASSEMBLERS = {
    "array": _assemble_array,
    "object": _assemble_object,
    "pair": _assemble_pair,
    "field": _assemble_pair,
    "contract": _assemble_contract,
}


def text_input(data: Any, fmt: str) -> str:
    """The text to parse: a ``str`` as is, ``bytes`` decoded as UTF-8 (strictly)."""
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            good = raw[: error.start].decode("utf-8")
            raise error_at(fmt, good, len(good), f"invalid UTF-8 at byte {error.start}") from None
        return text
    raise HLXError(f"{FORMAT_TITLES[fmt]} input must be str or bytes, not {type(data).__name__}")
