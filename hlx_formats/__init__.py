"""HLX value formats: HLXL, LC-T, LC-R and LC-B, with Lark grammars and reference codecs.

>>> from hlx_formats import Contract, Handle, to_lcr, from_lct, convert
>>> to_lcr(Contract(1000, {0: "search", 1: Handle("documents")}))
'🜊1000🜁0 "search"🜁1 ⟁documents🜂'
>>> from_lct("{C:14,0=42}")
Contract(14, {0: 42})
>>> convert("[1, 2, 3]", to="lc-b")
'[[0x01,0x02,0x03]]'
"""

from .api import convert, detect_format, repeats_key, translate
from .errors import BackendUnavailable, EncodeError, HLXError, NotUnderstood, ParseError
from .grammar import FORMATS, grammar_text, normalize_format
from .hlxl import from_hlxl, to_hlxl
from .lcb import from_lcb, to_lcb, to_lcb_text
from .lcr import from_lcr, to_lcr
from .lct import from_lct, to_lct
from .model import MAX_DEPTH, Contract, Handle, iter_values, value_depth, value_size, values_equal
from .requests import Request, parse_request

__version__ = "0.1.0"

__all__ = [
    "Handle",
    "Contract",
    "to_hlxl",
    "to_lct",
    "to_lcr",
    "to_lcb_text",
    "to_lcb",
    "from_hlxl",
    "from_lct",
    "from_lcr",
    "from_lcb",
    "detect_format",
    "convert",
    "translate",
    "parse_request",
    "Request",
    "repeats_key",
    "grammar_text",
    "normalize_format",
    "values_equal",
    "value_depth",
    "value_size",
    "iter_values",
    "FORMATS",
    "MAX_DEPTH",
    "HLXError",
    "ParseError",
    "EncodeError",
    "BackendUnavailable",
    "NotUnderstood",
]
