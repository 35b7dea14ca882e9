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

from hlx_formats.errors import HLXError
from hlx_formats.formats import encode_key, encode_member
from hlx_formats.grammar import LexicalError, decode_token, lark_parser
from hlx_formats.model import Handle

__all__ = [
    "SourceLiterals",
    "LiteralOrder",
    "literals_in",
    "literals_in_order",
    "open_containers",
    "integers_in",
    "restrict_literals",
    "PartialScan",
    "departs_from",
    "spelling",
    "key_spelling",
]

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


def _integer(literal: str) -> int:
    """A decimal or ``0x`` hex integer literal's value."""
    return int(literal, 16 if "x" in literal.lower() else 10)


def integers_in(value_text: str) -> frozenset[int]:
    """The integers written in ``value_text``, in decimal or ``0x`` hex, within the data
    model's range (-2**63 .. 2**64-1)."""
    found = set()
    for match in _INTEGER_LITERAL.finditer(value_text):
        literal = match.group()
        number = _integer(literal)
        if _SMALLEST <= number <= _LARGEST:
            found.add(number)
    return frozenset(found)


_SCANNED = ("STRING", "BYTES", "FLOAT", "HANDLE", "NAME")  # in this order: b"..." is bytes, not the name b


@functools.cache
def _terminals(fmt: str) -> dict[str, str]:
    """The regex of each terminal of ``fmt``'s lenient grammar."""
    return {terminal.name: terminal.pattern.to_regexp() for terminal in lark_parser(fmt).terminals}


@functools.cache
def _literal_token(source_format: str) -> re.Pattern[str]:
    """A regex matching a string, a byte string, a float, a handle or a bare name of
    ``source_format`` (lenient, as its grammar file writes them), in groups named after the
    terminals."""
    patterns = _terminals(source_format)
    return re.compile("|".join(f"(?P<{name}>{patterns[name]})" for name in _SCANNED))


def literals_in(value_text: str, source_format: str) -> SourceLiterals:
    """The integers, floats, strings, byte strings, handles and possible keys (every string
    and bare name) written in ``value_text``, a value in ``source_format``. A token that is
    no value of the data model (a string with a lone surrogate, a byte string of odd hex
    digits, a float beyond a double's range) is left out."""
    found: dict[str, set[Any]] = {name: set() for name in _SCANNED}
    for match in _literal_token(source_format).finditer(value_text):
        kind, text = match.lastgroup, match.group()
        assert kind is not None  # every alternative of the pattern is a named group
        if kind == "NAME":
            found[kind].add(text)
            continue
        try:
            value = decode_token(Token(kind, text), source_format)
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
    return encode_member(value, fmt)


def key_spelling(key: str, fmt: str) -> str:
    """``key`` as ``fmt`` writes an object key: bare, or quoted where it must be."""
    return encode_key(key, fmt)


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


# --- the order of the literals ------------------------------------------------------------
#
# A translation keeps the value's scalars and keys in the order they are written: arrays are
# ordered, objects keep their keys as written, and only a contract's fields are sorted by index
# in canonical output. So, where the instruction's value writes every contract's fields in
# ascending order, the answer's literals, read left to right, are the value's, one for one.

# A literal of the value, as (kind, value): kind is "constant" (None, True, False), "integer",
# "float" (the value is its canonical spelling), "string", "bytes", "handle" (its name), "key",
# "id" (a contract's) or "field" (a field index). Contracts are not reordered, nor their fields
# where the value writes them in ascending order, so ids and indices keep their order too.
Literal = tuple[str, Any]

