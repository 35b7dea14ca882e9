"""The instructions that ``translate`` answers, in the corpus phrasing, and who owns them.

One table (:data:`FORMS`) both renders prompts (for the corpus generator) and parses them
(for ``translate`` and the router), so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import facts
from .errors import HLXError, ParseError
from .formats import DECODERS, ENCODERS, detect_value
from .grammar import FORMAT_TITLES, FORMATS, normalize_format
from .lcr import GLYPHS, LEGACY_GLYPHS
from .model import Contract, Handle

__all__ = [
    "Instruction", "Form", "FORMS", "REPAIR_TASKS", "ALL_FORMATS_ORDER", "parse_instruction", "match_instruction", "unwrap", "answer",
    "route", "render", "first_form", "canonical_text", "instruction_for", "forms_overview", "join_labelled",
    "split_labelled",
]  # fmt: skip

_FORMAT_WORD = r"(?:LC-R|LC-T|LC-B|HLXL)"


@dataclass(frozen=True)
class Form:
    """One phrasing of one task: ``template`` with ``{placeholders}``."""

    task: str
    template: str
    source: str | None = None  # fixed source format of the value part
    target: str | None = None  # fixed target: a format, "all" or "text"
    prefix: str = ""  # what the answer starts with ("HLXL: ")

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.template)


_PLACEHOLDERS = {
    "target": f"(?P<target>{_FORMAT_WORD})",
    "source": f"(?P<source>{_FORMAT_WORD})",
    "format": f"(?P<format>{_FORMAT_WORD})",
    "value": r"(?P<value>.*)",
    "instruction": r"(?P<instruction>.+)",
    "glyph": r"(?P<glyph>\S+?)",
    # a glyph's name or one of its synonyms (hlx_formats.facts), after an optional article
    "name": r"(?P<name>(?:(?:a|an|the) )?(?:"
    + "|".join(
        re.escape(name)
        for name in sorted(
            {name.removeprefix("the ") for name in facts.GLYPH_NAMES.values()} | set(facts.GLYPH_SYNONYMS), key=len, reverse=True
        )
    )
    + "))",
    "id": r"(?P<id>[0-9]+)",
    "op": r"(?P<op>[a-z]+)",
    "targets": f"(?P<targets>{_FORMAT_WORD}(?:, {_FORMAT_WORD})* and {_FORMAT_WORD})",
    "expert": r"(?P<expert>runic|ascii|coordinator)",
    "purpose": "(?P<purpose>" + "|".join(re.escape(phrase) for phrase, _, _ in facts.FORMAT_PURPOSES) + ")",
    "args": r"(?P<args>[A-Za-z_][A-Za-z0-9_]*(?: and [A-Za-z_][A-Za-z0-9_]*)?)",
    "a0": r"(?P<a0>[A-Za-z_][A-Za-z0-9_]*)",
    "a1": r"(?P<a1>[A-Za-z_][A-Za-z0-9_]*)",
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(template: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(template)
    if pattern is None:
        parts = re.split(r"(\{[a-z0-9]+\})", template)
        regex = "".join(_PLACEHOLDERS[p[1:-1]] if p.startswith("{") else re.escape(p) for p in parts)
        pattern = _PATTERNS[template] = re.compile(r"\s*" + regex + r"\s*\Z", re.I | re.S)
    return pattern


#: Every instruction form, in matching order (the first that matches wins).
FORMS: tuple[Form, ...] = (
    # Format tasks: the answer is a value in a format.
    Form("all_formats", "Translate HLXL to all formats: {value}", source="hlxl", target="all"),
    Form("convert_to", "Convert to {target}: {value}", source="hlxl"),
    Form("translate_hlxl_to", "Translate HLXL to {target}: {value}", source="hlxl"),
    Form("parse", "Parse {source}: {value}", target="hlxl", prefix="HLXL: "),
    Form("lct_to_lcr", "Convert this to Runic glyphs: {value}", source="lc-t", target="lc-r"),
    Form("lcr_to_lct", "Convert this to text-safe format: {value}", source="lc-r", target="lc-t"),
    # Repairs: the value part is a cut or mistyped value of the named format (it does not
    # parse); the answer is a whole value in that format. Learned tasks: no reference answer.
    Form("complete", "Complete this {target}: {value}"),
    Form("fix", "Fix this {target}: {value}"),
    # Plain-English intents: a contract 1000 in HLXL, or in the named format.
    Form("intent_format", "Encode a {op} operation on {args} in {format}"),
    *(Form("intent", phrase.format("{a0}", "{a1}")) for phrase, _ in facts.OPERATIONS.values()),
    # Questions, answered from hlx_formats.facts.
    Form("routing", "Which expert should handle this: {instruction}", target="text"),
    Form("routing", "Route this instruction: {instruction}", target="text"),
    Form("routing", "Which expert answers: {instruction}", target="text"),
    Form("glyph_meaning", "What does {glyph} mean in LC-R?", target="text"),
    Form("glyph_meaning", "What does the LC-R glyph {glyph} stand for?", target="text"),
    Form("glyph_meaning", "Explain the glyph {glyph}.", target="text"),
    Form("glyph_for", "Which LC-R glyph is {name}?", target="text"),
    Form("glyph_for", "What is the LC-R glyph for {name}?", target="text"),
    Form("glyph_for", "How does LC-R write {name}?", target="text"),
    Form("contract_info", "What is contract {id}?", target="text"),
    Form("contract_info", "What does contract {id} mean?", target="text"),
    Form("contract_info", "Describe contract {id}.", target="text"),
    Form("format_info", "What is {format}?", target="text"),
    Form("format_info", "Describe the {format} format.", target="text"),
    Form("format_info", "Tell me about {format}.", target="text"),
    Form("expert_info", "Which expert handles {format}?", target="text"),
    Form("expert_info", "Who handles {format} instructions?", target="text"),
    Form("expert_info", "Which expert owns {format}?", target="text"),
    # The canonical forms of the request description's other tasks (hlx_formats.requests):
    # after every form above, so that no instruction above reads differently.
    Form("all_formats_from", "Translate {source} to all formats: {value}", target="all"),
    Form("translate_many", "Translate {source} to {targets}: {value}", target="many"),
    Form("translate_pair", "Translate {source} to {target}: {value}"),
    Form("validate", "Validate {source}: {value}", target="text"),
    Form("validate_any", "Validate: {value}", target="text"),
    Form("explain", "Explain {source}: {value}", target="text"),
    Form("expert_use", "When should I use the {expert} expert?", target="text"),
    Form("format_for", "Which format is best for {purpose}?", target="text"),
)
#: Each form with its compiled pattern, in matching order (read for every instruction).
_FORM_PATTERNS = tuple((form, form.pattern) for form in FORMS)

#: The tasks whose answer is a guess at a damaged value (a cut or a typo): the mixture's
#: experts learn them and :func:`answer` refuses them.
REPAIR_TASKS = frozenset({"complete", "fix"})

#: The order of the lines of an all-formats answer.
ALL_FORMATS_ORDER = ("hlxl", "lc-r", "lc-t", "lc-b")


def join_labelled(formats: tuple[str, ...], texts: list[str]) -> str:
    """A labelled answer: one ``TITLE: text`` line per format, in order."""
    return "\n".join(f"{FORMAT_TITLES[fmt]}: {text}" for fmt, text in zip(formats, texts))


def split_labelled(answer: str, formats: tuple[str, ...]) -> list[str] | None:
    """The texts of a labelled answer for ``formats`` (in that order); None if ``answer`` is
    not one (other labels, another order, another number of lines)."""
    lines = answer.split("\n")
    if len(lines) != len(formats):
        return None
    texts = []
    for fmt, line in zip(formats, lines):
        label = f"{FORMAT_TITLES[fmt]}: "
        if not line.startswith(label):
            return None
        texts.append(line[len(label) :])
    return texts


_WRAPPER_START, _WRAPPER_END = "### Instruction:", "### Response:"


@dataclass(frozen=True)
class Instruction:
    """A parsed instruction.

    ``source_format`` is the format of the value part (None when there is none);
    ``target_format`` is a format name, ``"all"`` (four lines), ``"many"`` (one labelled line
    per format of :attr:`targets`) or ``"text"`` (a sentence).
    """

    text: str
    form: Form
    source_format: str | None
    target_format: str
    value_text: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """The task name, with the formats it involves: ``convert_to_lcr``, ``parse_lct``..."""
        task = self.form.task
        if task in ("convert_to", "translate_hlxl_to"):
            return f"{task}_{self.target_format.replace('-', '')}"
        if task == "parse":
            assert self.source_format is not None  # a parse form always has a value part
            return f"parse_{self.source_format.replace('-', '')}"
        return task

    @property
    def prefix(self) -> str:
        return self.form.prefix

    @property
    def targets(self) -> tuple[str, ...]:
        """The formats of the answer, in its order: one, the four, several, or none (text)."""
        if self.target_format == "all":
            return ALL_FORMATS_ORDER
        if self.target_format == "many":
            return tuple(normalize_format(word) for word in re.split(r", | and ", self.params["targets"]))
        return () if self.target_format == "text" else (self.target_format,)

    @property
    def answers_in_format(self) -> bool:
        """True when the answer is a value in a format (constrained decoding applies)."""
        return self.target_format != "text"


def unwrap(text: str) -> str:
    """The instruction inside the corpus prompt wrapper, or the text itself, stripped.

    Read with string methods, not a regular expression, so that the cost stays linear in
    the text's length whatever whitespace surrounds the instruction."""
    body = text.strip()
    if not body.startswith(_WRAPPER_START):
        return body
    body = body[len(_WRAPPER_START) :].strip()
    return body.removesuffix(_WRAPPER_END).rstrip() if body.endswith(_WRAPPER_END) else body


