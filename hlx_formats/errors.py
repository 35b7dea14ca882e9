"""The exceptions of ``hlx_formats``.

Every public function raises only :class:`HLXError` (a :class:`ValueError`) or one of its
subclasses, whatever the input.
"""

from __future__ import annotations

__all__ = ["HLXError", "ParseError", "EncodeError", "BackendUnavailable", "NotUnderstood", "WrongAnswer"]


class HLXError(ValueError):
    """Base class of every error raised by ``hlx_formats`` and ``hlx_moe``."""


class ParseError(HLXError):
    """Input text or bytes that are not valid in the named format.

    Attributes:
        format: ``"hlxl"``, ``"lc-t"``, ``"lc-r"`` or ``"lc-b"``.
        line, column: 1-based position of the problem (for binary LC-B: line 1, and the
            column is the byte offset plus one).
        offset: 0-based character offset (byte offset for binary LC-B).
        reason: the problem, without the position.
        excerpt: the input line around the position, with a caret under it.
    """

    def __init__(
        self,
        fmt: str,
        reason: str,
        *,
        line: int,
        column: int,
        offset: int,
        excerpt: str = "",
    ) -> None:
        self.format = fmt
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
        self.excerpt = excerpt
        message = f"{fmt}: line {line}, column {column}: {reason}"
        if excerpt:
            message += "\n" + excerpt
        super().__init__(message)


class EncodeError(HLXError):
    """A Python value that is not an HLX value, or that a format cannot carry.

    Raised by the encoders and by the constructors of :class:`~hlx_formats.Handle` and
    :class:`~hlx_formats.Contract`. The message names the kind of value and the rule or
    limit it breaks; ``path`` says where in the value it sits (``$[2].name``).
    """

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        self._segments: list[str] = []  # innermost last; filled in while the encoder unwinds
        super().__init__(kind, reason)

    def _inside(self, segment: str) -> EncodeError:
        self._segments.append(segment)
        return self

    @property
    def path(self) -> str:
        """Where the offending value sits, from the top: ``$``, ``$[2]``, ``$.name@1``."""
        return "$" + "".join(reversed(self._segments))

    def __str__(self) -> str:
        where = "" if not self._segments else f" at {self.path}"
        return f"{self.kind}{where}: {self.reason}"


class BackendUnavailable(HLXError):
    """A translation backend that cannot run here (for example, a missing extra)."""


class NotUnderstood(HLXError):
    """A request that is read no way, or two ways with different answers, or that a backend
    does not answer: the message says what was understood and the closest canonical phrasing.

    A learned backend that rewrote the request sets ``rewrite`` (the best canonical
    instruction it considered) and ``confidence`` (0 to 1); both are None otherwise."""

    def __init__(self, message: str, *, rewrite: str | None = None, confidence: float | None = None) -> None:
        super().__init__(message)
        self.rewrite = rewrite
        self.confidence = confidence


class WrongAnswer(HLXError):
    """A learned backend's answer that its own check rejects, so that it is not returned as if
    it were right: a format answer that does not parse, or an answer that differs from the
    reference answer of the instruction the request was understood as (another value, or
    another sentence). ``answer`` is what the backend wrote; ``reference`` the reference
    answer (None where the task has none, as for a completion)."""

    def __init__(self, message: str, *, answer: str, reference: str | None = None) -> None:
        super().__init__(message)
        self.answer = answer
        self.reference = reference