# A literal the text ends in the middle of: a string (or HLXL byte string) not closed yet, a
# number (or LC-B hex integer) that may go on, a handle's sigil.
_OPEN_STRING = r'"(?:[^"\\]|\\.)*\\?\Z'
_NUMBER_SO_FAR = r"-?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?\Z|-?0[xX][0-9a-fA-F]*\Z|-\Z"
_HANDLE_SO_FAR = {"hlxl": r"&(?:h_?)?\Z", "lc-t": r"@\Z", "lc-r": r"⟁\Z", "lc-b": r"&\Z"}
_KEY_FOLLOWS = re.compile(r"\s*:")
_ID_DIGITS = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|[0-9]+)")
_INDEX_FOLLOWS = re.compile(r"\s*=")
_OPENERS = ("LSQB", "LBRACE", "_ARRAY_START", "_OBJECT_START")
_CLOSERS = ("RSQB", "RBRACE", "_ARRAY_END", "_OBJECT_END", "_CONTRACT_END")


@functools.cache
def _constant_spellings(fmt: str) -> dict[Any, str]:
    """``null``, ``true`` and ``false`` as ``fmt`` spells them (its grammar's NULL, TRUE and FALSE)."""
    patterns = {terminal.name: terminal.pattern for terminal in lark_parser(fmt).terminals}
    return {None: patterns["NULL"].value, True: patterns["TRUE"].value, False: patterns["FALSE"].value}


def _contract_pieces(fmt: str) -> tuple[str, str]:
    """Regexes for a contract's start with its id (which opens a container) and for a field
    index or LC-T's contract mark (passed over), from the grammar's terminals where they are
    tokens of their own, and where they are told apart only by what surrounds them, by that."""
    terminals = _terminals(fmt)
    if fmt == "hlxl":  # "{14: {@0: ...": a key never starts with a digit
        return rf"\{{\s*(?:{terminals['ID']})", terminals["FIELD"]
    if fmt == "lc-t":  # "{C:14,0=...": the brace opens, "C:14" says it is a contract
        return r"(?!)", rf'(?<![\w"])C(?![\w"])(?:\s*:\s*(?:{terminals["ID"]})?)?'
    if fmt == "lc-r":
        return terminals["CONTRACT"], terminals["FIELD"]
    # "[14|0:...", or "[14" so far; "|0" so far
    return rf"\[\s*(?:{terminals['INT']})(?=\s*\|)|\[\s*[0-9]+\Z", rf"\|\s*(?:{terminals['INDEX']})?"


@functools.cache
def _order_scanner(fmt: str) -> re.Pattern[str]:
    """A regex that reads ``fmt`` text piece by piece: contract starts, marks, openers and
    closers, and each kind of literal (lenient, as the format's grammar file writes them)."""
    terminals = _terminals(fmt)
    contract, mark = _contract_pieces(fmt)
    constants = "|".join(re.escape(text) for text in _constant_spellings(fmt).values() if not text.isalpha() and text != "_")
    pieces = [
        ("contract", contract),
        ("mark", mark),
        ("open", "|".join(terminals[name] for name in _OPENERS if name in terminals)),
        ("close", "|".join(terminals[name] for name in _CLOSERS if name in terminals)),
        ("string", terminals["STRING"]),
        ("open_string", ("b?" if fmt == "hlxl" else "") + _OPEN_STRING),
        ("bytes", terminals["BYTES"]),
        ("number_so_far", _NUMBER_SO_FAR),
        ("float", terminals["FLOAT"] + r"(?![\w.])"),
        ("integer", terminals["INT"] + r"(?![\w.])"),
        ("handle", terminals["HANDLE"] + "|" + _HANDLE_SO_FAR[fmt]),
        ("constant", constants or r"(?!)"),  # the glyphs; words are read as words
        ("word", r"[A-Za-z_][A-Za-z0-9_]*"),
    ]
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in pieces))


@functools.cache
def _constant_words(fmt: str) -> dict[str, Any]:
    return {text: value for value, text in _constant_spellings(fmt).items()}