def parse_instruction(text: str) -> Instruction:
    """Recognise an instruction (see :data:`FORMS`); HLXError listing the forms if none fits."""
    if not isinstance(text, str):
        raise HLXError(f"an instruction must be str, not {type(text).__name__}")
    body = unwrap(text)
    parsed = match_instruction(body)
    if parsed is not None:
        return parsed
    raise HLXError(f"unrecognised instruction {body[:60]!r}; translate() answers forms like:\n  {forms_overview()}")


def forms_overview() -> str:
    """The canonical forms, one per line (for error messages)."""
    return "\n  ".join(dict.fromkeys(form.template.replace("{value}", "<value>") for form in FORMS if form.task != "intent"))


def match_instruction(body: str) -> Instruction | None:
    """The instruction ``body`` (already unwrapped) is, in the first form of :data:`FORMS`
    that fits it; None when none does."""
    for form, pattern in _FORM_PATTERNS:
        match = pattern.match(body)
        if match is None:
            continue
        params = {key: value for key, value in match.groupdict().items() if value is not None}
        source = normalize_format(params["source"]) if "source" in params else form.source
        target = form.target
        if "target" in params:
            target = normalize_format(params["target"])
        elif form.task in ("intent", "intent_format"):
            target = normalize_format(params["format"]) if "format" in params else "hlxl"
        value_text = params["value"].strip() if "value" in params else None
        return Instruction(body, form, source, target or "text", value_text, params)
    return None


