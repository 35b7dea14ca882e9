"""The literals an answer may hold: those written in the instruction's value.

A translation between HLX notations keeps every scalar and key of the value and changes
only their spelling: an integer is decimal in HLXL, LC-T and LC-R and hex in LC-B, a string
is escaped to ASCII in LC-T and LC-B and raw in HLXL and LC-R, a byte string is ``b"..."`` in
HLXL and hex in the others, a handle ``&h_name`` in HLXL is ``@name``, ``⟁name`` or ``&name``
in the others, a key is bare or quoted by each format's own reserved words (a float is
spelled the same in all four). A small language model respells badly --
converting bases above all: a wrong integer was the only mistake of 16 of the shipped
coordinator's 41 wrong answers to its format tasks (docs/moe-results.md). So, with
``source_literals`` on (the mixture's default), the answer constraint allows an integer,
float, string, byte string or handle, and an object key, only from those written in the
instruction's value, each in the answer format's canonical spelling. Floats are held too
because, held to the integers alone, the model wrote an integer it wanted as a float
(``528.3`` for ``514``). The model still chooses which goes where, and everything else: the
structure, contract ids, field indices and ``null``/``true``/``false``. A kind of
literal the value holds none of cannot be written at all (a value without floats gives an
answer without floats), except keys: where the value holds no name and no string, keys are
free.

The literals are found lexically, not by parsing the value (which may not parse): strings,
byte strings, floats, handles and bare names by the source format's own ``STRING``,
``BYTES``, ``FLOAT``, ``HANDLE`` and ``NAME`` terminals (from ``grammars/``), scanned left
to right so that a string's insides are never read as anything else, and read as the
parser reads those tokens, and integers as every decimal or ``0x``
hex literal that is not glued to a word, a float, a hex byte string or an escape (digits
inside a string count too). Every string and name found may be a key. This errs on the side
of allowing more: every literal and key of every reference answer of the corpora is among
those of its instruction (tests/test_source_literals.py checks them all). An instruction
whose answer holds values its value does not (``Write an array of the numbers 1 to 5 in
LC-T``) has no value the router can read, so nothing is restricted.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from lark import Token

from hlx_formats import hlxl, lcb, lcr, lct
from hlx_formats._encoder import _key, encode
from hlx_formats._lexical import LexicalError
from hlx_formats.errors import HLXError
from hlx_formats.grammar import _decode_token, lark_parser
from hlx_formats.model import Handle

__all__ = ["SourceLiterals", "literals_in", "integers_in", "restrict_literals", "spelling", "key_spelling"]

# A decimal or hex integer literal, signed or not, that is not glued to a word, a number
# (".5", "5.", "1e+5"), a hex byte string ("#5912") or an escape ("\x41", "\u0041").
_INTEGER_LITERAL = re.compile(r"(?<![\w.+#\\])-?(?:0[xX][0-9a-fA-F]+|[0-9]+)(?![\w.])")
_SMALLEST, _LARGEST = -(2**63), 2**64 - 1  # the data model's integers
_FORMATS = ("hlxl", "lc-t", "lc-r", "lc-b")

# The terminal of each kind of value in each format's canonical grammar (ids and field
# indices have terminals of their own; a key is a bare NAME or a QUOTED_KEY).
_TERMINALS = {
    "integers": {"hlxl": "INT", "lc-t": "INT", "lc-r": "INT", "lc-b": "HEX"},
    "floats": dict.fromkeys(_FORMATS, "FLOAT"),
    "strings": dict.fromkeys(_FORMATS, "STRING"),
    "byte_strings": dict.fromkeys(_FORMATS, "BYTES"),
    "handles": dict.fromkeys(_FORMATS, "HANDLE"),
}
# The rule that lists a value's kinds in each canonical grammar, and the name each kind has there.
_VALUE_RULE = {"hlxl": "?value:", "lc-t": "?value:", "lc-r": "?value:", "lc-b": "?framed:"}
_VALUE_ALTERNATIVE = {"integers": "INT", "floats": "FLOAT", "strings": "STRING", "byte_strings": "BYTES", "handles": "HANDLE"}
_KEY_RULE = "?key:"
# How each format's encoder writes a value inside another (LC-B's text notation unframed).
_SPELLINGS = {"hlxl": hlxl.SPELLING, "lc-t": lct.SPELLING, "lc-r": lcr.SPELLING, "lc-b": lcb._TEXT}


@dataclass(frozen=True)
class SourceLiterals:
    """The integers, floats, strings, byte strings, handles (their names) and possible keys
    written in an instruction's value (``floats`` as their canonical spelling, the same in
    every format, so that ``0.0`` and ``-0.0`` stay two)."""

    integers: frozenset[int] = frozenset()
    strings: frozenset[str] = frozenset()
    byte_strings: frozenset[bytes] = frozenset()
    floats: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    handles: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return any((self.integers, self.strings, self.byte_strings, self.floats, self.keys, self.handles))


def integers_in(value_text: str) -> frozenset[int]:
    """The integers written in ``value_text``, in decimal or ``0x`` hex, within the data
    model's range (-2**63 .. 2**64-1)."""
    found = set()
    for match in _INTEGER_LITERAL.finditer(value_text):
        literal = match.group()
        number = int(literal, 16 if "x" in literal.lower() else 10)
        if _SMALLEST <= number <= _LARGEST:
            found.add(number)
    return frozenset(found)