@dataclass
class _Scan:
    """What a :class:`PartialScan` read: each literal's text and whether the text may still
    go on with it, how many containers are open, whether the outermost one has closed,
    whether every contract's field indices rose, and whether a key or field index repeats."""

    literals: list[tuple[str, str, bool]]  # (kind, text, unfinished), after the first ``offset``
    depth: int = 0  # containers open at the end (an HLXL contract's two braces count two)
    closed: bool = False
    fields_in_order: bool = True
    balanced: bool = True
    repeated: bool = False  # a key or field index written twice in one object or contract
    offset: int = 0  # literals read before ``literals`` (committed by an incremental reader)
    departed: bool = False  # whether those left the expected order (see PartialScan)


class _Frame:
    """One open container: whether it is a contract, its last field index, and the keys (or
    field indices) already complete in it."""

    __slots__ = ("contract", "last_field", "seen", "base")

    def __init__(self, contract: bool = False, last_field: int = -1, seen: set[Any] | None = None) -> None:
        self.contract = contract
        self.last_field = last_field
        self.seen: set[Any] = seen if seen is not None else set()
        self.base: set[Any] = set()  # a committed frame's keys, read but never changed through this one

    def copy(self) -> _Frame:
        return _Frame(self.contract, self.last_field, set(self.seen))

    def overlay(self) -> _Frame:
        """A frame to change in place of this one: its additions apart, its keys shared."""
        frame = _Frame(self.contract, self.last_field)
        frame.base = self.seen
        return frame

    def has(self, key: Any) -> bool:
        return key in self.seen or key in self.base


class _Tail:
    """The containers a scan has open, as the pieces after its committed text change them,
    without changing the committed frames (so that a candidate token is judged at the cost
    of its own text): frames the tail opened, how many committed frames are still open, and
    the tail's changes to those."""

    def __init__(self, committed: list[_Frame]) -> None:
        self.committed = committed
        self.open_committed = len(committed)
        self.opened: list[_Frame] = []
        self.changed: dict[int, _Frame] = {}  # committed frame index -> its changed copy
        self.closed_any = False
        self.unbalanced = False
        self.fields_in_order = True
        self.repeated = False
        self.literals: list[tuple[str, str, bool]] = []

    @property
    def depth(self) -> int:
        return self.open_committed + len(self.opened)

    def top(self) -> _Frame | None:
        """The innermost open container, an overlay where it is a committed one (changes go there)."""
        if self.opened or not self.open_committed:
            return self.peek_top()
        index = self.open_committed - 1
        if index not in self.changed:
            self.changed[index] = self.committed[index].overlay()
        return self.changed[index]

    def peek_top(self) -> _Frame | None:
        """The innermost open container, to read."""
        if self.opened:
            return self.opened[-1]
        if not self.open_committed:
            return None
        index = self.open_committed - 1
        return self.changed.get(index, self.committed[index])

    def push(self, contract: bool) -> None:
        self.opened.append(_Frame(contract))

    def pop(self) -> bool:
        """Close the innermost container; False where none is open."""
        if self.opened:
            self.opened.pop()
        elif self.open_committed:
            self.open_committed -= 1
            self.changed.pop(self.open_committed, None)
        else:
            return False
        return True

    def complete(self, key: Any) -> None:
        """A key or field index whose separator is written: a repeat where its container has it."""
        frame = self.top()
        if frame is None:
            return
        if frame.has(key):
            self.repeated = True
        frame.seen.add(key)

    def apply(self) -> list[_Frame]:
        """The committed frames with the tail's changes made to them (the committed scan's own)."""
        stack = self.committed
        for index, frame in self.changed.items():
            committed = stack[index]
            committed.contract, committed.last_field = frame.contract, frame.last_field
            committed.seen |= frame.seen
        del stack[self.open_committed :]
        stack.extend(self.opened)
        return stack