def canonical_text(instruction: Instruction) -> str:
    """The instruction in its own form's canonical spelling: format names as titles
    (``lc-r`` -> ``LC-R``), known glyph names and purposes as the facts table writes
    them, the form's capitals, one space where the form has one."""
    params = dict(instruction.params)
    for key in ("target", "source", "format"):
        if key in params:
            params[key] = FORMAT_TITLES[normalize_format(params[key])]
    if "targets" in params:
        params["targets"] = re.sub(r"[^ ,]+(?= and|,|$)", lambda m: FORMAT_TITLES[normalize_format(m.group(0))], params["targets"])
    if "value" in params:
        params["value"] = instruction.value_text or ""
    if "expert" in params:
        params["expert"] = params["expert"].lower()
    if "purpose" in params:
        params["purpose"] = next(phrase for phrase, _, _ in facts.FORMAT_PURPOSES if phrase.lower() == params["purpose"].lower())
    if "name" in params:
        params["name"] = facts.glyph_name(re.sub(r"^(?:a|an)\s+", "", params["name"].strip(), flags=re.I)) or params["name"]
    if "op" in params:
        params["op"] = params["op"].lower()
    try:
        return render(instruction.form, **params)
    except (KeyError, IndexError):  # a form whose template has no placeholders to fill
        return instruction.text


