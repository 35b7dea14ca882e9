"""Shared parts of the fast decoders (one per format, beside each format's Lark parser).

A fast decoder reads valid input quickly and gives up on anything else by raising
:class:`Reject`; the caller then runs the Lark reference parser, which produces the value or
the ParseError (with its position and message). So a fast decoder never decides what an
error says, and the differential tests hold it to the reference on every input.

Where it gave up is not wasted: each container the failure passes through adds a
:class:`Frame` to the Reject (its place in the text and how many items it had read), so the
reference need not re-read everything before it. :func:`resume_point` turns the frames into a
few characters that bring Lark's LALR parser into the state it has at that place (each open
container's real opening text, and one or two stand-in items spelt by the format's encoder
where items were already read) and the offset in the real text where Lark goes on. Lark then
reports the error itself, from its own parse table, at a real offset; nothing here knows
what the grammar expects (issue 29: a rejection costs what reading up to the error costs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, cast

from . import _lexical as lex
from ._encoder import Spelling, encode, key_text
from .model import CONTRACT_ID_MAX, FIELD_INDEX_MAX, INT_MAX, INT_MIN, MAX_DEPTH, Contract, Handle

__all__ = [
    "Reject",
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


class Repeated(Reject):
    """A key or field index repeats. Raised as soon as the repeat's separator is read, so the
    beginning of a text shows it (constrained decoding steers away from it that way)."""


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
    """A contract id or field index from its digits: no sign, no leading zero, in range."""
    if digits[0] == "-" or (len(digits) > 1 and digits[0] == "0") or len(digits) > 5:
        raise Reject
    value = int(digits)
    if value > maximum:
        raise Reject
    return value


def skip_whitespace(text: str, pos: int) -> int:
    """``pos`` moved past any whitespace."""
    return _WS_MATCH(text, pos).end() if text[pos] in _WS_CHARS else pos


def decode_text(parser: type[FastParser], fmt: str, text: str, strict_reference: bool) -> Any:
    """The value of ``text``: the fast decoder's when it accepts the text, else the Lark
    reference parser's (which also raises every ParseError but one: nesting past MAX_DEPTH,
    which the fast decoder reports at the same opener the reference would).

    Lark starts where the fast decoder gave up (:func:`resume_point`), without a tree: a
    syntax error there costs a few tokens of Lark, not a pass over everything before it. When
    Lark reads on to the end without a syntax error, the error is one of the data model's (a
    number out of range, a reserved key): the reference builds the tree of the text from the
    same place and finds it there. Only a repeated key or field index (whose first
    occurrence is before that place), or an error the reference does not find there, makes
    the reference parse the whole text again.
    """
    from .grammar import check_reference, error_at, parse_reference, reference_error, strip_bom

    if not strict_reference:
        try:
            return parser.parse(text)
        except TooDeep as too_deep:
            raise error_at(fmt, strip_bom(text), too_deep.offset, f"nesting deeper than {MAX_DEPTH} levels") from None
        except Reject as reject:
            resume: tuple[str, int] | None = resume_point(parser, strip_bom(text), reject)
            repeated = isinstance(reject, Repeated)
        except Exception:  # noqa: BLE001 - anything the fast path does not take, the reference judges
            resume, repeated = None, False
        check_reference(fmt, text, resume)  # a syntax error costs no tree
        if resume is not None and not repeated:
            found = reference_error(fmt, text, resume)
            if found is not None:
                raise found
    return parse_reference(fmt, text)


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
    :class:`Repeated` if it is there already."""
    index = index_value(digits, FIELD_INDEX_MAX)
    if index in seen:
        raise Repeated
    seen.add(index)
    return index


class FastParser:
    """Recursive descent over a ``str``; subclasses supply ``value`` for their format."""

    ascii_strings = False
    reserved_keys: frozenset[str] = frozenset()
    spelling: Spelling  # the format's encoder table: it spells the stand-ins of resume_point

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    @classmethod
    def parse(cls, text: str) -> Any:
        if text.startswith("\ufeff"):  # a byte-order mark, read as the reference reads it
            text = text[1:]
        parser = cls(text)
        parser.skip()
        top = parser.pos
        try:
            value = parser.top()
        except Exception as error:  # noqa: BLE001 - whatever gave up, as a Reject that says where
            reject = error if isinstance(error, Reject) else Reject()
            reject.top = top
            raise reject from None
        end = parser.pos
        parser.skip()
        if parser.pos != len(text):
            reject = Reject()
            reject.top = top
            reject.after_top = parser.after_top(value, top, end)
            raise reject
        return value

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
                raise Reject from None
            if not INT_MIN <= value <= INT_MAX:
                raise Reject
            return value
        result = float(match.group())
        if result in (float("inf"), float("-inf")):
            raise Reject
        return result

    def string(self) -> str:
        text, pos = self.text, self.pos
        plain = (_PLAIN_ASCII_STRING if self.ascii_strings else _PLAIN_STRING).match(text, pos)
        if plain is not None:
            self.pos = plain.end()
            body = plain.group(1)
            if not body.isascii() and _SURROGATE.search(body):
                raise Reject
            return body
        match = (_ASCII_STRING if self.ascii_strings else _STRING).match(text, pos)
        if match is None:
            raise Reject
        self.pos = match.end()
        try:
            return lex.unquote_string(match.group())
        except lex.LexicalError:
            raise Reject from None

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
        self.pos += prefix_length
        match = _HEX_MATCH(self.text, self.pos)
        digits = match.group()
        if len(digits) % 2:
            raise Reject
        self.pos = match.end()
        return bytes.fromhex(digits)

    def index(self, maximum: int) -> int:
        """A contract id or field index: decimal digits, no sign, no leading zero."""
        match = _DIGITS.match(self.text, self.pos)
        if match is None:
            raise Reject
        value = index_value(match.group(), maximum)
        self.pos = match.end()
        return value

    def contract_id(self) -> int:
        return self.index(CONTRACT_ID_MAX)

    def field_index(self) -> int:
        return self.index(FIELD_INDEX_MAX)

    def key(self) -> str:
        if self.text.startswith('"', self.pos):
            return self.string()
        name = self.name()
        if name in self.reserved_keys:
            raise Reject
        return name

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
                    if key in reserved:
                        raise Reject
                    pos = match.end()
                if text[pos] in _WS_CHARS:
                    pos = _WS_MATCH(text, pos).end()
                if text[pos] != ":":
                    raise Reject
                if key in result:
                    raise Repeated
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