class PartialScan:
    """A value in ``fmt`` read piece by piece as an answer is written: its literals (contract
    ids and field indices among them) in order, the containers open, and keys or field
    indices written twice (a key counts once the separator after it is written).

    :meth:`feed` commits text; :meth:`peek` reads the text so far plus more without
    committing it, and returns the literals after the committed ones. Both cost the length
    of the new text plus the few characters not yet committed (the last two pieces, whose
    kind more text may change), not the length of the whole value, so that a decoder can
    judge every candidate token of every step. With ``expected`` (a :class:`LiteralOrder`
    spelled in ``fmt``), committed literals are compared with it as they are committed.
    Punctuation is passed over; text that is not in the format is read as far as it goes.
    """

    _CONTEXT = 16  # characters kept before the uncommitted text, for look-behinds

    def __init__(self, fmt: str, expected: tuple[str, ...] | None = None) -> None:
        self.fmt = fmt
        self.expected = expected
        self.departed = False  # a committed literal is not the expected one
        self._pattern = _order_scanner(fmt)
        self._constants = _constant_words(fmt)
        self.stack: list[_Frame] = []
        self.literals: list[tuple[str, str, bool]] = []  # committed
        self.closed = False
        self.fields_in_order = True
        self.balanced = True
        self.repeated = False
        self._context = ""  # up to _CONTEXT characters before _pending
        self._before = ""  # the last non-space character before _context
        self._pending = ""  # text read but not committed

    def copy(self) -> PartialScan:
        twin = object.__new__(PartialScan)
        twin.__dict__.update(self.__dict__)
        twin.stack = [frame.copy() for frame in self.stack]
        twin.literals = list(self.literals)
        return twin

    def feed(self, text: str) -> None:
        """Read ``text`` after what was read, committing all but its last two pieces."""
        window = self._context + self._pending + text
        start = len(self._context)
        matches = list(self._pattern.finditer(window, start))
        if len(matches) <= 2:
            self._pending = window[start:]
            return
        cut = matches[-2].start()
        tail = self._read(window, matches[:-2])
        self.stack = tail.apply()
        if self.expected is not None and not self.departed:
            for position, (_, written, _) in enumerate(tail.literals, start=len(self.literals)):
                if position >= len(self.expected) or written != self.expected[position]:
                    self.departed = True
                    break
        self.literals += tail.literals
        self.closed = self.closed or tail.closed_any
        self.fields_in_order = self.fields_in_order and tail.fields_in_order
        self.balanced = self.balanced and not tail.unbalanced
        self.repeated = self.repeated or tail.repeated
        context_start = max(0, cut - self._CONTEXT)
        skipped = window[:context_start].rstrip()
        if skipped:
            self._before = skipped[-1]
        self._context, self._pending = window[context_start:cut], window[cut:]

    def peek(self, text: str = "") -> _Scan:
        """What the text read so far plus ``text`` holds, ``text`` not committed: the
        literals after the committed ones (``offset`` of them)."""
        window = self._context + self._pending + text
        tail = self._read(window, list(self._pattern.finditer(window, len(self._context))))
        return _Scan(
            tail.literals,
            depth=tail.depth,
            closed=self.closed or tail.closed_any,
            fields_in_order=self.fields_in_order and tail.fields_in_order,
            balanced=self.balanced and not tail.unbalanced and not tail.depth,
            repeated=self.repeated or tail.repeated,
            offset=len(self.literals),
            departed=self.departed,
        )

    def _read(self, window: str, matches: list[re.Match[str]]) -> _Tail:
        tail = _Tail(self.stack)
        for match in matches:
            self._piece(window, match, tail)
        return tail

    def _piece(self, text: str, match: re.Match[str], tail: _Tail) -> None:
        kind, piece = match.lastgroup, match.group()
        assert kind is not None  # every alternative of the pattern is a named group
        at_end = match.end() == len(text)
        fmt = self.fmt
        if kind == "contract":
            tail.push(True)
            _number("id", piece, at_end, tail)
        elif kind == "open":
            tail.push(False)
        elif kind == "close":
            if not tail.pop():
                tail.unbalanced = True
                return
            tail.closed_any = tail.closed_any or not tail.depth
        elif kind == "mark":
            if fmt == "lc-t":  # "C:14": the object just opened is a contract
                frame = tail.top()
                if frame is not None:
                    frame.contract = True
                _number("id", piece, at_end, tail)
                return
            _field_index(piece, at_end, tail)
        elif fmt == "lc-t" and kind in ("integer", "number_so_far") and self._is_lct_index(text, match, tail):
            _field_index(piece, at_end, tail)
        elif kind == "word":
            if _KEY_FOLLOWS.match(text, match.end()):
                tail.literals.append(("key", piece, False))
                tail.complete(("key", piece))
            elif piece in self._constants or at_end:
                tail.literals.append(("constant", piece, at_end))
        else:
            if kind == "string" and _KEY_FOLLOWS.match(text, match.end()):
                kind = "key"
                tail.complete(("key", _key_value(piece, fmt)))
            unfinished = at_end or kind in ("open_string", "number_so_far")
            tail.literals.append((kind, piece, unfinished))

    def _is_lct_index(self, text: str, match: re.Match[str], tail: _Tail) -> bool:
        """Whether the digits ``match`` found in LC-T text are a field index: ``0=`` in a
        contract, or digits at the end of the text after a contract's comma."""
        if _INDEX_FOLLOWS.match(text, match.end()):
            return True
        if match.end() != len(text):
            return False
        frame = tail.peek_top()
        if frame is None or not frame.contract:
            return False
        before = text[: match.start()].rstrip() or self._before
        return before.endswith(",")


