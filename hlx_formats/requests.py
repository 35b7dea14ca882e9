"""Requests as people write them: one description that both parses and renders them.

:data:`TEMPLATES` is the single source of truth. Each :class:`Template` is a sequence of
words and slots (``{verb}``, ``{targets}``, ``{value}``...) whose vocabularies are the tables
below; the same template compiles to the pattern that reads a request and renders random
phrasings for the corpus generator. A request is answered through the canonical instruction
it is equivalent to (:mod:`hlx_formats.instructions`), so every phrasing of one request has
one answer.

Reading a request never guesses: every template is tried, and a request that two readings
answer differently, or that no reading answers, raises :class:`~hlx_formats.HLXError`
saying what was understood and the closest canonical phrasing. Cost is linear in the
request's length: the words before the value are matched from the start, the words after it
within the request's last :data:`TAIL_WINDOW` characters, and the value is parsed once.
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import facts
from .errors import HLXError, NotUnderstood, ParseError
from .formats import DECODERS, detect_value
from .grammar import FORMAT_TITLES
from .instructions import (
    ALL_FORMATS_ORDER,
    REPAIR_TASKS,
    Instruction,
    answer,
    canonical_text,
    first_form,
    forms_overview,
    instruction_for,
    match_instruction,
    render,
    unwrap,
)
from .lcr import GLYPHS, LEGACY_GLYPHS

__all__ = [
    "FORMAT_ALIASES", "TEMPLATES", "Template", "Request", "parse_request", "render_instruction", "strip_value_quotes",
    "TAIL_WINDOW", "SLOTS", "Slot",
]  # fmt: skip

# --- vocabulary ----------------------------------------------------------------------

#: Every name of each format, matched case-insensitively; the first is its title. A name may
#: be preceded by "the" and followed by a noun such as "format" or "notation".
FORMAT_ALIASES: dict[str, tuple[str, ...]] = {
    "hlxl": ("HLXL", "readable", "human-readable", "readable HLXL"),
    "lc-t": ("LC-T", "lct", "lc_t", "lc t", "ASCII", "text-safe", "text safe", "compact", "compact ASCII", "Latent Collapse Text"),
    "lc-r": ("LC-R", "lcr", "lc_r", "lc r", "Runic", "runes", "glyphs", "Runic glyphs", "Unicode glyphs", "Latent Collapse Runic"),
    "lc-b": ("LC-B", "lcb", "lc_b", "lc b", "LC-B text", "binary text", "Latent Collapse Binary"),
}  # fmt: skip
_FORMAT_NOUNS = ("format", "notation", "encoding", "syntax", "form", "representation", "spelling", "version")
_ALIAS_FORMAT = {alias.lower(): fmt for fmt, aliases in FORMAT_ALIASES.items() for alias in aliases}

#: Verbs of a conversion; ``_READ_VERBS`` also mean "to HLXL" when no target is named.
CONVERT_VERBS = (
    "convert", "translate", "encode", "decode", "parse", "write", "show", "show me", "render", "rewrite",
    "turn", "express", "give me", "transform", "change", "put", "output", "print", "display", "represent",
    "transcribe", "spell", "read", "interpret", "reformat", "re-encode", "serialize", "serialise", "format",
)  # fmt: skip
_READ_VERBS = ("parse", "decode", "read", "interpret")
VALIDATE_VERBS = ("validate", "check", "verify", "lint", "test")
EXPLAIN_VERBS = (
    "explain", "describe", "parse and explain", "decode and explain", "interpret", "break down", "walk me through",
    "tell me about", "summarize", "summarise",
)  # fmt: skip
#: Words that may stand between a verb and the value or the format ("this complex contract").
ADJECTIVES = (
    "this", "that", "these", "those", "the", "a", "an", "my", "following", "given", "below", "above", "next",
    "whole", "complex", "simple", "small", "big", "large", "nested", "deep", "flat", "empty", "mixed", "short",
    "long", "example", "sample", "value", "values", "data", "input", "contract", "array", "arrays", "list",
    "object", "objects", "record", "map", "dict", "dictionary", "string", "number", "integer", "float", "handle",
    "bytes", "boolean", "structure", "expression", "one", "it", "thing", "snippet", "code",
)  # fmt: skip
#: The shorter list where a value is validated or explained ("contract 14" is a question there).
PLAIN_ADJECTIVES = ("this", "that", "the", "a", "an", "my", "following", "given", "below", "above", "value", "input", "data", "snippet", "code", "one", "it")  # fmt: skip
POLITENESS = ("please", "pls", "kindly", "hey", "hi", "hello", "ok", "okay", "now", "so", "can you", "could you", "would you", "will you", "can u", "i want you to", "i need you to", "i'd like you to", "help me", "let's")  # fmt: skip
ENDINGS = ("please", "pls", "thanks", "thank you", "thx")
EXPERT_ALIASES = {"runic": ("runic", "rune", "runes", "lc-r", "lcr"), "ascii": ("ascii", "lc-t", "lct"), "coordinator": ("coordinator", "main", "general")}  # fmt: skip

TAIL_WINDOW = 512  # characters at the end of a request in which the words after a value are read


def _words(words: tuple[str, ...] | list[str]) -> str:
    """An alternation of phrases, longest first, spaces matching any whitespace."""
    ordered = sorted(set(words), key=len, reverse=True)
    return "(?:" + "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in ordered) + ")"


_FORMAT = r"(?:the\s+)?" + _words(list(_ALIAS_FORMAT)) + r"(?![\w-])(?:\s+" + _words(_FORMAT_NOUNS) + r"(?![\w-]))?"
_ALL = (
    r"(?:(?:all|every|each)(?:\s+(?:of\s+the|the|four|4|hlx|supported|available|known))*\s+(?:formats?|notations?|encodings?)"
    r"|all\s+four|all\s+of\s+them)(?![\w-])"
)
_OTHERS = r"(?:all\s+)?(?:the\s+)?other(?:\s+(?:three|3|hlx))*\s+(?:formats|notations|encodings)(?![\w-])"
_SEPARATOR = r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+and\s+(?:also\s+)?|\s+or\s+|\s*&\s*|\s*/\s*|\s+plus\s+)"
_TARGETS = f"(?:{_ALL}|{_OTHERS}|{_FORMAT}(?:{_SEPARATOR}{_FORMAT})*)"
_FORMAT_MENTION = re.compile(_words(list(_ALIAS_FORMAT)) + r"(?![\w-])", re.I)


def _glyph_class() -> str:
    return "(?:" + "|".join(re.escape(glyph) for glyph in list(GLYPHS) + list(LEGACY_GLYPHS)) + ")"


_GLYPH_NAME_WORDS = [name.removeprefix("the ") for name in facts.GLYPH_NAMES.values()] + list(facts.GLYPH_SYNONYMS)


@dataclass(frozen=True)
class Slot:
    """One slot of a template: the pattern that reads it and how a phrasing fills it in."""

    pattern: str
    render: Callable[[random.Random, dict[str, Any]], str]


def _choice(*options: str) -> Callable[[random.Random, dict[str, Any]], str]:
    return lambda rng, params: rng.choice(options)


def _render_format(key: str) -> Callable[[random.Random, dict[str, Any]], str]:
    def render(rng: random.Random, params: dict[str, Any]) -> str:
        fmt = params[key]
        name = rng.choice(FORMAT_ALIASES[fmt]) if rng.random() < 0.6 else FORMAT_TITLES[fmt]
        roll = rng.random()
        if roll < 0.15:
            return f"{name} format"
        return f"the {name} format" if roll < 0.2 else name

    return render


def _render_targets(rng: random.Random, params: dict[str, Any]) -> str:
    targets = params["targets"]
    if targets == "all":
        return rng.choice(("all formats", "all HLX formats", "every format", "all four formats", "all the formats"))
    if targets == "others":
        return rng.choice(("the other formats", "all other formats", "the other three formats"))
    names = [_render_format("fmt")(rng, {"fmt": fmt}) for fmt in targets]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + rng.choice((" and ", ", and ", " & ")) + names[-1]


SLOTS: dict[str, Slot] = {
    "polite": Slot(
        r"(?:" + _words(POLITENESS) + r"(?![\w'-])[\s,!]*)+",
        _choice("please", "Please", "can you", "Could you", "could you please", "kindly", "hey,"),
    ),
    "verb": Slot(
        f"(?P<verb>{_words(CONVERT_VERBS)})(?![\\w-])",
        _choice("convert", "Convert", "translate", "Translate", "encode", "rewrite", "turn", "express", "render", "change"),
    ),
    "read_verb": Slot(f"(?P<verb>{_words(_READ_VERBS)})(?![\\w-])", _choice("parse", "Parse", "decode", "Decode", "read")),
    "show_verb": Slot(
        r"(?:show(?:\s+me)?|give\s+me|display|write|print|express|render)(?![\w-])",
        _choice("show", "Show me", "give me", "write", "display"),
    ),
    "validate_verb": Slot(f"{_words(VALIDATE_VERBS)}(?![\\w-])", _choice("validate", "Validate", "check", "Check", "verify")),
    "explain_verb": Slot(
        f"{_words(EXPLAIN_VERBS)}(?![\\w-])",
        _choice("explain", "Explain", "describe", "Describe", "parse and explain", "Parse and explain", "break down"),
    ),
    "adj": Slot(
        r"(?:" + _words(ADJECTIVES) + r"(?![\w-])\s*){1,5}",
        _choice("this", "the following", "this value", "complex contract", "nested array", "this simple"),
    ),
    "plain_adj": Slot(r"(?:" + _words(PLAIN_ADJECTIVES) + r"(?![\w-])\s*){1,3}", _choice("this", "the following", "this value", "the")),
    "to": Slot(r"(?:to|into|as)(?![\w-])", _choice("to", "into")),
    "in": Slot(r"(?:in|as|using)(?![\w-])", _choice("in", "as")),
    "to_in": Slot(r"(?:to|into|in|as)(?![\w-])", _choice("to", "into", "in")),
    "from": Slot(r"from(?![\w-])", _choice("from")),
    "source": Slot(f"(?P<source>{_FORMAT})", _render_format("source")),
    "format": Slot(f"(?P<format>{_FORMAT})", _render_format("format")),
    "targets": Slot(f"(?P<targets>{_TARGETS})", _render_targets),
    "noun": Slot(r"(?:value|text|input|data|code|string|snippet)(?![\w-])", _choice("value", "text", "input")),
    "valid": Slot(
        r"(?:valid|correct|well-formed|well\s+formed|legal|ok|okay|right|proper)(?![\w-])", _choice("valid", "correct", "well-formed")
    ),
    "is_this": Slot(
        r"(?:is|are)\s+(?:this|these|the\s+following|that|it)(?:\s+(?:a|an))?(?![\w-])",
        _choice("is this", "Is this", "is the following", "Is this a"),
    ),
    "wrong_with": Slot(
        r"(?:what(?:'s|\s+is|s)\s+wrong\s+with|what(?:'s|\s+is|s)\s+the\s+(?:error|problem|mistake)\s+(?:in|with)|find\s+the\s+(?:error|problem|mistake)\s+in|any\s+errors?\s+in|why\s+is\s+this\s+invalid)(?![\w-])",
        _choice("What's wrong with", "what is wrong with", "Find the error in", "What's the problem with"),
    ),
    "what_is": Slot(
        r"(?:what(?:'s|\s+is|s|\s+does)|how\s+(?:is|do\s+(?:i|you)\s+write|would\s+(?:i|you)\s+write|does\s+one\s+write))(?![\w-])",
        _choice("What is", "what's", "How is", "How do I write"),
    ),
    "look_like": Slot(
        r"(?:look\s+like|written|spelled|spelt|expressed|encoded|represented)(?![\w-])", _choice("written", "look like", "spelled")
    ),
    "about": Slot(
        r"(?:what(?:'s|\s+is|s|\s+does)|describe|explain|tell\s+me\s+about|define|what\s+do\s+you\s+know\s+about|meaning\s+of|info\s+on)(?![\w-])",
        _choice("What is", "what's", "Describe", "Explain", "Tell me about", "Define"),
    ),
    "the": Slot(r"the(?![\w-])", _choice("the")),
    "contract_word": Slot(
        r"contract(?:\s+(?:id|number|no\.|no|#))?(?![\w-])", _choice("contract", "Contract", "contract id", "contract number")
    ),
    "id": Slot(r"#?(?P<id>[0-9]+)(?![\w-])", lambda rng, params: str(params["id"])),
    "means": Slot(r"(?:mean|means|stand\s+for|do|represent|describe)(?![\w-])", _choice("mean", "stand for", "represent")),
    "format_noun": Slot(r"(?:format|notation|encoding)(?![\w-])", _choice("format", "notation")),
    "which_expert": Slot(
        r"(?:(?:which|what)(?:\s+(?:expert|specialist|model|adapter|one))?|who)\s+(?:handles|owns|answers|is\s+responsible\s+for|should\s+handle|takes\s+care\s+of|does|is\s+for|deals\s+with|works\s+on)(?![\w-])",
        _choice(
            "Which expert handles", "which specialist handles", "Who handles", "What model owns", "Which specialist is responsible for"
        ),
    ),
    "requests_noun": Slot(
        r"(?:instructions|requests|questions|conversions|translations|tasks|format|values)(?![\w-])",
        _choice("instructions", "requests", "conversions"),
    ),
    "when_use": Slot(
        r"(?:when\s+(?:should|do|would|can|must)\s+(?:i|we|you|one)\s+use|what\s+(?:is|does)|what's|tell\s+me\s+about|describe|why\s+(?:would|should)\s+(?:i|we)\s+use)(?![\w-])",
        _choice("When should I use", "when do I use", "What does", "When would I use"),
    ),
    "expert": Slot(
        "(?P<expert>" + _words([alias for aliases in EXPERT_ALIASES.values() for alias in aliases]) + r")(?![\w-])",
        lambda rng, params: rng.choice((params["expert"], params["expert"].capitalize())),
    ),
    "expert_word": Slot(r"(?:expert|specialist|model|adapter)(?![\w-])", _choice("expert", "specialist", "model")),
    "do_for": Slot(r"(?:do|for|handle|own)(?![\w-])", _choice("do")),
    "best_format": Slot(
        r"(?:(?:what|which)(?:'s|\s+is)?(?:\s+the)?\s+)?(?:(?:best|right|recommended|ideal|most\s+suitable|preferred|good)\s+)?(?:hlx\s+)?format(?:\s+(?:should\s+(?:i|we)\s+use|to\s+use|is\s+best|is\s+right|do\s+you\s+recommend))?(?![\w-])",
        _choice("Best format", "best format", "What is the best format", "Which format should I use", "which format is best"),
    ),
    "for": Slot(r"(?:for|when)(?![\w-])", _choice("for")),
    "purpose": Slot(r"(?P<purpose>[a-z0-9][a-z0-9 ,'/-]{0,79}?)", lambda rng, params: params["purpose"]),
    "glyph_q": Slot(
        r"(?:(?:what|which)(?:'s|\s+is)?\s+the\s+(?:(?:lc-r|lcr|runic)\s+)?(?:glyph|symbol|sign|character)\s+(?:for|of|that\s+means|meaning|used\s+for|that\s+marks)"
        r"|(?:which|what)\s+(?:(?:lc-r|lcr|runic)\s+)?(?:glyph|symbol)\s+(?:is|means|marks|denotes|represents|stands\s+for|is\s+used\s+for)"
        r"|how\s+does\s+(?:lc-r|lcr|runic)\s+(?:write|mark|show|denote|represent))(?![\w-])",
        _choice(
            "What is the LC-R glyph for",
            "what's the glyph for",
            "Which glyph marks",
            "Which LC-R glyph is",
            "How does LC-R write",
            "what is the runic symbol for",
        ),
    ),
    "article": Slot(r"(?:a|an|the)(?![\w-])", _choice("a", "the")),
    "gname": Slot("(?P<gname>" + _words(_GLYPH_NAME_WORDS) + r")(?![\w-])", lambda rng, params: params["gname"]),
    "in_lcr": Slot(r"(?:in|for)\s+(?:lc-r|lcr|runic)(?![\w-])", _choice("in LC-R", "in runic")),
    "what_does": Slot(r"(?:what\s+does|what\s+do)(?![\w-])", _choice("What does", "what does")),
    "the_glyph": Slot(
        r"(?:the\s+)?(?:(?:lc-r|lcr|runic)\s+)?(?:glyph|symbol|character|sign)(?![\w-])",
        _choice("the glyph", "the LC-R glyph", "the symbol"),
    ),
    "glyph": Slot(f"(?P<glyph>{_glyph_class()})", lambda rng, params: params["glyph"]),
    "meaning_of": Slot(r"(?:meaning\s+of|explain|describe)(?![\w-])", _choice("meaning of", "explain")),
    "end": Slot(r"(?:[\s,]*" + _words(ENDINGS) + r"(?![\w-]))?[\s?.!]*", _choice("", "", "?", ".", " please", "!", " please?")),
}

# --- templates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A phrasing of one family of requests: words, ``{slot}`` and optional ``{slot?}``
    items separated by spaces, at most one of them ``{value}``; ``a|b`` is a choice of
    literal words. ``held_out`` marks phrasings the corpus generator keeps out of training
    (to measure how a learned reader does on phrasings it never saw)."""

    family: str
    pattern: str
    held_out: bool = False

    @property
    def items(self) -> list[tuple[str, bool]]:
        """(item, optional) in order: a slot name in braces, or literal words."""
        return [(item.rstrip("?}") + "}" if item.endswith("?}") else item, item.endswith("?}")) for item in self.pattern.split(" ")]

    def render(self, rng: random.Random, **params: Any) -> str:
        """A random phrasing of this template with ``params`` (the value text, formats...)."""
        pieces: list[str] = []
        for item, optional in self.items:
            if optional and rng.random() < 0.5:
                continue
            if item == "{value}":
                text = params["value"]
            elif item.startswith("{"):
                text = SLOTS[item[1:-1]].render(rng, params)
            else:
                text = rng.choice(item.split("|"))
            if not text:
                continue
            glued = item in ("{end}", ":", "?") or (pieces and pieces[-1].endswith("\n"))
            pieces.append(text if glued or not pieces else " " + text)
        phrase = "".join(pieces)
        return phrase[:1].upper() + phrase[1:] if rng.random() < 0.5 and not phrase[:1] == "{" else phrase


