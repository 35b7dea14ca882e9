"""The one table of facts that answers questions about the formats, contracts and experts.

The corpus generator asks these questions and the reference ``translate`` answers them from
here, so the coordinator learns exactly this text.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .lcr import GLYPHS, LEGACY_GLYPHS
from .model import Contract, Handle

__all__ = [
    "GLYPH_NAMES", "GLYPH_SYNONYMS", "CONTRACTS", "FIELD_ROLES", "FORMATS_INFO", "FORMAT_PURPOSES", "EXPERTS",
    "OPERATIONS", "glyph_answer", "glyph_name", "contract_answer", "purpose_format", "purpose_answer",
    "expert_use_answer", "summary", "explanation",
]  # fmt: skip

#: Short name of each LC-R glyph (the question "Which LC-R glyph means <name>?").
GLYPH_NAMES: dict[str, str] = {
    "∅": "null",
    "⊤": "true",
    "⊥": "false",
    "⊠": "the bytes prefix",
    "⟁": "the handle prefix",
    "🜊": "the contract start",
    "🜁": "the field marker",
    "🜂": "the contract end",
    "🜃": "the array start",
    "🜄": "the array end",
    "◇": "the object start",
    "◆": "the object end",
}

#: Known contract ids: (name, description of the fields).
CONTRACTS = {
    14: ("a basic single-argument invocation with an integer", "@0 is the integer argument"),
    16: ("a basic single-argument invocation with a string", "@0 is the string argument"),
    900: ("VulkanShader", "@0 is the shader binary handle, @1 the entry point, @2 the stage"),
    901: ("ComputeKernel", "its fields are not fixed by the specification"),
    902: (
        "PipelineConfig",
        "@0 is the pipeline id, @1 the stages (an array of shader handles), @2 the sync barriers, @3 the output image handle",
    ),
    1000: (
        "a general operation",
        "@0 is the operation name (search, filter, transform, aggregate, execute, navigate, train, "
        "query, batch, pipeline, if, loop, map, reduce, ...) and @1 onwards its arguments, usually handles",
    ),
}

#: One line on each format.
FORMATS_INFO = {
    "hlxl": 'HLXL is the human-readable ASCII form of an HLX value, for example {1000: {@0: "search", @1: &h_documents}}.',
    "lc-t": 'LC-T (Latent Collapse Text) is the compact ASCII form of an HLX value, for example {C:1000,0="search",1=@documents}.',
    "lc-r": 'LC-R (Latent Collapse Runic) writes an HLX value with Unicode glyphs, for example 🜊1000🜁0 "search"🜁1 ⟁documents🜂.',
    "lc-b": "LC-B (Latent Collapse Binary) is the binary wire format of an HLX value, with a text "
    'notation such as [1000|0:"search"|1:&documents].',
}

#: The experts of the mixture and what each owns.
EXPERTS = {
    "runic": "every instruction whose target or source format is LC-R",
    "ascii": "every instruction whose target or source format is LC-T",
    "coordinator": "LC-B, all-formats translations, questions about the formats and contracts, routing, and plain-English intents",
}

#: Operations of contract 1000 for plain-English intents: name -> (phrase, number of handles).
#: A phrase has {0} (and {1}) where the argument handles go.
OPERATIONS: dict[str, tuple[str, int]] = {
    "search": ("Search for {0}", 1),
    "filter": ("Filter {0}", 1),
    "transform": ("Transform {0}", 1),
    "aggregate": ("Aggregate {0}", 1),
    "execute": ("Execute {0}", 1),
    "navigate": ("Navigate to {0}", 1),
    "train": ("Train {0} on {1}", 2),
    "query": ("Query {0}", 1),
    "batch": ("Batch {0}", 1),
    "pipeline": ("Run a pipeline from {0} to {1}", 2),
    "if": ("If {0} then {1}", 2),
    "loop": ("Loop over {0}", 1),
    "map": ("Map {0} with {1}", 2),
    "reduce": ("Reduce {0}", 1),
}


def glyph_answer(glyph: str) -> str:
    """What an LC-R glyph (canonical or legacy) means, in one sentence."""
    if glyph in LEGACY_GLYPHS:
        canonical = LEGACY_GLYPHS[glyph]
        return (
            f"{glyph} (U+{ord(glyph):04X}) is a legacy spelling of {canonical}, {GLYPH_NAMES[canonical]}; "
            "LC-R parsers read it, encoders never write it."
        )
    return f"In LC-R, {glyph} (U+{ord(glyph):04X}) is {GLYPHS[glyph]}."


def contract_answer(contract_id: int | str) -> str:
    """What a contract id (an int, or its decimal digits) means, in one sentence."""
    if isinstance(contract_id, str):
        # Digits longer than any contract id are never converted: int() refuses past 4,300.
        digits = contract_id.lstrip("0") or "0"
        if len(digits) > 6:
            shown = digits if len(digits) <= 24 else f"{digits[:20]}... ({len(digits)} digits)"
            return f"Contract {shown} is not one of the known contracts ({', '.join(map(str, CONTRACTS))})."
        contract_id = int(digits)
    if contract_id not in CONTRACTS:
        known = ", ".join(str(key) for key in CONTRACTS)
        return f"Contract {contract_id} is not one of the known contracts ({known})."
    name, fields = CONTRACTS[contract_id]
    return f"Contract {contract_id} is {name}: {fields}."


#: Other names people give the glyphs, each mapped to its name in :data:`GLYPH_NAMES`
#: (without "the "). Questions such as "the LC-R glyph for a handle reference" use them.
GLYPH_SYNONYMS: dict[str, str] = {
    "nothing": "null", "none": "null", "nil": "null", "empty value": "null",
    "yes": "true", "boolean true": "true", "no": "false", "boolean false": "false",
    "bytes": "bytes prefix", "byte string": "bytes prefix", "byte string prefix": "bytes prefix",
    "binary data": "bytes prefix", "bytes marker": "bytes prefix",
    "handle": "handle prefix", "handle reference": "handle prefix", "reference": "handle prefix",
    "handle marker": "handle prefix", "handle sigil": "handle prefix", "pointer": "handle prefix",
    "contract": "contract start", "contract open": "contract start", "contract opening": "contract start",
    "start of a contract": "contract start", "contract begin": "contract start", "begin contract": "contract start",
    "open contract": "contract start", "opening a contract": "contract start",
    "field": "field marker", "field separator": "field marker", "field index marker": "field marker",
    "field index": "field marker", "field prefix": "field marker", "field delimiter": "field marker",
    "contract field": "field marker",
    "contract close": "contract end", "close contract": "contract end", "end of a contract": "contract end",
    "closing a contract": "contract end", "contract closing": "contract end",
    "array": "array start", "list": "array start", "list start": "array start", "array open": "array start",
    "open array": "array start", "start of an array": "array start", "opening an array": "array start",
    "array close": "array end", "close array": "array end", "list end": "array end",
    "end of an array": "array end", "closing an array": "array end",
    "object": "object start", "map": "object start", "map start": "object start", "dict start": "object start",
    "object open": "object start", "open object": "object start", "start of an object": "object start",
    "opening an object": "object start",
    "object close": "object end", "close object": "object end", "map end": "object end", "dict end": "object end",
    "end of an object": "object end", "closing an object": "object end",
}  # fmt: skip


def glyph_name(name: str) -> str | None:
    """The :data:`GLYPH_NAMES` name (without "the ") that ``name`` or a synonym of it means."""
    wanted = " ".join(name.lower().split()).removeprefix("the ")
    for known in GLYPH_NAMES.values():
        if known.removeprefix("the ") == wanted:
            return wanted
    return GLYPH_SYNONYMS.get(wanted)


#: The role of each field of the known contracts (``None`` as a key: any other index).
FIELD_ROLES: dict[int, dict[int | None, str]] = {
    14: {0: "the integer argument"},
    16: {0: "the string argument"},
    900: {0: "the shader binary handle", 1: "the entry point", 2: "the stage"},
    902: {0: "the pipeline id", 1: "the stages", 2: "the sync barriers", 3: "the output image handle"},
    1000: {0: "the operation name", None: "an argument"},
}

#: What each format is best for: (canonical purpose phrase, format, keywords that name it).
FORMAT_PURPOSES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("a binary protocol", "lc-b", ("binary", "wire", "network", "protocol", "bytes", "transmission", "storage", "smallest", "packet", "socket")),
    ("reading and writing by hand", "hlxl", ("readab", "reading", "human", "by hand", "debug", "document", "docs", "review", "edit", "people", "config")),
    ("ASCII-only text", "lc-t", ("ascii", "text-safe", "log", "logs", "url", "terminal", "email", "plain text", "compact text", "csv", "header")),
    ("a dense glyph notation", "lc-r", ("glyph", "glyphs", "runic", "unicode", "visual", "dense", "symbols", "model tokens", "tokens")),
)  # fmt: skip


def purpose_format(purpose: str) -> tuple[str, str] | None:
    """The (canonical purpose, format) whose keywords begin words of ``purpose``; None if none or several do."""
    words = " " + " ".join(purpose.lower().split())
    found = {
        (phrase, fmt) for phrase, fmt, keywords in FORMAT_PURPOSES
        if phrase.lower() == words.strip() or any(f" {keyword}" in words for keyword in keywords)
    }  # fmt: skip
    return found.pop() if len(found) == 1 else None


def purpose_answer(phrase: str) -> str:
    """Which format suits a purpose (one of :data:`FORMAT_PURPOSES`), in one sentence."""
    _, fmt, _ = next(entry for entry in FORMAT_PURPOSES if entry[0] == phrase)
    title = {"hlxl": "HLXL", "lc-t": "LC-T", "lc-r": "LC-R", "lc-b": "LC-B"}[fmt]
    return f"For {phrase}, use {title}: {FORMATS_INFO[fmt]}"


def expert_use_answer(expert: str) -> str:
    """When to use an expert of the mixture, in one sentence."""
    return f"Use the {expert} expert for {EXPERTS[expert]}."


# --- describing values ---------------------------------------------------------------

_KIND_WORDS = {
    "null": ("null", "nulls"), "boolean": ("boolean", "booleans"), "integer": ("integer", "integers"),
    "float": ("float", "floats"), "string": ("string", "strings"), "bytes": ("byte string", "byte strings"),
    "handle": ("handle", "handles"), "array": ("array", "arrays"), "object": ("object", "objects"),
    "contract": ("contract", "contracts"),
}  # fmt: skip
_LISTED = 8  # members named one by one in an explanation; the rest are counted
_SHOWN = 40  # characters of a string or key shown before "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, Handle):
        return "handle"
    if isinstance(value, Contract):
        return "contract"
    return "object" if isinstance(value, dict) else "array"


def _shown(text: str) -> str:
    quoted = json.dumps(text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...", ensure_ascii=False)
    return quoted


def _plural(count: int, kind: str) -> str:
    singular, plural = _KIND_WORDS.get(kind, (kind, kind + "s"))
    return f"{count} {singular if count == 1 else plural}"


def _members_kinds(members: list[Any]) -> str:
    kinds = Counter(_kind(member) for member in members)
    if len(kinds) == 1:
        return _plural(len(members), next(iter(kinds)))
    return f"{len(members)} values (" + ", ".join(_plural(n, k) for k, n in kinds.most_common()) + ")"


def _contract_title(contract: Contract) -> str:
    known = CONTRACTS.get(contract.id)
    return f"contract {contract.id}" + (f" ({known[0]})" if known else "")


def _field_role(contract_id: int, index: int) -> str | None:
    roles = FIELD_ROLES.get(contract_id, {})
    return roles.get(index, roles.get(None))


def summary(value: Any) -> str:
    """A one-line English description of a value: its kind, size and, for a known contract, its name."""
    kind = _kind(value)
    if kind in ("null", "boolean"):
        return json.dumps(value)
    if kind in ("integer", "float"):
        # repr, not str: a float's shortest spelling; past 40 digits an integer is only sized
        # (and never converted whole: Python refuses int-to-str past 4,300 digits)
        digits = repr(value) if kind == "float" or abs(value) < 10**40 else f"of about {int(value.bit_length() * 0.30103) + 1} digits"
        return f"the {kind} {digits}"
    if kind == "string":
        return f"the string {_shown(value)}"
    if kind == "bytes":
        return f"{_plural(len(value), 'byte')}" + (f" ({bytes(value).hex()})" if len(value) <= 8 else "")
    if kind == "handle":
        return f"the handle {value.name}"
    if kind == "contract":
        return f"{_contract_title(value)} with {len(value)} field{'s' if len(value) != 1 else ''}"
    if not value:
        return f"an empty {kind}"
    if kind == "object":
        keys = ", ".join(_shown(key) if not key.isidentifier() else key for key in list(value)[:_LISTED])
        more = ", ..." if len(value) > _LISTED else ""
        return f"an object with {len(value)} key{'s' if len(value) != 1 else ''} ({keys}{more})"
    return f"an array of {_members_kinds(list(value))}"


def explanation(value: Any) -> str:
    """An English description of a value and of its members (roles of known contract fields
    named), one sentence; members past the first eight are counted, not described."""
    kind = _kind(value)
    if kind == "contract":
        parts = []
        for index, field in list(value.items())[:_LISTED]:
            role = _field_role(value.id, index)
            parts.append(f"@{index}" + (f" ({role})" if role else "") + f" is {summary(field)}")
        members = parts
    elif kind == "object" and value:
        members = [f"{key if key.isidentifier() else _shown(key)} is {summary(member)}" for key, member in list(value.items())[:_LISTED]]
    elif kind == "array" and value:
        members = [f"item {position} is {summary(member)}" for position, member in enumerate(list(value)[:_LISTED])]
    else:
        return summary(value)
    size = len(value)
    if size > _LISTED:
        members.append(f"and {size - _LISTED} more")
    return f"{summary(value)}: " + "; ".join(members)
