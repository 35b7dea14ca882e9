"""One hypothesis's answer as it is written, and the checks that read it.

A decoder keeps one :class:`AnswerState` per hypothesis (the greedy answer, or each beam),
advances it once per token it keeps and copies it with the grammar matcher. Every check
(:class:`NoRepeatedKey`, :class:`DepthLimit`, :class:`InLiteralOrder`) reads the state's
:class:`AnswerView` of a candidate token: the answer's values read incrementally by
:class:`~hlx_moe.decoding.source_literals.PartialScan`, so judging a candidate costs its
own text, not the answer's length. What a context-free grammar cannot say is said here.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.instructions import ALL_FORMATS_ORDER
from hlx_formats.model import MAX_DEPTH
from hlx_moe.decoding.source_literals import LiteralOrder, PartialScan, _Scan, departs_from

__all__ = ["AnswerState", "AnswerView", "AnswerCheck", "NoRepeatedKey", "DepthLimit", "InLiteralOrder", "LABELS"]

#: The label of each value's line in an all-formats answer.
LABELS = {fmt: f"{FORMAT_TITLES[fmt]}: " for fmt in ALL_FORMATS_ORDER}


@dataclass(frozen=True)
class AnswerView:
    """An answer (so far, or with a candidate's text) as the checks see it: the format and
    the reading of the value being written (None before its prefix or label is complete),
    and whether a value already finished (an earlier line) left the literal order."""

    fmt: str | None
    value: _Scan | None
    earlier_departs: bool = False


class _Line:
    """The value being written: the text before it (its prefix or label) until complete,
    then its incremental reading."""

    __slots__ = ("head", "fmt", "scan")

    def __init__(self) -> None:
        self.head = ""  # the text of the line before its value starts
        self.fmt: str | None = None
        self.scan: PartialScan | None = None

    def copy(self) -> _Line:
        twin = _Line()
        twin.head, twin.fmt = self.head, self.fmt
        twin.scan = self.scan.copy() if self.scan is not None else None
        return twin


class AnswerState:
    """The answer of one hypothesis under an answer constraint: its tokens and its values
    read incrementally (one per labelled line of an all-formats answer, else the one after
    the prefix). ``token_bytes`` gives a token's UTF-8 bytes (b"" for special tokens); a
    character split between tokens is read once its last byte is there.
    """

    def __init__(self, target: str, prefix: str, order: LiteralOrder | None, token_bytes: Callable[[int], bytes]) -> None:
        self.target = target
        self.prefix = prefix
        self.order = order
        self._token_bytes = token_bytes
        self.tokens: list[int] = []
        self._bytes = b""  # the first bytes of a character whose last ones are still to come
        self._line = _Line()
        self._earlier_departs = False

    def copy(self) -> AnswerState:
        twin = object.__new__(AnswerState)
        twin.__dict__.update(self.__dict__)
        twin.tokens = list(self.tokens)
        twin._line = self._line.copy()
        return twin

    def advance(self, tokens: Sequence[int]) -> None:
        """Commit ``tokens`` (the model's choice, or tokens the grammar forced)."""
        self.tokens += tokens
        text, self._bytes = self._decode(tokens)
        self.advance_text(text)

    def advance_text(self, text: str) -> None:
        """Commit ``text`` (what tokens decode to, or a whole answer read as text)."""
        for position, piece in enumerate(text.split("\n") if self.target == "all" else [text]):
            if position:  # a line of an all-formats answer ended
                self._earlier_departs = self._earlier_departs or self._line_departs(self._line, "", complete=True)
                self._line = _Line()
            self._feed_line(self._line, piece)

    def view(self, tokens: Sequence[int] = ()) -> AnswerView:
        """The answer with ``tokens`` after it, as the checks see it; nothing is committed."""
        text, _ = self._decode(tokens)
        pieces = text.split("\n") if self.target == "all" else [text]
        earlier = self._earlier_departs
        if len(pieces) == 1:
            return self._line_view(self._line, pieces[0], earlier)
        earlier = earlier or self._line_departs(self._line, pieces[0], complete=True)
        for piece in pieces[1:-1]:  # whole lines inside the candidate's text
            earlier = earlier or self._line_departs(_Line(), piece, complete=True)
        return self._line_view(_Line(), pieces[-1], earlier)

    def _decode(self, tokens: Sequence[int]) -> tuple[str, bytes]:
        data = self._bytes + b"".join(self._token_bytes(token) for token in tokens)
        text, used = codecs.utf_8_decode(data, "replace", False)
        return text, data[used:]

    def _value_start(self, head: str) -> tuple[str | None, int]:
        """The format of the value a line's ``head`` introduces and where the value starts;
        (None, 0) while the head is not complete (or never will be)."""
        if self.target != "all":
            return (self.target, len(self.prefix)) if head.startswith(self.prefix) else (None, 0)
        for fmt, label in LABELS.items():
            if head.startswith(label):
                return fmt, len(label)
        return None, 0

    def _feed_line(self, line: _Line, text: str) -> None:
        if line.scan is not None:
            line.scan.feed(text)
            return
        line.head += text
        fmt, start = self._value_start(line.head)
        if fmt is not None:
            line.fmt, line.scan = fmt, PartialScan(fmt, self._expected(fmt))
            line.scan.feed(line.head[start:])
            line.head = line.head[:start]

    def _read_line(self, line: _Line, text: str) -> tuple[str | None, _Scan | None]:
        """The format and reading of ``line`` with ``text`` after it, nothing committed."""
        if line.scan is not None:
            return line.fmt, line.scan.peek(text)
        head = line.head + text
        fmt, start = self._value_start(head)
        if fmt is None:
            return None, None
        return fmt, PartialScan(fmt, self._expected(fmt)).peek(head[start:])

    def _line_view(self, line: _Line, text: str, earlier: bool) -> AnswerView:
        fmt, scan = self._read_line(line, text)
        return AnswerView(fmt, scan, earlier)

    def _line_departs(self, line: _Line, text: str, *, complete: bool) -> bool:
        if self.order is None:
            return False
        fmt, scan = self._read_line(line, text)
        return fmt is not None and scan is not None and departs_from(self.order.spelled(fmt), scan, complete=complete)

    def _expected(self, fmt: str) -> tuple[str, ...] | None:
        return self.order.spelled(fmt) if self.order is not None else None


class AnswerCheck(Protocol):
    """A check of an answer beyond its grammar. ``steers`` checks (the literal order) may
    overrule the model's choice only a limited number of times per answer; the others always
    refuse what they refuse."""

    steers: bool

    def refuses(self, view: AnswerView) -> bool:
        """Whether an answer that reads as ``view`` (so far) is refused."""
        ...

    def refuses_end(self, view: AnswerView) -> bool:
        """Whether the answer that reads as ``view`` may not end here."""
        ...


class NoRepeatedKey:
    """No key or field index twice in one object or contract (a key counts once its
    separator is written)."""

    steers = False

    def refuses(self, view: AnswerView) -> bool:
        return view.value is not None and view.value.repeated

    def refuses_end(self, view: AnswerView) -> bool:
        return False


class DepthLimit:
    """No more than ``MAX_DEPTH`` containers open (as written: an HLXL contract counts two),
    more than any value may nest: a model that opens containers without end is stopped
    there, so that the finisher can close them all."""

    steers = False

    def refuses(self, view: AnswerView) -> bool:
        return view.value is not None and view.value.depth > MAX_DEPTH

    def refuses_end(self, view: AnswerView) -> bool:
        return False


class InLiteralOrder:
    """The literals of the instruction's value, in the order it writes them, one for one: a
    literal that is not the next one, one too many, or a value closed (or the answer ended)
    before its last literal is refused."""

    steers = True

    def __init__(self, order: LiteralOrder) -> None:
        self.order = order
        self._expected = {fmt: order.spelled(fmt) for fmt in LABELS}  # spelled once, not per candidate

    def refuses(self, view: AnswerView) -> bool:
        return view.earlier_departs or self._departs(view, complete=False)

    def refuses_end(self, view: AnswerView) -> bool:
        return view.earlier_departs or self._departs(view, complete=True)

    def _departs(self, view: AnswerView, *, complete: bool) -> bool:
        return view.fmt is not None and view.value is not None and departs_from(self._expected[view.fmt], view.value, complete=complete)
