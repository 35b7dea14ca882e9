"""HLX value formats: HLXL, LC-T, LC-R and LC-B, with Lark grammars and reference codecs.

>>> from hlx_formats import Contract, Handle, to_lcr, from_lct, convert
>>> to_lcr(Contract(1000, {0: "search", 1: Handle("documents")}))
'🜊1000🜁0 "search"🜁1 ⟁documents🜂'
>>> from_lct("{C:14,0=42}")
Contract(14, {0: 42})
>>> convert("[1, 2, 3]", to="lc-b")
'[[0x01,0x02,0x03]]'
>>> from hlx_formats import dumps, loads
>>> loads(dumps({"id": Handle("x")}, "lc-t"))
{'id': Handle('x')}
"""

from importlib import metadata as _metadata

from ._accelerated import ACCELERATED
from ._encoder import UnsupportedTypeError
from .api import convert, decode_as, detect_format, encode_as, repeats_key, translate, translate_many
from .codec import dump, dumps, load, loads
from .errors import BackendUnavailable, EncodeError, HLXError, NotUnderstood, ParseError, WrongAnswer
from .formats import FormatName
from .grammar import FORMATS, grammar_text, normalize_format
from .hlxl import from_hlxl, to_hlxl
from .json_bridge import from_json, to_json
from .lcb import from_lcb, to_lcb, to_lcb_text
from .lcr import from_lcr, to_lcr
from .lct import from_lct, to_lct
from .model import MAX_DEPTH, Contract, Handle, Value, iter_values, value_depth, value_size, values_equal
from .requests import Request, parse_request
from .streams import iter_load


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the one source); ``0+unknown``
    for a source tree put on ``sys.path`` without installing it."""
    try:
        return _metadata.version("hlx")
    except _metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _version()

__all__ = [
    "ACCELERATED",
    "Handle",
    "Contract",
    "Value",
    "FormatName",
    "dumps",
    "loads",
    "dump",
    "load",
    "iter_load",
    "to_json",
    "from_json",
    "encode_as",
    "decode_as",
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
    "translate_many",
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
    "UnsupportedTypeError",
    "BackendUnavailable",
    "NotUnderstood",
    "WrongAnswer",
]