_TIGHT = (":", "?", "{end}", "{value}")


def _item_pattern(item: str) -> str:
    """An item's pattern; a word item may not start just after a word character (the items
    are joined by optional whitespace, so "convertto" must not read as "convert to")."""
    if item.startswith("{"):
        pattern = SLOTS[item[1:-1]].pattern
    else:
        pattern = "(?:" + "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in item.split("|")) + ")"
        if item[-1:].isalnum():
            pattern += r"(?![\w-])"
    return pattern if item in _TIGHT else r"(?<![\w-])" + pattern


def _sequence(items: list[tuple[str, bool]], leading: bool) -> str:
    """The pattern of a run of items joined by optional whitespace; each optional item
    carries its whitespace with it: before it when ``leading`` (the words after a value),
    after it otherwise."""
    parts = []
    for item, optional in items:
        piece = r"\s*" + _item_pattern(item) if leading else _item_pattern(item) + r"\s*"
        parts.append(f"(?:{piece})?" if optional else piece)
    return "".join(parts)


@dataclass
class _Compiled:
    template: Template
    prefix: re.Pattern[str]
    suffix: re.Pattern[str] | None  # None: the template has no value


_COMPILED: list[_Compiled] = []


def _compile(template: Template) -> _Compiled:
    items = template.items
    names = [item for item, _ in items]
    if "{value}" not in names:
        whole = _sequence(items, False)
        return _Compiled(template, re.compile(r"\s*" + whole + r"\s*\Z", re.I), None)
    at = names.index("{value}")
    prefix = re.compile(r"\s*" + _sequence(items[:at], False), re.I)
    suffix = re.compile(_sequence(items[at + 1 :], True) + r"\s*\Z", re.I)
    return _Compiled(template, prefix, suffix)