_SCANNED = ("STRING", "BYTES", "FLOAT", "HANDLE", "NAME")  # in this order: b"..." is bytes, not the name b


@functools.cache
def _literal_token(source_format: str) -> re.Pattern[str]:
    """A regex matching a string, a byte string, a float, a handle or a bare name of
    ``source_format`` (lenient, as its grammar file writes them), in groups named after the
    terminals."""
    patterns = {terminal.name: terminal.pattern.to_regexp() for terminal in lark_parser(source_format).terminals}
    return re.compile("|".join(f"(?P<{name}>{patterns[name]})" for name in _SCANNED))


def literals_in(value_text: str, source_format: str) -> SourceLiterals:
    """The integers, floats, strings, byte strings, handles and possible keys (every string
    and bare name) written in ``value_text``, a value in ``source_format``. A token that is
    no value of the data model (a string with a lone surrogate, a byte string of odd hex
    digits, a float beyond a double's range) is left out."""
    found: dict[str, set[Any]] = {name: set() for name in _SCANNED}
    for match in _literal_token(source_format).finditer(value_text):
        kind, text = match.lastgroup, match.group()
        if kind == "NAME":
            found[kind].add(text)
            continue
        try:
            value = _decode_token(Token(kind, text), source_format)
        except LexicalError:
            continue
        found[kind].add(spelling(value, "hlxl") if kind == "FLOAT" else value.name if kind == "HANDLE" else value)
    return SourceLiterals(
        integers=integers_in(value_text),
        strings=frozenset(found["STRING"]),
        byte_strings=frozenset(found["BYTES"]),
        floats=frozenset(found["FLOAT"]),
        keys=frozenset(found["STRING"] | found["NAME"]),
        handles=frozenset(found["HANDLE"]),
    )


def spelling(value: int | float | str | bytes | Handle, fmt: str) -> str:
    """``value`` as the canonical grammar of ``fmt`` spells it inside a value."""
    return encode(value, _SPELLINGS[fmt])


def key_spelling(key: str, fmt: str) -> str:
    """``key`` as ``fmt`` writes an object key: bare, or quoted where it must be."""
    return _key(key, _SPELLINGS[fmt])


def _line(lines: list[str], fmt: str, start: str) -> int:
    """The index of the one line of the grammar that starts with ``start``."""
    found = [index for index, line in enumerate(lines) if line.startswith(start)]
    if len(found) != 1:  # the grammar file changed under this module
        raise HLXError(f"the canonical {fmt} grammar has {len(found)} lines starting {start!r}, expected 1")
    return found[0]


def _replace_terminal(lines: list[str], fmt: str, terminal: str, spellings: list[str]) -> None:
    index = _line(lines, fmt, terminal + ":")
    lines[index] = f"{terminal}: " + " | ".join(json.dumps(text, ensure_ascii=False) for text in sorted(spellings))


def _drop_alternative(lines: list[str], fmt: str, rule: str, name: str) -> None:
    """Take ``name`` out of the alternatives on the first line of ``rule``."""
    index = _line(lines, fmt, rule)
    alternatives = [alternative.strip() for alternative in lines[index][len(rule) :].split("|")]
    if name not in alternatives:
        raise HLXError(f"the canonical {fmt} grammar's {rule} line has no alternative {name}")
    lines[index] = f"{rule} " + " | ".join(alternative for alternative in alternatives if alternative != name)


def restrict_literals(grammar: str, fmt: str, literals: SourceLiterals) -> str:
    """``grammar`` (the canonical Lark grammar of ``fmt``) with the terminal of each kind of
    value replaced by the alternatives ``literals`` holds, spelled as ``fmt`` spells them, or
    taken out of the value's alternatives where it holds none; likewise the bare and the
    quoted keys, unless it holds no key at all."""
    lines = grammar.splitlines()
    for kind, terminals in _TERMINALS.items():
        values = getattr(literals, kind)
        if values:
            if kind == "floats":
                spellings = list(values)
            else:
                spellings = [spelling(Handle(value) if kind == "handles" else value, fmt) for value in values]
            _replace_terminal(lines, fmt, terminals[fmt], spellings)
        else:  # the answer holds none either
            alternative = "int" if (fmt, kind) == ("lc-b", "integers") else _VALUE_ALTERNATIVE[kind]
            _drop_alternative(lines, fmt, _VALUE_RULE[fmt], alternative)
    keys = {key_spelling(key, fmt) for key in literals.keys}
    if keys:
        quoted = [key for key in keys if key.startswith('"')]
        bare = [key for key in keys if not key.startswith('"')]
        for terminal, spellings in (("NAME", bare), ("QUOTED_KEY", quoted)):
            if spellings:
                _replace_terminal(lines, fmt, terminal, spellings)
            else:
                _drop_alternative(lines, fmt, _KEY_RULE, terminal)
    return "\n".join(lines) + "\n"