def _key_value(piece: str, fmt: str) -> Any:
    """A quoted key's value (so that a key spelled two ways is one key); its text where it
    does not read."""
    try:
        return decode_token(Token("STRING", piece), fmt)
    except (LexicalError, ValueError):
        return piece


def _scan(text: str, fmt: str) -> _Scan:
    """The literals of ``text`` (a value in ``fmt``, or its beginning) in order, contract ids
    and field indices among them; punctuation is passed over."""
    return PartialScan(fmt).peek(text)


def _number(kind: str, piece: str, at_end: bool, tail: _Tail) -> int | None:
    """Record the contract id or field index written in ``piece`` (``{14``, ``@0``,
    ``|0x0e``, ``C:14``) as a literal of ``kind`` (its digits), and return it; None where the
    piece has no digits yet."""
    digits = _ID_DIGITS.search(piece)
    if digits is None:
        return None
    tail.literals.append((kind, digits.group(), at_end))
    return _integer(digits.group())


def _field_index(piece: str, at_end: bool, tail: _Tail) -> None:
    """Record a field index of the innermost contract; a field not above the one before it
    means the canonical answer will sort them (so the order of the literals changes). Once
    text follows it (its separator), it is complete: a repeat where the contract has it."""
    index = _number("field", piece, at_end, tail)
    frame = tail.top()
    if index is None or frame is None:
        return
    if index <= frame.last_field:
        tail.fields_in_order = False
    frame.last_field = index
    if not at_end:
        tail.complete(("field", index))


@dataclass(frozen=True)
class LiteralOrder:
    """The scalars, keys, contract ids and field indices of an instruction's value, in the
    order the value writes them:
    an answer in any format holds the same ones, in the same order (:func:`literals_in_order`)."""

    literals: tuple[Literal, ...]

    def spelled(self, fmt: str) -> tuple[str, ...]:
        """Each literal as the canonical ``fmt`` spells it (a key as a key)."""
        return _spelled(self, fmt)

    def departs(self, text: str, fmt: str, *, complete: bool = False) -> bool:
        """Whether ``text``, the beginning of an answer's value in ``fmt`` (or the whole of
        it, with ``complete``), already departs from this order: a literal that is not the
        next one, one too many, or the outermost container closed (or the answer complete)
        before the last literal."""
        # A token may end in the middle of a character's UTF-8 bytes, which decode to U+FFFD:
        # the text is judged on what comes before them.
        return self.departs_scan(_scan(text if complete else text.rstrip("\ufffd"), fmt), fmt, complete=complete)

    def departs_scan(self, scan: _Scan, fmt: str, *, complete: bool = False) -> bool:
        """:meth:`departs` for what a :class:`PartialScan` read (a decoder's incremental reader)."""
        return departs_from(self.spelled(fmt), scan, complete=complete)