#: The request description. Families: ``convert`` (a value to one, several or all formats),
#: ``others`` (a value labelled with its format: the other formats), ``validate``,
#: ``explain``, and the questions ``contract``, ``format_info``, ``expert_info``,
#: ``expert_use``, ``format_for``, ``glyph_for``, ``glyph_meaning``.
TEMPLATES: tuple[Template, ...] = (
    # conversions
    Template("convert", "{polite?} {verb} {adj?} {from?} {source?} {noun?} {to_in} {targets} : {value} {end}"),
    Template("convert", "{polite?} {verb} {adj?} {value} {to} {targets} {end}"),
    Template("convert", "{polite?} {verb} {adj?} {source} {noun?} {value} {to} {targets} {end}"),
    Template("convert", "{polite?} {verb} {adj?} {value} from {source} {to} {targets} {end}"),
    Template("convert", "{polite?} {from?} {source} {noun?} {to} {targets} : {value}"),
    Template("convert", "{polite?} {show_verb} {adj?} {value} {in} {targets} {end}"),
    Template("convert", "{what_is} {adj?} {value} {look_like?} {in} {targets} {end}", held_out=True),
    Template("convert", "{polite?} {read_verb} {adj?} {source?} {noun?} : {value} {end}"),
    Template("convert", "{polite?} {read_verb} {adj?} {value} {end}", held_out=True),
    Template("convert", "{polite?} {verb} {adj?} {value} {in} {targets} {end}", held_out=True),
    Template("others", "{source} {noun?} : {value}"),
    # validation
    Template("validate", "{polite?} {validate_verb} {plain_adj?} {source?} {noun?} : {value} {end}"),
    Template("validate", "{polite?} {validate_verb} {plain_adj?} {source?} {noun?} {value} {end}"),
    Template("validate", "{is_this} {valid} {source?} {noun?} ? {value}"),
    Template("validate", "is {value} {valid} {source?} {noun?} {end}", held_out=True),
    Template("validate", "{wrong_with} {plain_adj?} {source?} {noun?} : {value} {end}"),
    Template("validate", "{wrong_with} {plain_adj?} {source?} {noun?} {value} {end}"),
    # explanation
    Template("explain", "{polite?} {explain_verb} {plain_adj?} {source?} {noun?} : {value} {end}"),
    Template("explain", "{polite?} {explain_verb} {plain_adj?} {source?} {noun?} {value} {end}"),
    Template("explain", "{polite?} what is {plain_adj?} {source?} {noun?} {value} {end}", held_out=True),
    # questions
    Template("contract", "{polite?} {about} {the?} {contract_word} {id} {means?} {end}"),
    Template("format_info", "{polite?} {about} {format} {end}"),
    Template("format_info", "{what_does} {format} {means} {end}", held_out=True),
    Template("expert_info", "{which_expert} {format} {requests_noun?} {end}"),
    Template("expert_use", "{when_use} {the?} {expert} {expert_word} {do_for?} {end}"),
    Template("format_for", "{best_format} {for} {purpose} {end}"),
    Template("glyph_for", "{glyph_q} {article?} {gname} {in_lcr?} {end}"),
    Template("glyph_meaning", "{what_does} {the_glyph?} {glyph} {means} {in_lcr?} {end}"),
    Template("glyph_meaning", "{meaning_of} {the_glyph} {glyph} {in_lcr?} {end}"),
)
_COMPILED = [_compile(template) for template in TEMPLATES]