def render(form: Form, **params: str) -> str:
    """The instruction text of ``form`` with its placeholders filled in."""
    return form.template.format(**params)


def first_form(task: str) -> Form:
    """The first (canonical) form of a task in :data:`FORMS`."""
    return next(form for form in FORMS if form.task == task)


def instruction_for(source: str, target: str, value_text: str) -> str | None:
    """The one instruction that translates ``value_text`` (in format ``source``) to format
    ``target``, in the corpus phrasing: ``Convert to LC-R: ...`` from HLXL, ``Parse LC-B:
    ...`` to HLXL (also from HLXL to HLXL), ``Convert this to Runic glyphs: ...`` from LC-T to
    LC-R and back. None where no single instruction goes (LC-B to or from LC-T or LC-R)."""
    source, target = normalize_format(source), normalize_format(target)
    if target == "hlxl":
        return render(first_form("parse"), source=FORMAT_TITLES[source], value=value_text)
    if source == "hlxl":
        return render(first_form("convert_to"), target=FORMAT_TITLES[target], value=value_text)
    for form in FORMS:
        if (form.source, form.target) == (source, target):
            return render(form, value=value_text)
    return None


# --- answers -------------------------------------------------------------------------


def _intent_contract(instruction: Instruction) -> Contract:
    params = instruction.params
    if instruction.form.task == "intent_format":
        operation = params["op"]
        if operation not in facts.OPERATIONS:
            raise HLXError(f"unknown operation {operation!r}; known: {', '.join(facts.OPERATIONS)}")
        handles = params["args"].split(" and ")
    else:
        operation = next(op for op, (phrase, _) in facts.OPERATIONS.items() if phrase.format("{a0}", "{a1}") == instruction.form.template)
        handles = [params[key] for key in ("a0", "a1") if key in params]
    fields: dict[int, Any] = {0: operation}
    for position, name in enumerate(handles, start=1):
        fields[position] = Handle(name)
    return Contract(1000, fields)


def _glyph_for(name: str) -> str:
    words = name.lower().split()
    if words[:1] in (["a"], ["an"]):
        words = words[1:]
    wanted = facts.glyph_name(" ".join(words)) or " ".join(words)
    for glyph, glyph_name in facts.GLYPH_NAMES.items():
        if glyph_name in (wanted, "the " + wanted):
            return f"{glyph_name[0].upper()}{glyph_name[1:]} is written {glyph} (U+{ord(glyph):04X}) in LC-R."
    raise HLXError(f"no LC-R glyph is called {name!r}; known: {', '.join(facts.GLYPH_NAMES.values())}")