def departs_from(expected: tuple[str, ...], scan: _Scan, *, complete: bool = False) -> bool:
    """Whether what ``scan`` read departs from the literals ``expected`` (a :class:`LiteralOrder`
    spelled in the scan's format), as :meth:`LiteralOrder.departs` tells."""
    total = scan.offset + len(scan.literals)
    if scan.departed or total > len(expected):
        return True
    for position, (_, written, unfinished) in enumerate(scan.literals, start=scan.offset):
        if unfinished and not complete:
            if not expected[position].startswith(written):
                return True
        elif written != expected[position]:
            return True
    return (scan.closed or complete) and total < len(expected)


@functools.lru_cache(maxsize=256)
def _spelled(order: LiteralOrder, fmt: str) -> tuple[str, ...]:
    spelled = []
    for kind, value in order.literals:
        if kind == "constant":
            spelled.append(_constant_spellings(fmt)[value])
        elif kind == "key":
            spelled.append(key_spelling(value, fmt))
        elif kind in ("float", "id", "field"):
            spelled.append(str(value))  # a float's value is its spelling; ids and indices are decimal everywhere
        else:
            spelled.append(spelling(Handle(value) if kind == "handle" else value, fmt))
    return tuple(spelled)


_TOKEN_KINDS = {"string": "STRING", "key": "STRING", "bytes": "BYTES", "float": "FLOAT", "handle": "HANDLE"}


def open_containers(text: str, fmt: str) -> int:
    """How many containers ``text``, the beginning of a value in ``fmt``, leaves open (an HLXL
    contract's two braces count two)."""
    return _scan(text, fmt).depth


def literals_in_order(value_text: str, source_format: str) -> LiteralOrder | None:
    """The scalars, keys, contract ids and field indices of ``value_text`` (a value in
    ``source_format``) in the order it writes them, read lexically as :func:`literals_in` reads them; None where the order of an
    answer's literals may differ or cannot be told: a contract whose fields are not written
    in ascending index order (canonical output sorts them), unbalanced brackets, a literal
    left open, or one that is no value of the data model."""
    scan = _scan(value_text, source_format)
    if not (scan.fields_in_order and scan.balanced):
        return None
    literals: list[Literal] = []
    for kind, text, _ in scan.literals:
        if kind == "open_string":
            return None  # a string left open
        if kind == "number_so_far":  # a number the value ends with, or one cut short
            kind = (
                "float" if re.fullmatch(_terminals(source_format)["FLOAT"], text) else "integer" if _INTEGER_LITERAL.fullmatch(text) else ""
            )
            if not kind:
                return None
        try:
            literals.append(_literal_value(kind, text, source_format))
        except (LexicalError, ValueError):
            return None
    return LiteralOrder(tuple(literals))


def _literal_value(kind: str, text: str, fmt: str) -> Literal:
    if kind == "constant":
        return ("constant", _constant_words(fmt)[text])
    if kind == "key" and not text.startswith('"'):
        return ("key", text)
    if kind in ("id", "field"):
        return (kind, _integer(text))
    if kind == "integer":
        number = _integer(text)
        if not _SMALLEST <= number <= _LARGEST:
            raise ValueError(text)
        return ("integer", number)
    value = decode_token(Token(_TOKEN_KINDS[kind], text), fmt)
    if kind == "float":
        return ("float", spelling(value, "hlxl"))
    return (kind, value.name if kind == "handle" else value)
