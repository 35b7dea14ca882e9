"""The compiled codecs (``hlx_formats._speedups``), picked once at import: json's pattern.

Each compiled function does only what it is sure of and otherwise gives up (a decoder returns
``NOT_DECODED``, an encoder ``None``), and the pure-Python codec then does the work: it is the
reference, the fallback, and the one source of every error's text. ``HLX_PURE_PYTHON=1`` in the
environment, or an installation without the compiled module, leaves the names below ``None``
and ``ACCELERATED`` False.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .model import Contract, Handle

__all__ = ["ACCELERATED", "FORMAT_CODES", "NOT_DECODED", "decode_text", "encode_text", "decode_lcb", "encode_lcb"]

#: The compiled module's number of each text format.
FORMAT_CODES: dict[str, int] = {"hlxl": 0, "lc-t": 1, "lc-r": 2, "lc-b": 3}

decode_text: Callable[[str, int], Any] | None = None
encode_text: Callable[[Any, int], str | None] | None = None
decode_lcb: Callable[[bytes, int], Any] | None = None
encode_lcb: Callable[[Any], bytes | None] | None = None
NOT_DECODED: object = object()

if os.environ.get("HLX_PURE_PYTHON", "") in ("", "0"):
    try:
        from . import _speedups  # type: ignore[attr-defined]  # the compiled module, when it was built
    except ImportError:
        pass
    else:
        _speedups.configure(Contract, Handle)
        decode_text, encode_text = _speedups.decode_text, _speedups.encode_text
        decode_lcb, encode_lcb = _speedups.decode_lcb, _speedups.encode_lcb
        NOT_DECODED = _speedups.NOT_DECODED

#: Whether the compiled codecs are in use (``hlx --version`` says which).
ACCELERATED = decode_text is not None