# --- requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A request, understood: its task, formats, value and the canonical instruction it is
    equivalent to (``render()``; the answer is that instruction's answer).

    ``task`` is ``"convert"``, ``"validate"``, ``"explain"``, ``"intent"``, ``"repair"``
    (complete or fix a damaged value: the mixture's) or ``"question"``;
    ``target_formats`` is the answer's formats in order (empty for a text answer);
    ``template`` is the :class:`Template` that read it, None for a canonical instruction.
    """

    text: str
    task: str
    source_format: str | None
    target_formats: tuple[str, ...]
    value_text: str | None
    instruction: Instruction
    template: Template | None = None
    value: Any = field(default=None, compare=False, repr=False)
    has_value: bool = field(default=False, compare=False, repr=False)

    def render(self) -> str:
        """The canonical instruction this request is equivalent to."""
        if self.template is None:  # a canonical instruction, as typed: in its form's spelling
            return canonical_text(self.instruction)
        return self.instruction.text


_CONVERT_TASKS = ("all_formats", "convert_to", "translate_hlxl_to", "parse", "lct_to_lcr", "lcr_to_lct", "all_formats_from", "translate_many", "translate_pair")  # fmt: skip


_CONVERT_TASKS_SET = frozenset(_CONVERT_TASKS)


def _request_of_instruction(
    text: str, instruction: Instruction, template: Template | None = None, value: Any = None, has_value: bool = False
) -> Request:
    task = instruction.form.task
    if task in _CONVERT_TASKS_SET:
        kind = "convert"
    elif task in ("validate", "validate_any", "explain"):
        kind = task.removesuffix("_any")
    elif task in ("intent", "intent_format"):
        kind = "intent"
    elif task in REPAIR_TASKS:
        kind = "repair"
    else:
        kind = "question"
    targets = instruction.targets if kind in ("convert", "intent") else ()
    return Request(text, kind, instruction.source_format, targets, instruction.value_text, instruction, template, value, has_value)


#: The instruction task of each question family of the description.
_QUESTION_TASKS = {
    "contract": "contract_info", "format_info": "format_info", "expert_info": "expert_info", "expert_use": "expert_use",
    "format_for": "format_for", "glyph_for": "glyph_for", "glyph_meaning": "glyph_meaning",
}  # fmt: skip


def render_instruction(task: str, *, value_text: str | None = None, source: str | None = None, targets: Any = None, **params: str) -> str:
    """The canonical instruction text of a request (the inverse of reading it).

    ``task``: ``"convert"`` (``source`` the value's format, ``targets`` a tuple of formats,
    ``"all"`` or ``"others"``), ``"validate"`` (``source`` may be None), ``"explain"``, or a
    question family with its parameter (``id``, ``format``, ``expert``, ``purpose``,
    ``gname``, ``glyph``)."""
    if task == "convert":
        assert source is not None and value_text is not None
        title = FORMAT_TITLES[source]
        if targets == "others":
            targets = tuple(fmt for fmt in ALL_FORMATS_ORDER if fmt != source)
        if targets == "all" or tuple(targets) == ALL_FORMATS_ORDER:
            return f"Translate {title} to all formats: {value_text}"
        if len(targets) == 1:
            single = instruction_for(source, targets[0], value_text)
            return single or f"Translate {title} to {FORMAT_TITLES[targets[0]]}: {value_text}"
        names = [FORMAT_TITLES[fmt] for fmt in targets]
        return f"Translate {title} to {', '.join(names[:-1])} and {names[-1]}: {value_text}"
    if task == "validate":
        return f"Validate {FORMAT_TITLES[source]}: {value_text}" if source else f"Validate: {value_text}"
    if task == "explain":
        return f"Explain {FORMAT_TITLES[source or 'hlxl']}: {value_text}"
    if task in _QUESTION_TASKS:  # the first canonical form of the question's task
        if "format" in params:
            params = {**params, "format": FORMAT_TITLES[params["format"]]}
        if "gname" in params:
            params = {"name": params["gname"]}
        return render(first_form(_QUESTION_TASKS[task]), **params)
    raise HLXError(f"unknown request task {task!r}")


# --- reading -------------------------------------------------------------------------


@dataclass
class _Reading:
    """One template's reading of a request, before its value is parsed."""

    compiled: _Compiled
    groups: dict[str, str]
    value_text: str | None
    understood: int  # characters of the request read as words

    @property
    def family(self) -> str:
        return self.compiled.template.family


def _formats_in(span: str) -> list[str]:
    found = [_ALIAS_FORMAT[" ".join(match.group(0).lower().split())] for match in _FORMAT_MENTION.finditer(span)]
    return list(dict.fromkeys(found))


def _one_format(span: str) -> str:
    return _formats_in(span)[0]


_FENCE = re.compile(r"\A```[^\n`]*\n(?P<body>.*)\n\s*```\Z", re.S)


def strip_value_quotes(text: str) -> str:
    """The value inside a fenced code block, backticks or single quotes, stripped. Double
    quotes are HLX string syntax and never removed."""
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        return fenced.group("body").strip()
    for mark in ("```", "`", "'"):
        if len(text) > 2 * len(mark) - 1 and text.startswith(mark) and text.endswith(mark):
            return text[len(mark) : -len(mark)].strip()
    return text


def _readings(body: str) -> list[_Reading]:
    readings = []
    tail_start = max(0, len(body) - TAIL_WINDOW)
    tail = body[tail_start:]
    for compiled in _COMPILED:
        head = compiled.prefix.match(body)
        if head is None:
            continue
        if compiled.suffix is None:
            readings.append(_Reading(compiled, _groups(head), None, len(body)))
            continue
        end = compiled.suffix.search(tail, max(0, head.end() - tail_start))
        if end is None:
            continue
        value_end = tail_start + end.start()
        if value_end < head.end():
            continue
        groups = {**_groups(head), **_groups(end)}
        value_text = strip_value_quotes(body[head.end() : value_end])
        if value_text[:1] in (":", "?", ","):
            continue  # words were left over before the value: another template reads them
        readings.append(_Reading(compiled, groups, value_text, head.end() + len(body) - value_end))
    return readings


def _groups(match: re.Match[str]) -> dict[str, str]:
    return {key: value for key, value in match.groupdict().items() if value is not None}


def _interpret(reading: _Reading, body: str) -> Request:
    """The request a reading means; HLXError (ParseError for the value) if it means none."""
    family, groups = reading.family, reading.groups
    template = reading.compiled.template
    if reading.value_text is not None and not reading.value_text:
        raise HLXError(f"the request {body[:60]!r} has no value to {family}")
    if family in ("convert", "others", "validate", "explain"):
        value_text = reading.value_text
        assert value_text is not None
        source = _one_format(groups["source"]) if "source" in groups else None
        if family == "validate":
            text = render_instruction("validate", value_text=value_text, source=source)
            return _request_of_instruction(body, _instruction(text), template)
        if source is None:
            source, value = detect_value(value_text)
        else:
            value = DECODERS[source](value_text)
        if family == "explain":
            text = render_instruction("explain", value_text=value_text, source=source)
        elif family == "others":
            text = render_instruction("convert", value_text=value_text, source=source, targets="others")
        else:
            text = render_instruction("convert", value_text=value_text, source=source, targets=_targets(groups, body, value_text))
        return _request_of_instruction(body, _instruction(text), template, value, True)
    if family == "contract":
        text = render_instruction("contract", id=groups["id"])
    elif family in ("format_info", "expert_info"):
        text = render_instruction(family, format=_one_format(groups["format"]))
    elif family == "expert_use":
        word = groups["expert"].lower()
        expert = next(name for name, aliases in EXPERT_ALIASES.items() if word in aliases)
        text = render_instruction("expert_use", expert=expert)
    elif family == "format_for":
        found = facts.purpose_format(groups["purpose"])
        if found is None:
            purposes = "; ".join(f"{phrase} ({', '.join(keywords[:3])}...)" for phrase, _, keywords in facts.FORMAT_PURPOSES)
            raise HLXError(
                f"the purpose {groups['purpose']!r} names no one format's use (or several); known purposes: {purposes}; "
                "did you mean `Which format is best for a binary protocol?`"
            )
        text = render_instruction("format_for", purpose=found[0])
    elif family == "glyph_for":
        name = facts.glyph_name(groups["gname"])
        assert name is not None  # the slot only matches known names
        text = render_instruction("glyph_for", gname=name)
    else:
        text = render_instruction("glyph_meaning", glyph=groups["glyph"])
    return _request_of_instruction(body, _instruction(text), template)


def _instruction(text: str) -> Instruction:
    parsed = match_instruction(text)
    assert parsed is not None, text  # every canonical rendering is an instruction form
    return parsed


def _targets(groups: dict[str, str], body: str, value_text: str) -> Any:
    span = groups.get("targets")
    if span is None:
        if re.fullmatch(_words(_READ_VERBS), groups.get("verb", ""), re.I):
            return ("hlxl",)
        raise HLXError(
            f"the request {body[:60]!r} names no format to convert to; did you mean `Translate HLXL to all formats: {value_text[:60]}`?"
        )
    if re.fullmatch(_OTHERS, span, re.I):
        return "others"
    if re.fullmatch(_ALL, span, re.I):
        return "all"
    formats = _formats_in(span)
    if re.search(r"(?<![\w-])or(?![\w-])", span, re.I) and len(formats) > 1:
        choices = " or ".join(f"`Convert to {FORMAT_TITLES[fmt]}: ...`" for fmt in formats)
        raise NotUnderstood(
            f"ambiguous request {body[:60]!r}: it asks for {' or '.join(FORMAT_TITLES[f] for f in formats)}, not which one; did you mean {choices}, or all of them (`... to {' and '.join(FORMAT_TITLES[f] for f in formats)}`)?"
        )
    return tuple(formats)


_TRAILING_NOISE = re.compile(r"(?:[\s,]*" + _words(ENDINGS) + r"(?![\w-]))?[\s?.!]*\Z", re.I)


def parse_request(text: str) -> Request:
    """Understand a request written the way people write them.

    A canonical instruction (``hlx_formats.instructions.FORMS``) keeps its one meaning,
    source format included. Anything else is read by every :data:`TEMPLATES` entry; the
    readings whose value parses and whose formats are known are kept. One meaning: that
    request. Two readings with different answers: HLXError ("ambiguous"). None: the
    error of the reading that understood most of the request (a ParseError when that is
    its value), or HLXError with the closest canonical phrasing."""
    if not isinstance(text, str):
        raise HLXError(f"a request must be str, not {type(text).__name__}")
    body = unwrap(text)
    canonical = match_instruction(body)
    if canonical is not None and canonical.value_text and (canonical.value_text[-1] in "?.!" or canonical.value_text[-1].isalpha()):
        # trailing punctuation or "please" after the value: no value ends in them
        noise = _TRAILING_NOISE.search(canonical.value_text[-TAIL_WINDOW:])
        if noise is not None and noise.start() > 0:
            cut = len(canonical.value_text) - len(canonical.value_text[-TAIL_WINDOW:]) + noise.start()
            body = body[: len(body) - len(canonical.value_text) + cut]
            canonical = match_instruction(body)
    if canonical is not None and canonical.value_text and canonical.value_text[0] in "`'":
        # the same instruction with its value out of a code block, backticks or quotes
        bare = strip_value_quotes(canonical.value_text)
        if bare != canonical.value_text:
            body = body[: len(body) - len(canonical.value_text)] + bare
            canonical = match_instruction(body)
    if canonical is not None and canonical.form.task == "routing" and match_instruction(canonical.params["instruction"].strip()) is None:
        # a routing question about a request in other words: about its canonical instruction
        inner = parse_request(canonical.params["instruction"])
        canonical = match_instruction(body[: len(body) - len(canonical.params["instruction"].strip())] + inner.render())
    if canonical is not None:
        return _request_of_instruction(body, canonical)
    readings = sorted(_readings(body), key=lambda reading: -reading.understood)
    understood: list[Request] = []
    failures: list[HLXError] = []
    for reading in readings:
        try:
            understood.append(_interpret(reading, body))
        except HLXError as error:
            failures.append(error)
    meanings = list({request.render(): request for request in understood}.values())
    if len(meanings) > 1:
        meanings = _distinct_answers(meanings)
    if len(meanings) > 1 and all(request.task == "validate" for request in meanings):
        # every slicing of a request validates to some answer: a slicing whose value is
        # valid is the reading; with none valid, the one that read most of it as words
        valid = [request for request in meanings if _answer_of(request).startswith("Valid ")]
        meanings = valid or meanings[:1]
    if len(meanings) == 1:
        return meanings[0]
    if len(meanings) > 1:
        options = " or ".join(f"`{request.render()[:80]}`" for request in meanings)
        raise NotUnderstood(
            f"ambiguous request {body[:60]!r}: it reads as {len(meanings)} requests with different answers; did you mean {options}?"
        )
    if failures:
        raise failures[0]
    raise NotUnderstood(
        f"unrecognised request {body[:60]!r}: {_closest(body)}\ntranslate() answers these forms, and phrasings of them (docs/api.md):\n  {forms_overview()}"
    )


def _answer_of(request: Request) -> str:
    return answer(request.instruction, value=request.value) if request.has_value else answer(request.instruction)


def _distinct_answers(requests: list[Request]) -> list[Request]:
    """One request per distinct answer (readings that agree are one meaning), in order."""
    by_answer: dict[str, Request] = {}
    for request in requests:
        by_answer.setdefault(_answer_of(request), request)
    return list(by_answer.values())


_VALUE_START = re.compile(r"[\[{\"`0-9@&#∅⊤⊥⊠⟁◇🜊🜃🐊🐃-]|(?<![\w-])(?:null|true|false)(?![\w-])", re.I)
_TRAILING_FORMATS = re.compile(r"\s+(?:(?:to|into|in|as)\s+)?" + _TARGETS + r"[\s?.!]*\Z", re.I)
_KNOWN_VERBS = CONVERT_VERBS + VALIDATE_VERBS + EXPLAIN_VERBS


def _closest(body: str) -> str:
    """What was understood of an unrecognised request, and the closest canonical phrasing."""
    start = body.find(": ") + 2 if ": " in body[:80] else None
    if start is None:
        found = _VALUE_START.search(body)
        start = found.start() if found else len(body)
    head, value_text = body[:start], body[start:].strip()
    tail = ""
    window = value_text[-TAIL_WINDOW:]
    trailing = _TRAILING_FORMATS.search(window)
    if trailing is not None:
        cut = len(value_text) - len(window) + trailing.start()
        value_text, tail = value_text[:cut].strip(), value_text[cut:]
    formats = _formats_in(head + " " + tail)
    notes = []
    first = head.split()[0].lower() if head.split() else ""
    close = difflib.get_close_matches(first, _KNOWN_VERBS, n=1, cutoff=0.75)
    if first and close and close[0] != first:
        notes.append(f"{first!r} is not a verb this understands ({close[0]!r}?)")
    if formats:
        notes.append("formats named: " + ", ".join(FORMAT_TITLES[fmt] for fmt in formats))
    value_shown = value_text[:60] or "<value>"
    source = None
    if value_text:
        try:
            source = detect_value(value_text)[0]
            notes.append(f"a {FORMAT_TITLES[source]} value: {value_shown}")
        except ParseError:
            notes.append(f"no value that parses in {value_shown!r}")
    target = formats[-1] if formats else ("lc-r" if source != "lc-r" else "lc-t")
    if source is not None and source != target:
        suggestion = render_instruction("convert", value_text=value_shown, source=source, targets=(target,))
    else:
        suggestion = f"Convert to {FORMAT_TITLES[target]}: {value_shown}"
    understood = "; ".join(notes) if notes else "no task, format or value recognised"
    return f"{understood}; did you mean `{suggestion}`?"
