"""Shared parts of the fast decoders (one per format, beside each format's Lark parser).

A fast decoder reads valid input quickly and gives up on anything else by raising
:class:`Reject`; the reference (the Lark parser and its tree builder) then says what is wrong
(the ParseError, with its position and message). So a fast decoder never decides what an
error says, and the differential tests hold it to the reference on every input.

Where it gave up is not wasted: each container the failure passes through adds a
:class:`Frame` to the Reject (its place in the text and how many items it had read), so the
reference need not re-read everything before it. :func:`resume_point` turns the frames into a
few characters that bring Lark's LALR parser into the state it has at that place (each open
container's real opening text, and one or two stand-in items spelt by the format's encoder
where items were already read) and the offset in the real text where Lark goes on. Lark then
reports the error itself, from its own parse table, at a real offset; nothing here knows
what the grammar expects (issue 29: a rejection costs what reading up to the error costs).

A token that the grammar reads but the data model refuses (a number out of range, a reserved
key, a repeated key...) is not a syntax error: the reference reports the first such token
only when the whole text is valid syntax. So :func:`decode_text` runs the fast decoder in its
checking mode (``parse(text, checking=True)``): it reads past such a token, notes the first
(:meth:`FastParser.refuse`; a repeat counts where its container closes, as the reference
counts it), and goes on to the end. A syntax error after it is Lark's to report, from where
the decoder gave up; when there is none, :func:`noted_error` has the reference's own builder
word the noted token's error (no Lark pass at all). Either way a rejection costs at most one
fast read of the whole text, and a syntax error a few Lark tokens more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast

from . import _accelerated
from . import _lexical as lex
from ._accelerated import FORMAT_CODES, NOT_DECODED
from ._encoder import Spelling, encode, key_text
from .errors import ParseError
from .model import CONTRACT_ID_MAX, FIELD_INDEX_MAX, INT_MAX, INT_MIN, MAX_DEPTH, Contract, Handle

__all__ = [
    "Reject",
    "Invalid",
    "Refused",
    "Note",
    "noted_error",
    "Frame",
    "framed",
    "contract_frame",
    "resume_point",
    "Repeated",
    "TooDeep",
    "check_depth",
    "FastParser",
    "decode_text",
    "index_value",
    "new_field_index",
    "repeats_in_prefix",
    "skip_whitespace",
]


class Reject(Exception):
    """The fast decoder does not accept this input (the reference parser will say why).

    ``frames``: the containers open where it gave up, innermost first (see :class:`Frame`);
    ``top``: where the top-level value starts; ``after_top``: the Lark prefix and offset to
    go on from when the top-level value was whole and something follows it.
    """

    frames: ClassVar[list[Frame]] = []  # an instance that passed through a container has its own
    top = 0
    after_top: tuple[str, int] | None = None
    notes: Sequence[Note] = ()  # a checking scan's notes (FastParser.refuse) before it gave up


#: A token of the text that the data model refuses, as a checking scan notes it (see
#: :meth:`FastParser.refuse`): what it is (``"value"``, ``"key"``, ``"contract id"``,
#: ``"field index"``, ``"duplicate key"``, ``"duplicate field index"``), the grammar's terminal
#: (``"INT"``, ``"FLOAT"``, ``"STRING"``, ``"BYTES"``, ``"NAME"``; any for an id or index), and
#: where the token starts and ends.
Note = tuple[str, str, int, int]


class Invalid(Reject):
    """A token the grammar reads whole, but the data model refuses: no syntax error (yet).

    ``notes``: from a checking scan that read the whole text, the refused tokens it noted
    (the first is the reference's error); empty from a strict scan, which stops at the first.
    """


class Frame:
    """A container open where the fast decoder gave up.

    ``kind``: ``"array"``, ``"object"``, ``"contract"`` or ``"frame"`` (the brackets around
    an LC-B text); ``content``: where its items begin (after the opener, a contract's id);
    ``count``: the items read whole; ``start``: where the item it was reading begins (or,
    ``end`` set, the last whole item, which ends at ``end`` with the value ``last``);
    ``value_start``: where that item's value begins (after a key and its colon).
    """

    __slots__ = ("kind", "content", "count", "start", "value_start", "end", "last", "owner")

    def __init__(
        self, kind: str, content: int, count: int, start: int, value_start: int, end: int | None, last: Any, owner: object
    ) -> None:
        self.kind, self.content, self.count, self.start, self.value_start = kind, content, count, start, value_start
        self.end, self.last, self.owner = end, last, owner


def framed(error: BaseException, frame: Frame) -> Reject:
    """``error`` (a Reject, or what gave up, as a Reject) with ``frame`` added, unless this
    container's frame is there already (its inner handler put it)."""
    reject = error if isinstance(error, Reject) else Reject()
    frames = reject.__dict__.setdefault("frames", [])
    if not frames or frames[-1].owner is not frame.owner:
        frames.append(frame)
    return reject


def contract_frame(content: int, fields: list[Any], start: int, pos: int, *, in_field: bool) -> Frame:
    """The frame of a contract given up at ``pos``: before a field or in its index
    (``in_field``), or after its last whole field, which began at ``start``."""
    if in_field:
        return Frame("contract", content, len(fields), pos, pos, None, None, fields)
    return Frame("contract", content, len(fields), start, start, pos, fields[-1][1], fields)


class TooDeep(Reject):
    """An opener past MAX_DEPTH, at ``offset``: the reference parser reports exactly this
    (it stops at the first such opener), so the fast path raises its ParseError itself."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def resume_point(parser: type[FastParser], text: str, reject: Reject) -> tuple[str, int]:
    """Where Lark goes on after the fast decoder gave up with ``reject`` on ``text`` (no
    byte-order mark): a prefix that leaves Lark's parser in the state it has at an offset of
    ``text``, and that offset. Lark reads the prefix, then ``text`` from the offset on.

    Each open container, outermost first, gives its real opening text (up to its items) and
    stand-ins for the items it had read whole (one or two: LALR state after one item and
    after several differ), then the real text of the item it was reading up to its value.
    The innermost one gives where its item begins (the item is read again, a scalar is one
    token) or, when it had read an item whole and failed after it, a stand-in of that item
    and the offset where it ends.
    """
    if reject.after_top is not None:
        return reject.after_top
    frames = reject.frames
    if not frames:
        return "", reject.top
    stand = parser(text)
    parts: list[str] = []
    opener = reject.top
    for frame in reversed(frames[1:]):
        parts += (text[opener : frame.content], stand.stand_in_items(frame.kind, frame.count, True), text[frame.start : frame.value_start])
        opener = frame.value_start
    inner = frames[0]
    parts.append(text[opener : inner.content])
    if inner.end is None:
        parts.append(stand.stand_in_items(inner.kind, inner.count, True))
        return "".join(parts), inner.start
    parts.append(stand.stand_in_items(inner.kind, inner.count - 1, True))
    if type(inner.last) in _CONTAINERS:
        parts += (stand.stand_in_head(inner.kind, inner.count - 1), stand.stand_in(inner.last))
        return "".join(parts), inner.end
    return "".join(parts), inner.start


def check_depth(depth: int, offset: int) -> None:
    """TooDeep if a container opened at ``offset`` inside ``depth`` levels is one too many."""
    if depth >= MAX_DEPTH:
        raise TooDeep(offset)


class Refused(Invalid):
    """A checking scan read the whole text: no syntax error, but the tokens in ``notes``."""


class Repeated(Invalid):
    """A key or field index repeats. Raised as soon as the repeat's separator is read, so the
    beginning of a text shows it (constrained decoding steers away from it that way)."""


_compiled_decode = _accelerated.decode_text
_WS = re.compile(r"[ \t\r\n]*")
# Patterns ending in * match at every position: their match() is typed as never returning None.
_WS_MATCH = cast("Callable[[str, int], re.Match[str]]", _WS.match)
_WS_CHARS = frozenset(" \t\r\n")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"-?[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX = re.compile(r"[0-9a-fA-F]*")
_HEX_MATCH = cast("Callable[[str, int], re.Match[str]]", _HEX.match)
_PLAIN_STRING = re.compile(r'"([^"\\\x00-\x1f\x7f]*)"')
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f\x7f]|\\["\\bfnrt]|\\u[0-9a-fA-F]{4})*"')
_PLAIN_ASCII_STRING = re.compile(r'"([ !#-\[\]-~]*)"')
_ASCII_STRING = re.compile(r'"(?:[ !#-\[\]-~]|\\["\\bfnrt]|\\u[0-9a-fA-F]{4})*"')
_SURROGATE = re.compile("[\ud800-\udfff]")
# A small value of each container kind, for the stand-ins of resume_point.
_CONTAINERS: dict[type, Any] = {list: [], dict: {}, Contract: Contract(0, {0: None})}


def index_value(digits: str, maximum: int) -> int:
    """A contract id or field index from its digits: no sign, no leading zero, in range
    (Invalid if not: the grammar reads any digits there; hex digits the same)."""
    if digits[0] == "-" or (len(digits) > 1 and digits[0] == "0") or len(digits) > 5:
        raise Invalid
    value = int(digits)
    if value > maximum:
        raise Invalid
    return value


def skip_whitespace(text: str, pos: int) -> int:
    """``pos`` moved past any whitespace."""
    return _WS_MATCH(text, pos).end() if text[pos] in _WS_CHARS else pos


def decode_text(parser: type[FastParser], fmt: str, text: str, strict_reference: bool) -> Any:
    """The value of ``text``: the fast decoder's when it accepts the text, else the Lark
    reference parser's error (nesting past MAX_DEPTH and the data model's errors are worded
    by the reference's code, at the place the fast decoder found).

    The fast decoder reads in its checking mode: past a token the data model refuses, to the
    end of the text or to its first syntax error. A syntax error: Lark starts where the fast
    decoder gave up (:func:`resume_point`), without a tree, and reports it (a few tokens of
    Lark, not a pass over everything before it). No syntax error: the first noted token is the
    error (:func:`noted_error`, no Lark pass). Should Lark read on to the end without a syntax
    error (a token the fast decoder refuses but does not note, never expected), the reference
    builds the tree from the same place; only what it does not find there (a repeat, or no
    error) makes it parse the whole text.

    Before all that, the compiled decoder reads the text where it is installed; it gives up
    on anything it is not sure of (every error among them), and the above does the rest.
    """
    if not strict_reference and _compiled_decode is not None:
        value = _compiled_decode(text, FORMAT_CODES[fmt])
        if value is not NOT_DECODED:
            return value
    from .grammar import check_reference, error_at, parse_reference, reference_error, strip_bom

    if not strict_reference:
        body = strip_bom(text)
        resume: tuple[str, int] | None = None
        try:
            return parser.parse(text, checking=True)
        except TooDeep as too_deep:
            raise error_at(fmt, body, too_deep.offset, f"nesting deeper than {MAX_DEPTH} levels") from None
        except Refused as refused:  # read to the end: no syntax error, only refused tokens
            notes = refused.notes
        except Reject as reject:
            notes = reject.notes
            resume = resume_point(parser, body, reject)
        except Exception:  # noqa: BLE001 - anything the fast path does not take, the reference judges
            notes = ()
        if resume is not None:  # out of the handler: what the fast decoder read is freed
            check_reference(fmt, text, resume)  # a syntax error costs no tree
        if notes:
            found = noted_error(fmt, body, notes[0])
            if found is not None:
                raise found
        elif resume is not None:
            found = reference_error(fmt, text, resume)
            if found is not None:
                raise found
    return parse_reference(fmt, text)


def noted_error(fmt: str, text: str, note: Note) -> ParseError | None:
    """The reference's ParseError for the refused token a checking scan noted in ``text``
    (no byte-order mark), when the text has no syntax error: the reference's tree builder
    reads a small tree that holds the token (in a pair, a field or a contract, twice for a
    repeat) at its place in ``text``, so the message and position are its own. None when the
    builder finds nothing wrong there (never expected: the reference then judges)."""
    from lark import Token, Tree

    from .grammar import _build_value

    what, terminal, start, end = note
    token = Token(terminal, text[start:end], start_pos=start)
    null = Token("NULL", "")
    root: Tree[Token] | Token
    if what == "value":
        root = token
    elif what in ("key", "duplicate key"):
        root = Tree("object", [Tree("pair", [token, null])] * (2 if what == "duplicate key" else 1))
    elif what == "contract id":
        root = Tree("contract", [token, Tree("field", [Token("FIELD", "0", start_pos=start), null])])
    else:
        fields = [Tree("field", [token, null])] * (2 if what == "duplicate field index" else 1)
        root = Tree("contract", [Token("ID", "0", start_pos=start), *fields])
    try:
        _build_value(root, fmt, text)
    except ParseError as error:
        if start <= error.offset <= end:
            return error
    return None


def repeats_in_prefix(parse: Callable[[str], Any], text: str) -> bool:
    """Whether ``text``, the beginning of a text in the format of ``parse`` (a fast parser's
    ``parse``), already repeats a key or a field index (a key counts once the separator after
    it is written)."""
    try:
        parse(text)
    except Repeated:
        return True
    except Exception:  # noqa: BLE001 - the text ends early (or is not the format): no repeat seen
        return False
    return False


def new_field_index(digits: str, seen: set[int]) -> int:
    """A field index from its digits (no sign, no leading zero, 0..255), recorded in ``seen``;
    :class:`Repeated` if it is there already (a strict scan's :meth:`FastParser.new_field`)."""
    index = index_value(digits, FIELD_INDEX_MAX)
    if index in seen:
        raise Repeated
    seen.add(index)
    return index


class FastParser:
    """Recursive descent over a ``str``; subclasses supply ``value`` for their format."""

    ascii_strings = False
    reserved_keys: frozenset[str] = frozenset()
    #: Reserved keys that, first in an object, the grammar reads as a contract's opening
    #: (LC-T's ``{C:``): there, without the rest of a contract, a syntax error.
    contract_keys: frozenset[str] = frozenset()
    #: Whether the grammar reads a sign before a field index (an invalid one), or stops there.
    signed_fields = True
    #: How many characters of a field index's token come before its digits (``@`` in HLXL).
    field_prefix = 0
    spelling: Spelling  # the format's encoder table: it spells the stand-ins of resume_point

    __slots__ = ("text", "pos", "found", "pending")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.found: list[Note] | None = None  # a checking scan's notes (None: a strict scan)
        self.pending: dict[int, Note] = {}  # per open container (by id): its first repeat

    @classmethod
    def parse(cls, text: str, checking: bool = False) -> Any:
        """The value of ``text``, or Reject. ``checking``: read past tokens the data model
        refuses, to the end (Invalid, with its notes) or to a syntax error (Reject, with the
        notes before it); a strict scan stops at the first (Invalid, no notes)."""
        if text.startswith("\ufeff"):  # a byte-order mark, read as the reference reads it
            text = text[1:]
        parser = cls(text)
        if checking:
            parser.found = []
        parser.skip()
        top = parser.pos
        try:
            value = parser.top()
        except Exception as error:  # noqa: BLE001 - whatever gave up, as a Reject that says where
            reject = error if isinstance(error, Reject) else Reject()
            reject.top = top
            reject.notes = parser.found or ()
            raise reject from None
        end = parser.pos
        parser.skip()
        if parser.pos != len(text):
            reject = Reject()
            reject.top = top
            reject.after_top = parser.after_top(value, top, end)
            reject.notes = parser.found or ()
            raise reject
        if parser.found:
            refused = Refused()
            refused.top = top
            refused.notes = parser.found
            raise refused
        return value

    # --- tokens the data model refuses -----------------------------------------------

    def refuse(self, what: str, terminal: str, start: int, end: int) -> None:
        """The token ``text[start:end]`` (the grammar's ``terminal``) is ``what`` the data
        model refuses: Invalid in a strict scan; a checking scan notes it (the first only: the
        reference reports the first it finds, in the order it finds them) and reads on."""
        found = self.found
        if found is None:
            raise Invalid
        if not found:
            found.append((what, terminal, start, end))

    def repeated(self, container: object, what: str, terminal: str, start: int, end: int) -> None:
        """A key or field index of ``container`` (its dict, or its set of indices) that it
        has already: Repeated in a strict scan. A checking scan notes the first of each
        container when it closes (:meth:`closed`), where the reference finds it."""
        if self.found is None:
            raise Repeated
        self.pending.setdefault(id(container), (what, terminal, start, end))

    def closed(self, container: object) -> None:
        """``container`` closes: its first repeat, if any, is noted now."""
        note = self.pending.pop(id(container), None)
        if note is not None:
            self.refuse(*note)

    def reserved_key(self, key: str, start: int, end: int, first: bool) -> None:
        """A bare key the format reserves, at ``start``..``end``; ``first`` in its object."""
        if first and key in self.contract_keys:
            raise Reject  # the grammar reads a contract's opening: a syntax error
        self.refuse("key", "NAME", start, end)

    def index_at(self, digits: str, maximum: int, what: str, start: int, end: int) -> int:
        """A contract id or field index (``what``) from its digits, whose token is
        ``text[start:end]``: refused when out of range, signed or with a leading zero."""
        try:
            return index_value(digits, maximum)
        except Invalid:
            self.refuse(what, "INT", start, end)
            return 0

    def new_field(self, match: re.Match[str], seen: set[int]) -> int:
        """The field index of ``match`` (its digits in group 1), recorded in ``seen``;
        refused when invalid, :meth:`repeated` when ``seen`` has it."""
        digits = match.group(1)
        if digits[0] == "-" and not self.signed_fields:
            raise Reject  # the grammar's field token has no sign: a syntax error
        start, end = match.start(1) - self.field_prefix, match.end(1)
        index = self.index_at(digits, FIELD_INDEX_MAX, "field index", start, end)
        if index in seen:
            self.repeated(seen, "duplicate field index", "INT", start, end)
        seen.add(index)
        return index

    def after_top(self, value: Any, start: int, end: int) -> tuple[str, int]:
        """The Lark prefix and offset to read on from, after a whole top-level ``value``
        (from ``start`` to ``end``) that something follows: a single token is read again."""
        if type(value) in _CONTAINERS:
            return self.stand_in(value), end
        return "", start

    def stand_in(self, value: Any) -> str:
        """The format's text of a small value of the same kind as ``value`` (a container)."""
        return encode(_CONTAINERS[type(value)], self.spelling)

    def stand_in_head(self, kind: str, number: int) -> str:
        """What comes before the value of a stand-in item of a ``kind`` container: a key and
        its colon, a field index, nothing in an array."""
        spelling = self.spelling
        if kind == "object":
            return key_text(f"k{number}", spelling) + spelling.pair_separator
        if kind == "contract":
            return spelling.field_open.format(number)
        return ""

    def stand_in_items(self, kind: str, count: int, trailing: bool) -> str:
        """Stand-ins for ``count`` whole items of a ``kind`` container (two when there were
        more), each ``null``, and the separator after them when ``trailing``."""
        if count <= 0 or kind == "frame":
            return ""
        spelling = self.spelling
        null = encode(None, spelling)
        separator = spelling.field_separator if kind == "contract" else spelling.separator
        items = separator.join(self.stand_in_head(kind, number) + null for number in range(min(count, 2)))
        return items + separator if trailing else items

    def top(self) -> Any:
        return self.value(0)

    def value(self, depth: int) -> Any:  # pragma: no cover - every format overrides it
        raise NotImplementedError

    # --- whitespace and punctuation ------------------------------------------------

    def skip(self) -> None:
        text, pos = self.text, self.pos
        if pos < len(text) and text[pos] in _WS_CHARS:
            self.pos = _WS_MATCH(text, pos).end()

    def expect(self, literal: str) -> None:
        self.skip()
        if not self.text.startswith(literal, self.pos):
            raise Reject
        self.pos += len(literal)
        self.skip()

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    # --- scalars -------------------------------------------------------------------

    def number(self) -> Any:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        if match.lastindex is None:  # neither a fraction nor an exponent
            try:
                value = lex.read_decimal(match.group())
            except lex.LexicalError:
                return self.refuse("value", "INT", match.start(), match.end())
            if not INT_MIN <= value <= INT_MAX:
                return self.refuse("value", "INT", match.start(), match.end())
            return value
        result = float(match.group())
        if result in (float("inf"), float("-inf")):
            return self.refuse("value", "FLOAT", match.start(), match.end())
        return result

    def string(self) -> str:
        text, pos = self.text, self.pos
        plain = (_PLAIN_ASCII_STRING if self.ascii_strings else _PLAIN_STRING).match(text, pos)
        if plain is not None:
            self.pos = plain.end()
            body = plain.group(1)
            if not body.isascii() and _SURROGATE.search(body):
                self.refuse("value", "STRING", pos, plain.end())
                return ""
            return body
        match = (_ASCII_STRING if self.ascii_strings else _STRING).match(text, pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        try:
            return lex.unquote_string(match.group())
        except lex.LexicalError:
            self.refuse("value", "STRING", pos, match.end())
            return ""

    def name(self) -> str:
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        return match.group()

    def handle(self, prefix_length: int) -> Handle:
        match = _NAME.match(self.text, self.pos + prefix_length)
        if match is None:
            raise Reject
        self.pos = match.end()
        return Handle._from_checked(match.group())

    def hex_bytes(self, prefix_length: int) -> bytes:
        start = self.pos
        match = _HEX_MATCH(self.text, start + prefix_length)
        digits = match.group()
        self.pos = match.end()
        if len(digits) % 2:
            self.refuse("value", "BYTES", start, self.pos)
            return b""
        return bytes.fromhex(digits)

    def contract_id(self) -> int:
        """A contract id behind a one-character glyph (the token's start): decimal digits,
        no sign (the grammar's token has none), no leading zero."""
        match = _DIGITS.match(self.text, self.pos)
        if match is None or match.group().startswith("-"):
            raise Reject
        self.pos = match.end()
        return self.index_at(match.group(), CONTRACT_ID_MAX, "contract id", match.start() - 1, match.end())

    # --- containers ----------------------------------------------------------------

    def items(self, depth: int, closers: str) -> list[Any]:
        """Comma-separated values up to one of ``closers`` (the opener already read)."""
        if depth > MAX_DEPTH:
            raise Reject
        text = self.text
        result: list[Any] = []
        pos = content = start = self.pos
        try:
            if text[pos] in _WS_CHARS:
                pos = _WS_MATCH(text, pos).end()
            if text[pos] in closers:
                self.pos = pos + 1
                return result
            append, value = result.append, self.value
            while True:
                self.pos = start = pos
                try:
                    append(value(depth))
                except Exception as error:  # noqa: BLE001 - given up inside this item
                    raise framed(error, Frame("array", content, len(result), pos, pos, None, None, result)) from None
                pos = self.pos
                char = text[pos]
                if char in _WS_CHARS:
                    pos = _WS_MATCH(text, pos).end()
                    char = text[pos]
                pos += 1
                if char == ",":
                    if text[pos] in _WS_CHARS:
                        pos += 1  # one space (canonical HLXL); more is rare
                        if text[pos] in _WS_CHARS:
                            pos = _WS_MATCH(text, pos).end()
                    continue
                if char in closers:
                    self.pos = pos
                    return result
                raise Reject
        except Exception as error:  # noqa: BLE001 - given up after an item (or before the first)
            last = result[-1] if result else None
            end = self.pos if result else None
            raise framed(error, Frame("array", content, len(result), start, start, end, last, result)) from None

    def pairs(self, depth: int, closers: str) -> dict[str, Any]:
        """``key: value`` pairs up to one of ``closers`` (the opener already read)."""
        if depth > MAX_DEPTH:
            raise Reject
        text = self.text
        result: dict[str, Any] = {}
        pos = content = start = self.pos
        key, end = "", -1  # end: where the last whole pair's value ends
        try:
            if text[pos] in _WS_CHARS:
                pos = _WS_MATCH(text, pos).end()
            if text[pos] in closers:
                self.pos = pos + 1
                return result
            value, reserved = self.value, self.reserved_keys
            while True:
                start = pos
                if text[pos] == '"':
                    self.pos = pos
                    key = self.string()
                    pos = self.pos
                else:
                    match = _NAME.match(text, pos)
                    if match is None:
                        raise Reject
                    key = match.group()
                    pos = match.end()
                    if key in reserved:
                        self.reserved_key(key, start, pos, not result)
                key_end = pos
                if text[pos] in _WS_CHARS:
                    pos = _WS_MATCH(text, pos).end()
                if text[pos] != ":":
                    raise Reject
                if key in result:
                    self.repeated(result, "duplicate key", "STRING" if text[start] == '"' else "NAME", start, key_end)
                pos += 1
                if text[pos] in _WS_CHARS:
                    pos += 1  # one space (canonical HLXL); more is rare
                    if text[pos] in _WS_CHARS:
                        pos = _WS_MATCH(text, pos).end()
                self.pos = pos
                try:
                    result[key] = value(depth)
                except Exception as error:  # noqa: BLE001 - given up inside this pair's value
                    raise framed(error, Frame("object", content, len(result), start, pos, None, None, result)) from None
                pos = end = self.pos
                char = text[pos]
                if char in _WS_CHARS:
                    pos = _WS_MATCH(text, pos).end()
                    char = text[pos]
                pos += 1
                if char == ",":
                    if text[pos] in _WS_CHARS:
                        pos += 1  # one space (canonical HLXL); more is rare
                        if text[pos] in _WS_CHARS:
                            pos = _WS_MATCH(text, pos).end()
                    continue
                if char in closers:
                    self.pos = pos
                    if self.pending:
                        self.closed(result)
                    return result
                raise Reject
        except Exception as error:  # noqa: BLE001 - given up in a key, after a pair or before the first
            if end > start:  # the pair from start is whole
                frame = Frame("object", content, len(result), start, start, end, result[key], result)
            else:
                frame = Frame("object", content, len(result), start, start, None, None, result)
            raise framed(error, frame) from None

    @staticmethod
    def contract(contract_id: int, fields: list[tuple[int, Any]]) -> Contract:
        """A contract from fields whose indices :func:`new_index` has checked."""
        if not fields:
            raise Reject
        return Contract._from_checked(contract_id, fields)