def _text_answer(instruction: Instruction) -> str:
    task, params = instruction.form.task, instruction.params
    if task == "routing":
        expert, reason = route(parse_instruction(params["instruction"]))
        return f"{expert}: {reason}"
    if task == "glyph_meaning":
        glyph = params["glyph"]
        if glyph not in GLYPHS and glyph not in LEGACY_GLYPHS:
            raise HLXError(f"{glyph!r} is not an LC-R glyph")
        return facts.glyph_answer(glyph)
    if task == "glyph_for":
        return _glyph_for(params["name"])
    if task == "contract_info":
        return facts.contract_answer(params["id"])
    if task == "expert_use":
        return facts.expert_use_answer(params["expert"].lower())
    if task == "format_for":
        return facts.purpose_answer(params["purpose"].lower() if params["purpose"].lower() != "ascii-only text" else "ASCII-only text")
    if task in ("validate", "validate_any"):
        return _validation(instruction)
    if task == "explain":
        assert instruction.source_format is not None  # an explain form always has a value part
        value = DECODERS[instruction.source_format](instruction.value_text)
        return f"This {FORMAT_TITLES[instruction.source_format]} value is {facts.explanation(value)}."
    fmt = normalize_format(params["format"])
    if task == "format_info":
        return facts.FORMATS_INFO[fmt]
    expert = {"lc-r": "runic", "lc-t": "ascii"}.get(fmt, "coordinator")
    return f"The {expert} expert handles {FORMAT_TITLES[fmt]}: it owns {facts.EXPERTS[expert]}."


def _validation(instruction: Instruction) -> str:
    """``Valid <F>: <summary>`` or ``Invalid <F>: <where and why it fails>``."""
    value_text = instruction.value_text or ""
    try:
        if instruction.source_format is None:
            fmt, value = detect_value(value_text)
        else:
            fmt, value = instruction.source_format, DECODERS[instruction.source_format](value_text)
    except ParseError as error:
        return f"Invalid {FORMAT_TITLES[error.format]}: line {error.line}, column {error.column}: {error.reason}"
    return f"Valid {FORMAT_TITLES[fmt]}: {facts.summary(value)}"


_UNREAD = object()


def answer(instruction: Instruction | str, *, value: Any = _UNREAD) -> str:
    """The reference answer to an instruction; ``value``: its value, already read from
    its value text (so that it is not read twice)."""
    if not isinstance(instruction, Instruction):
        instruction = parse_instruction(instruction)
    if instruction.form.task in REPAIR_TASKS:
        what = "what was cut from" if instruction.form.task == "complete" else "what was mistyped in"
        raise HLXError(
            f"{instruction.text[:60]!r} asks for a guess at {what} a value, which the reference does not make: "
            "the mixture of experts answers it (translate(text, backend='moe'))"
        )
    if instruction.form.task in ("intent", "intent_format"):
        return ENCODERS[instruction.target_format](_intent_contract(instruction))
    if instruction.target_format == "text":
        return _text_answer(instruction)
    if value is _UNREAD:
        assert instruction.source_format is not None  # every form left (a value to convert) has a value part
        value = DECODERS[instruction.source_format](instruction.value_text)
    if instruction.target_format in ("all", "many"):
        return join_labelled(instruction.targets, [ENCODERS[fmt](value) for fmt in instruction.targets])
    return instruction.prefix + ENCODERS[instruction.target_format](value)


def route(instruction: Instruction | str) -> tuple[str, str]:
    """Which expert owns an instruction, and why: ``("runic", "the target format is LC-R")``.

    Format tasks go to the specialist of their target format, else of their source format
    (LC-R: runic, LC-T: ascii); everything else (LC-B, HLXL, all formats, questions,
    intents) to the coordinator.
    """
    if not isinstance(instruction, Instruction):
        instruction = parse_instruction(instruction)
    task = instruction.form.task
    if task in ("intent", "intent_format"):
        return "coordinator", "a plain-English intent"
    if instruction.target_format == "text":
        return "coordinator", "a question about the formats" if task != "routing" else "a routing question"
    if instruction.target_format == "all":
        return "coordinator", "a translation to all formats"
    if instruction.target_format == "many":
        return "coordinator", "a translation to several formats"
    for side, fmt in (("target", instruction.target_format), ("source", instruction.source_format)):
        if fmt == "lc-r":
            return "runic", f"the {side} format is LC-R"
        if fmt == "lc-t":
            return "ascii", f"the {side} format is LC-T"
    formats = sorted({FORMAT_TITLES[f] for f in (instruction.source_format, instruction.target_format) if f in FORMATS})
    return "coordinator", f"no specialist owns {' and '.join(formats)}"
