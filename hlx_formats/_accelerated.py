"""The compiled codecs (``hlx_formats._speedups``), picked once at import: json's pattern.

Each compiled function does only what it is sure of and otherwise gives up (a decoder returns
``NOT_DECODED``, an encoder ``None``), and the pure-Python codec then does the work: it is the
reference, the fallback, and the one source of every error's text. ``HLX_PURE_PYTHON=1`` in the
environment, or an installation without the compiled module, leaves the names below ``None``
and ``ACCELERATED`` False.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .model import Contract, Handle

__all__ = ["ACCELERATED", "FORMAT_CODES", "NOT_DECODED", "decode_text", "encode_text", "decode_lcb", "encode_lcb", "pure_python"]

#: The compiled module's number of each text format.
FORMAT_CODES: dict[str, int] = {"hlxl": 0, "lc-t": 1, "lc-r": 2, "lc-b": 3}

decode_text: Callable[[str, int], Any] | None = None
encode_text: Callable[[Any, int], str | None] | None = None
decode_lcb: Callable[[bytes, int], Any] | None = None
encode_lcb: Callable[[Any], bytes | None] | None = None
NOT_DECODED: object = object()

if os.environ.get("HLX_PURE_PYTHON", "") in ("", "0"):
    try:
        # The compiled module, when it was built (by name: it is no source file of the package).
        _speedups = importlib.import_module("hlx_formats._speedups")
    except ImportError:
        pass
    else:
        _speedups.configure(Contract, Handle)
        decode_text, encode_text = _speedups.decode_text, _speedups.encode_text
        decode_lcb, encode_lcb = _speedups.decode_lcb, _speedups.encode_lcb
        NOT_DECODED = _speedups.NOT_DECODED

#: Whether the compiled codecs are in use (``hlx --version`` says which).
ACCELERATED = decode_text is not None


#: Every place that holds a compiled function picked at import: (module name, attribute).
_PICKED = (
    ("hlx_formats._accelerated", "decode_text"),
    ("hlx_formats._accelerated", "encode_text"),
    ("hlx_formats._accelerated", "decode_lcb"),
    ("hlx_formats._accelerated", "encode_lcb"),
    ("hlx_formats._encoder", "_compiled_encode"),
    ("hlx_formats._fast", "_compiled_decode"),
    ("hlx_formats.lcb", "_compiled_encode"),
    ("hlx_formats.lcb", "_compiled_decode"),
)


@contextmanager
def pure_python() -> Iterator[None]:
    """The pure-Python codecs for the duration, as ``HLX_PURE_PYTHON=1`` gives them: for the
    benchmarks and tests that compare the two paths in one process (not thread-safe). The
    modules are those the package imported with itself (importing this one imports them)."""
    saved = [(sys.modules[module], name, getattr(sys.modules[module], name)) for module, name in _PICKED]
    for module, name, _ in saved:
        setattr(module, name, None)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
