"""The coordinator's rewrite task (``corpora/rewrites/``): free-form requests and the
canonical instruction each one means.

A row's input is ``Rewrite as an instruction: <request>`` and its output the canonical
instruction (:mod:`hlx_formats.rewrites`), so every row has a reference answer: the
instruction's. Requests come in variations (:data:`VARIATIONS`): phrasings of the request
description as it renders them, the same with a typo in a verb or a format name, with extra
words, in word orders and with verbs the description does not know (:data:`FREE_PATTERNS`,
other languages' verbs among them), and requests for none of the tasks
(:data:`~hlx_formats.rewrites.NOT_A_REQUEST`). Phrasing families marked held out
(:data:`HELD_OUT_VERBS`, :data:`HELD_OUT_ALIASES`, held-out patterns and templates, held-out
off-topic requests) appear only in the test split, marked ``held_out_phrasing``: they
measure generalisation to phrasings no training example has.

One row in :data:`REPAIR_REQUEST_SHARE` holds a broken value (a value's text cut short or with
one typo): it asks to complete or fix it (:data:`REPAIR_PATTERNS`; the row keeps the
``original`` text, by which the answer is graded) or converts it (``Not an HLX request.``:
no rewrite answers that, the value's parse error does).

A second set of families no training or test row has (:data:`VALIDATION_FAMILIES`) makes the
held-out half of the validation split (``validation_held_out.jsonl``, also marked
``held_out_phrasing``): the refusal threshold is chosen on both halves, so that it is
calibrated on phrasings the coordinator never saw without looking at the test split.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hlx_formats import detect_format, to_hlxl
from hlx_formats.api import ENCODERS
from hlx_formats.errors import HLXError
from hlx_formats.instructions import ALL_FORMATS_ORDER, match_instruction
from hlx_formats.lcr import GLYPHS
from hlx_formats.repairs import truncate, typo
from hlx_formats.requests import _ALIAS_FORMAT, FORMAT_ALIASES, TEMPLATES, parse_request, render_instruction
from hlx_formats.rewrites import MAX_REWRITE_CHARS, NOT_A_REQUEST, rewrite_prompt, rewrite_space

from .examples import split_of
from .repairs import repair_instruction
from .spec import REWRITE_COUNTS, SPLITS, CorpusSpec, prompt_of
from .values import KNOWN_IDS, ValueGenerator

__all__ = [
    "REWRITE_COUNTS", "VARIATIONS", "FREE_PATTERNS", "HELD_OUT_VERBS", "HELD_OUT_ALIASES", "HELD_OUT_VALIDATION", "TEST_FAMILIES",
    "VALIDATION_FAMILIES", "HeldOutFamilies", "rewrite_rows", "rewrite_stats", "validation_held_out_rows",
]  # fmt: skip

#: Rows per split; about half the test split is held-out phrasing families.
MAX_VALUE_CHARS = 80

VERBS = ("convert", "translate", "turn", "change", "make", "put", "render", "write", "encode", "express", "rewrite", "show")
FOREIGN_VERBS = ("convertir", "convierte", "konvertiere", "übersetze", "traduire", "traduis", "traduci", "converti", "converta", "omzetten", "traduz")  # fmt: skip
HELD_OUT_VERBS = ("transcode", "port", "recast", "transliterate", "migrate", "morph")
EXTRA_ALIASES = {
    "hlxl": ("hlx-l", "HLX L", "readable format", "plain HLXL"),
    "lc-t": ("LC T", "LCT format", "ascii format", "the text one"),
    "lc-r": ("LC R", "LCR format", "rune format", "runic"),
    "lc-b": ("LC B", "LCB format", "binary notation", "lcb text"),
}
#: Format spellings that appear only in the test split.
HELD_OUT_ALIASES = {
    "hlxl": ("H.L.X.L", "human readable HLX"),
    "lc-t": ("L.C.T", "ascii-safe notation", "lc/t"),
    "lc-r": ("L.C.R", "runic script", "lc/r", "rune notation"),
    "lc-b": ("L.C.B", "lc/b", "binary-text notation"),
}
FILLERS_BEFORE = ("quick question:", "ok so", "hey there,", "I have some data.", "for my project,", "real quick -", "umm", "hello!")  # fmt: skip
FILLERS_AFTER = ("for me", "real quick", "if you can", "asap", "thanks a lot", "no explanation needed", "please and thank you", "when you get a chance")  # fmt: skip

#: Conversion phrasings the request description does not read: ``(pattern, held_out)``.
#: ``{verb}``, ``{value}``, ``{target}`` (a format's name) and ``{source}`` are filled in.
FREE_PATTERNS: tuple[tuple[str, bool], ...] = (
    ("{value} to {target}", False),
    ("{value} -> {target}", False),
    ("{value} in {target} please", False),
    ("{target} version of {value}", False),
    ("I need {value} as {target}", False),
    ("how do you say {value} in {target}", False),
    ("{verb} {value} {target}", False),
    ("to {target}: {value}", False),
    ("{target} of {value}?", False),
    ("{verb} this to {target} {value}", False),
    ("can I get {value} in {target} form", False),
    ("{value}\n{verb} to {target}", False),
    ("{source} {value} -> {target}", False),
    ("{verb} the {source} {value} over to {target}", False),
    ("{verb} {value} into {target} notation pls", False),
    ("{value} => {target}", True),
    ("{target} please: {value}", True),
    ("gimme {value} in {target}", True),
    ("{value}, but as {target}", True),
    ("need {target} for {value}", True),
)
#: Question phrasings the description does not read: ``(family, pattern, held_out)``.
FREE_QUESTIONS: tuple[tuple[str, str, bool], ...] = (
    ("format_info", "{format}??", False),
    ("format_info", "tell me what {format} is", False),
    ("format_info", "info on {format} pls", False),
    ("format_info", "explain the {format} format to me", False),
    ("format_info", "I've never heard of {format}, what is it", True),
    ("expert_info", "who does {format}", False),
    ("expert_info", "{format} goes to which expert", False),
    ("expert_info", "which adapter takes {format} requests", True),
    ("contract", "contract {id}?", False),
    ("contract", "what's contract #{id} do", False),
    ("contract", "what's contract number {id} for", False),
    ("contract", "meaning of contract id {id}", True),
    ("glyph_for", "symbol for {gname} in runic", False),
    ("glyph_for", "rune for {gname}", False),
    ("glyph_for", "how is {gname} drawn in LC-R", True),
    ("glyph_meaning", "{glyph} means?", False),
    ("glyph_meaning", "what's {glyph} in LC-R", False),
    ("glyph_meaning", "what is this symbol: {glyph}", True),
    ("expert_use", "what's the {expert} expert for", False),
    ("expert_use", "what does the {expert} model do", True),
)
#: Requests for none of the tasks: ``(text, held_out)``.
OFF_TOPIC: tuple[tuple[str, bool], ...] = (
    ("what's the weather in Paris", False), ("write me a poem about autumn", False), ("tell me a joke", False),
    ("how do I reverse a list in python", False), ("convert 5 miles to km", False), ("translate hello into French", False),
    ("what time is it in Tokyo", False), ("who won the world cup in 2018", False), ("convert 100 USD to EUR", False),
    ("summarize this article for me", False), ("what is 2 + 2", False), ("recommend a good book", False),
    ("sort [3, 1, 2]", False), ("what is JSON?", False), ("convert this csv to excel", False),
    ("how tall is mount everest", True), ("convert 72 fahrenheit to celsius", True), ("translate 'good morning' to spanish", True),
    ("what's the capital of Peru", True), ("add 5 and 7", True), ("reverse [1, 2, 3]", True), ("is it going to rain tomorrow", True),
)  # fmt: skip


#: Requests to repair a broken value, ``(task, pattern, group)``: ``{format}`` is a name of the
#: value's format, ``{given}`` the value cut short (complete) or with one typo (fix). Group
#: ``seen`` is in every split, ``test`` only in the test split (held out), ``validation`` only
#: in the validation split's held-out half.
REPAIR_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("complete", "complete this {format}: {given}", "seen"),
    ("complete", "finish this {format} value: {given}", "seen"),
    ("complete", "{format} got cut off, finish it: {given}", "seen"),
    ("complete", "the rest of this {format} please: {given}", "seen"),
    ("complete", "autocomplete {format} {given}", "seen"),
    ("complete", "this {format} is incomplete: {given}", "seen"),
    ("complete", "close off the {format} {given} thanks", "seen"),
    ("fix", "fix this {format}: {given}", "seen"),
    ("fix", "repair the {format} {given}", "seen"),
    ("fix", "correct this {format}: {given}", "seen"),
    ("fix", "there's a typo in this {format}: {given}", "seen"),
    ("fix", "this {format} won't parse, fix it: {given}", "seen"),
    ("fix", "fix the {format} {given} for me", "seen"),
    ("complete", "wrap up this {format}: {given}", "test"),
    ("complete", "{format} truncated, restore the end: {given}", "test"),
    ("fix", "patch this {format}: {given}", "test"),
    ("fix", "{format} is garbled, clean it up: {given}", "test"),
    ("complete", "the end of this {format} is missing: {given}", "validation"),
    ("fix", "unbreak this {format}: {given}", "validation"),
    ("fix", "debug the {format} {given} please", "validation"),
)
#: One row in this many of each split asks to repair a broken value, or converts one (which
#: no rewrite answers: ``Not an HLX request.``, refused with the value's error).
REPAIR_REQUEST_SHARE = 10
#: What those rows are: variation and weight.
_REPAIR_VARIATIONS = (("repair", 80), ("broken", 20))


@dataclass(frozen=True)
class HeldOutFamilies:
    """Phrasing families kept out of training: verbs, format spellings (per format), conversion
    patterns, question patterns ``(family, pattern)`` and off-topic requests."""

    verbs: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]
    patterns: tuple[str, ...]
    questions: tuple[tuple[str, str], ...]
    off_topic: tuple[str, ...]


#: The held-out families of the test split.
TEST_FAMILIES = HeldOutFamilies(
    HELD_OUT_VERBS,
    HELD_OUT_ALIASES,
    tuple(pattern for pattern, held_out in FREE_PATTERNS if held_out),
    tuple((family, pattern) for family, pattern, held_out in FREE_QUESTIONS if held_out),
    tuple(text for text, held_out in OFF_TOPIC if held_out),
)
#: The held-out families of the validation split's held-out half: in no training or test row.
VALIDATION_FAMILIES = HeldOutFamilies(
    ("reformat", "recode", "re-encode", "adapt", "remap"),
    {
        "hlxl": ("HLX_L", "the readable HLX notation", "hlx-lite"),
        "lc-t": ("L-C-T", "terse ascii notation", "lc.t"),
        "lc-r": ("L-C-R", "glyph notation", "lc.r"),
        "lc-b": ("L-C-B", "bytes notation", "lc.b"),
    },
    ("{value} ==> {target} pls", "could you do {target} for {value}", "{value} (want it in {target})", "as {target}: {value}"),
    (
        ("format_info", "what kind of thing is {format}"),
        ("expert_info", "{format} is handled by which expert"),
        ("contract", "what is contract no. {id}"),
        ("glyph_for", "which glyph stands for {gname} in LC-R"),
        ("glyph_meaning", "decode this glyph for me: {glyph}"),
        ("expert_use", "when would I want the {expert} expert"),
    ),
    ("how far away is the moon", "convert 3 cups to grams", "translate 'thank you' into German", "give me a pasta recipe",
     "multiply 6 by 9", "shuffle [4, 5, 6]", "is rust faster than go"),
)  # fmt: skip
#: The file of the validation split's held-out half (``rewrites/validation_held_out.jsonl``).
HELD_OUT_VALIDATION = "validation_held_out"
#: How the validation split's held-out half is made: variation and weight.
_VALIDATION_VARIATIONS = (("free", 45), ("typo", 25), ("question", 18), ("off_topic", 12))

VARIATIONS = ("template", "typo", "filler", "free", "foreign", "question", "off_topic")
#: The variations of the rows with a broken value (:data:`REPAIR_REQUEST_SHARE`).
REPAIR_VARIATIONS = ("repair", "broken")
_WEIGHTS = (26, 22, 10, 22, 5, 10, 8)
_QUESTION_FAMILIES = ("contract", "format_info", "expert_info", "glyph_for", "glyph_meaning", "expert_use")
_SENTINEL = "\ue000"  # stands for the value while the words around it are varied


def _format_name(rng: random.Random, fmt: str, held_out: bool, families: HeldOutFamilies = TEST_FAMILIES) -> str:
    if held_out:
        return rng.choice(families.aliases[fmt])
    return rng.choice(FORMAT_ALIASES[fmt] + EXTRA_ALIASES[fmt])


def _typo(rng: random.Random, word: str) -> str:
    """``word`` with one deletion, insertion, swap or substitution of a letter."""
    at = rng.randrange(1, len(word))
    kind = rng.choice(("delete", "insert", "swap", "substitute"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == "delete":
        return word[:at] + word[at + 1 :]
    if kind == "insert":
        return word[:at] + letter + word[at:]
    if kind == "swap" and at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return word[:at] + letter + word[at + 1 :]


def _with_typo(rng: random.Random, phrase: str) -> str | None:
    """``phrase`` with a typo in one of its verbs or format names (not in the value)."""
    words = phrase.split(" ")
    spots = [
        index for index, word in enumerate(words)
        if _SENTINEL not in word and len(word.strip(":,.?!")) >= 3 and word.strip(":,.?!").replace("-", "").isalpha()
    ]  # fmt: skip
    if not spots:
        return None
    index = rng.choice(spots)
    word = words[index]
    core = word.strip(":,.?!")
    changed = _typo(rng, core)
    if changed.lower() in _ALIAS_FORMAT and _ALIAS_FORMAT[changed.lower()] != _ALIAS_FORMAT.get(core.lower()):
        return None  # the typo spells another format's name
    words[index] = word.replace(core, changed, 1)
    return " ".join(words)


def _value(rng: random.Random, values: ValueGenerator) -> tuple[Any, str, str] | None:
    """A value, its source format and its text in that format (None when too long)."""
    value = values.value(rng.choice((0, 1, 1, 2, 2, 3)))
    source = rng.choice(ALL_FORMATS_ORDER)
    text = ENCODERS[source](value)
    if len(text) > MAX_VALUE_CHARS:
        return None
    return value, source, text


def _conversion_target(rng: random.Random, source: str) -> str:
    """A single target format (never the source), or "all" now and then."""
    return rng.choice([fmt for fmt in ALL_FORMATS_ORDER if fmt != source] * 3 + ["all"])


class _Maker:
    """Makes one request and its canonical instruction of each variation."""

    def __init__(self, rng: random.Random, values: ValueGenerator, families: HeldOutFamilies = TEST_FAMILIES) -> None:
        self.rng = rng
        self.values = values
        self.families = families
        self.templates = [t for t in TEMPLATES if t.family != "format_for"]

    def make(self, variation: str, held_out: bool) -> tuple[str, str, str, str] | None:
        """(request, canonical instruction, family, key deciding the split), or None."""
        return getattr(self, f"_{variation}")(held_out)

    def _template(self, held_out: bool, perturb: str = "") -> tuple[str, str, str, str] | None:
        rng = self.rng
        candidates = [t for t in self.templates if t.held_out == held_out]
        if not candidates:
            return None
        template = rng.choice(candidates)
        if template.family in _QUESTION_FAMILIES:
            from .phrasings import _QUESTION_PARAMS

            params = _QUESTION_PARAMS[template.family](rng)
            phrase = template.render(rng, **params)
            made = self._read(phrase, template.family, phrase)
            if made is None or not perturb:
                return made
            varied = self._perturb(phrase, perturb)
            return None if varied is None else (varied, made[1], made[2], made[3])
        drawn = _value(rng, self.values)
        if drawn is None:
            return None
        value, source, text = drawn
        target = _conversion_target(rng, source)
        targets: Any = "all" if target == "all" else (target,)
        if template.family == "convert" and "{targets}" not in template.pattern:
            targets = ("hlxl",)
        phrase = template.render(rng, value=_SENTINEL, source=source, targets=targets)
        made = self._read(phrase.replace(_SENTINEL, text), template.family, to_hlxl(value))
        if made is None:
            return None
        if perturb:
            varied = self._perturb(phrase, perturb)
            if varied is None:
                return None
            return varied.replace(_SENTINEL, text), made[1], made[2], made[3]
        return made

    def _perturb(self, phrase: str, how: str) -> str | None:
        rng = self.rng
        if how == "typo":
            return _with_typo(rng, phrase)
        before = rng.random() < 0.5
        filler = rng.choice(FILLERS_BEFORE if before else FILLERS_AFTER)
        return f"{filler} {phrase}" if before else f"{phrase.rstrip('?.!')} {filler}"

    @staticmethod
    def _read(phrase: str, family: str, key: str) -> tuple[str, str, str, str] | None:
        try:
            return phrase, parse_request(phrase).render(), family, key
        except HLXError:
            return None

    def _typo(self, held_out: bool) -> tuple[str, str, str, str] | None:
        return self._template(held_out, "typo")

    def _filler(self, held_out: bool) -> tuple[str, str, str, str] | None:
        return self._template(held_out, "filler")

    def _free(self, held_out: bool, foreign: bool = False) -> tuple[str, str, str, str] | None:
        rng = self.rng
        drawn = _value(rng, self.values)
        if drawn is None:
            return None
        value, source, text = drawn
        seen = [pattern for pattern, held in FREE_PATTERNS if not held]
        patterns = list(self.families.patterns) if held_out else seen
        pattern = rng.choice(patterns if not held_out or rng.random() < 0.6 else seen + patterns)
        target = _conversion_target(rng, source)
        names_held_out = held_out and rng.random() < 0.4
        target_name = "all formats" if target == "all" else _format_name(rng, target, names_held_out, self.families)
        if foreign:
            verb = rng.choice(FOREIGN_VERBS)
        elif held_out and rng.random() < 0.5:
            verb = rng.choice(self.families.verbs)
        else:
            verb = rng.choice(VERBS)
        if "{verb}" not in pattern and (foreign or verb in self.families.verbs):
            pattern = "{verb} " + pattern
        phrase = pattern.format(verb=verb, value=text, target=target_name, source=_format_name(rng, source, False))
        if "{source}" not in pattern and detect_format(text) != source:
            # a request that names no source means the value as the description reads it
            # (``detect_format``); ``["a"]`` drawn as LC-B text would be labelled otherwise
            return None  # (after every draw, so that the rows after it stay as they were)
        targets: Any = "all" if target == "all" else (target,)
        instruction = render_instruction("convert", value_text=text, source=source, targets=targets)
        return phrase, instruction, "convert", to_hlxl(value)

    def _foreign(self, held_out: bool) -> tuple[str, str, str, str] | None:
        return self._free(held_out, foreign=True)

    def _question(self, held_out: bool) -> tuple[str, str, str, str] | None:
        rng = self.rng
        questions = self.families.questions if held_out else [(family, pattern) for family, pattern, held in FREE_QUESTIONS if not held]
        family, pattern = rng.choice(questions)
        fmt = rng.choice(ALL_FORMATS_ORDER)
        params = {
            "format": _format_name(rng, fmt, held_out and rng.random() < 0.3, self.families),
            "id": str(rng.choice(KNOWN_IDS + (7, 42, 2000))),
            "gname": rng.choice(["null", "true", "false", "bytes prefix", "handle prefix", "contract start", "field marker",
                                 "contract end", "array start", "array end", "object start", "object end"]),
            "glyph": rng.choice(list(GLYPHS)),
            "expert": rng.choice(("runic", "ascii", "coordinator")),
        }  # fmt: skip
        phrase = pattern.format(**params)
        task = {"contract": "contract", "format_info": "format_info", "expert_info": "expert_info"}.get(family, family)
        arguments = {
            "contract": {"id": params["id"]},
            "format_info": {"format": fmt},
            "expert_info": {"format": fmt},
            "glyph_for": {"gname": params["gname"]},
            "glyph_meaning": {"glyph": params["glyph"]},
            "expert_use": {"expert": params["expert"]},
        }[family]
        return phrase, render_instruction(task, **arguments), family, phrase

    def _off_topic(self, held_out: bool) -> tuple[str, str, str, str] | None:
        rng = self.rng
        text = rng.choice(self.families.off_topic if held_out else [text for text, held in OFF_TOPIC if not held])
        if rng.random() < 0.4:
            text = f"{rng.choice(('please', 'hey,', 'can you', 'quick one:'))} {text}"
        return text, NOT_A_REQUEST, "off_topic", text


def _spend(budget: int) -> int:
    """``budget`` less the draw about to be made; RuntimeError when none is left."""
    if budget <= 0:
        raise RuntimeError("rewrite generation does not converge")
    return budget - 1


def _checked(request: str, instruction: str, broken: bool = False) -> bool:
    """Whether ``instruction`` is one of the rewrites ``request`` allows and is canonical, and
    the request holds a broken value exactly when ``broken``."""
    if len(request) > MAX_REWRITE_CHARS or "\n\n" in request:
        return False
    try:
        space = rewrite_space(request)
    except HLXError:
        return False
    if (space.broken is not None) != broken or instruction not in space.candidates:
        return False
    return instruction == NOT_A_REQUEST or match_instruction(instruction) is not None


def rewrite_rows(spec: CorpusSpec) -> dict[str, list[dict[str, Any]]]:
    """The rewrite rows of every split, and the validation split's held-out half under
    :data:`HELD_OUT_VALIDATION` (see the module's docstring); a request appears once."""
    rng = random.Random(f"{spec.seed}-rewrites")
    maker = _Maker(rng, ValueGenerator(rng))
    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    seen: set[str] = set()
    held_out_made = 0
    counts = spec.rewrites or REWRITE_COUNTS
    held_out_test = counts["test"] // 2
    budget = 30 * sum(counts.values())
    while any(len(rows[split]) < counts[split] for split in SPLITS):
        budget = _spend(budget)
        variation = rng.choices(VARIATIONS, weights=_WEIGHTS)[0]
        held_out = held_out_made < held_out_test and rng.random() < 0.12
        made = maker.make(variation, held_out)
        if made is None:
            continue
        request, instruction, family, key = made
        request = " ".join(request.split(" ")).strip()
        split = "test" if held_out else split_of(key)
        if held_out and len(rows["test"]) >= counts["test"]:
            continue
        if not held_out and split == "test" and len(rows["test"]) >= counts["test"] - (held_out_test - held_out_made):
            continue  # room kept for the held-out families
        if request in seen or len(rows[split]) >= counts[split] or not _checked(request, instruction):
            continue
        seen.add(request)
        held_out_made += held_out
        rows[split].append(_row(request, instruction, family, variation, held_out, split))
    for split, repair_rows in _repair_request_rows(spec, seen).items():
        rows[split] += repair_rows
    rows[HELD_OUT_VALIDATION] = validation_held_out_rows(spec, seen)
    return rows


def _row(
    request: str, instruction: str, family: str, variation: str, held_out: bool, split: str, original: str | None = None
) -> dict[str, Any]:
    return {
        "input": prompt_of(rewrite_prompt(request)), "output": instruction, "expert": "coordinator", "task": "rewrite",
        "request": request, "family": family, "variation": variation, "held_out_phrasing": held_out, "split": split,
        "original": original,
    }  # fmt: skip


class _RepairRequests:
    """Makes requests with a broken value: to complete or fix it (labelled with the repair
    instruction, and the original text kept for grading), or to convert it (labelled
    :data:`NOT_A_REQUEST`: no rewrite answers it, the value's error does)."""

    def __init__(self, rng: random.Random, families: HeldOutFamilies) -> None:
        self.rng = rng
        self.values = ValueGenerator(rng)
        self.families = families

    def make(self, variation: str, group: str) -> tuple[str, str, str, str, str | None] | None:
        """(request, instruction, family, key deciding the split, original text), or None."""
        rng = self.rng
        value = self.values.value(rng.choice((1, 1, 2, 2, 3)))
        fmt = rng.choice(ALL_FORMATS_ORDER)
        original = ENCODERS[fmt](value)
        if len(original) > MAX_VALUE_CHARS:
            return None
        task = rng.choice(("complete", "fix"))
        damaged = truncate(original, fmt, rng) if task == "complete" else typo(original, fmt, rng)
        if damaged is None:
            return None
        held_out = group != "seen"
        if variation == "broken":
            seen = [pattern for pattern, held in FREE_PATTERNS if not held]
            pattern = rng.choice(list(self.families.patterns) if held_out else seen)
            verb = rng.choice(self.families.verbs if held_out and rng.random() < 0.5 else VERBS)
            target = _conversion_target(rng, fmt)
            name = "all formats" if target == "all" else _format_name(rng, target, held_out and rng.random() < 0.4, self.families)
            request = pattern.format(verb=verb, value=damaged.text, target=name, source=_format_name(rng, fmt, False))
            return request, NOT_A_REQUEST, "convert", to_hlxl(value), None
        patterns = [pattern for kind, pattern, where in REPAIR_PATTERNS if kind == task and where == group]
        name = _format_name(rng, fmt, held_out and rng.random() < 0.4, self.families)
        request = rng.choice(patterns).format(format=name, given=damaged.text)
        return request, repair_instruction(task, fmt, damaged.text), task, to_hlxl(value), original


def _repair_request_rows(spec: CorpusSpec, seen: set[str]) -> dict[str, list[dict[str, Any]]]:
    """One row in :data:`REPAIR_REQUEST_SHARE` of each split (seen ``REPAIR_PATTERNS``; half the
    test split's held out), from a generator of their own so that the other rows stay as they are."""
    rng = random.Random(f"{spec.seed}-rewrites-repairs")
    maker = _RepairRequests(rng, TEST_FAMILIES)
    counts = {split: count // REPAIR_REQUEST_SHARE for split, count in (spec.rewrites or REWRITE_COUNTS).items()}
    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    held_out_test = counts["test"] // 2
    budget = 60 * sum(counts.values())
    while any(len(rows[split]) < counts[split] for split in SPLITS):
        budget = _spend(budget)
        held_out_made = sum(row["held_out_phrasing"] for row in rows["test"])
        held_out = held_out_made < held_out_test and rng.random() < 0.3
        made = _made_repair_request(maker, rng, "test" if held_out else "seen", seen)
        if made is None:
            continue
        (request, instruction, family, variation, original), key = made
        split = "test" if held_out else split_of(key)
        if len(rows[split]) >= counts[split] or (
            not held_out and split == "test" and len(rows["test"]) >= counts["test"] - (held_out_test - held_out_made)
        ):
            continue
        seen.add(request)
        rows[split].append(_row(request, instruction, family, variation, held_out, split, original))
    return rows


def _made_repair_request(
    maker: _RepairRequests, rng: random.Random, group: str, seen: set[str]
) -> tuple[tuple[str, str, str, str, str | None], str] | None:
    """A checked repair-request row's fields (request, instruction, family, variation,
    original) and its split key, or None."""
    variation = rng.choices([name for name, _ in _REPAIR_VARIATIONS], weights=[weight for _, weight in _REPAIR_VARIATIONS])[0]
    made = maker.make(variation, group)
    if made is None:
        return None
    request, instruction, family, key, original = made
    request = " ".join(request.split(" ")).strip()
    if request in seen or not _checked(request, instruction, broken=True):
        return None
    return (request, instruction, family, variation, original), key


def _with_typo_outside_value(rng: random.Random, request: str, instruction: str) -> str | None:
    """``request`` with a typo in a word that is not part of the instruction's value."""
    parsed = match_instruction(instruction)
    value = parsed.value_text if parsed is not None else None
    if not value or request.count(value) != 1:
        return None
    varied = _with_typo(rng, request.replace(value, _SENTINEL))
    return None if varied is None else varied.replace(_SENTINEL, value)


def validation_held_out_rows(spec: CorpusSpec, seen: set[str]) -> list[dict[str, Any]]:
    """The validation split's held-out half: as many rows as half its seen-family rows, made from
    :data:`VALIDATION_FAMILIES` (free conversions, the same with a typo, questions, off-topic
    requests) with a generator of their own, none a request of ``seen``."""
    rng = random.Random(f"{spec.seed}-rewrites-{HELD_OUT_VALIDATION}")
    maker = _Maker(rng, ValueGenerator(rng), VALIDATION_FAMILIES)
    wanted = (spec.rewrites or REWRITE_COUNTS)["validation"] // 2
    variations = [variation for variation, _ in _VALIDATION_VARIATIONS]
    weights = [weight for _, weight in _VALIDATION_VARIATIONS]
    rows: list[dict[str, Any]] = []
    budget = 30 * wanted
    while len(rows) < wanted:
        budget = _spend(budget)
        variation = rng.choices(variations, weights=weights)[0]
        made = maker.make("free" if variation == "typo" else variation, True)
        if made is None:
            continue
        request, instruction, family, _key = made
        if variation == "typo":
            varied = _with_typo_outside_value(rng, request, instruction)
            if varied is None:
                continue
            request = varied
        request = " ".join(request.split(" ")).strip()
        if request in seen or not _checked(request, instruction):
            continue
        seen.add(request)
        rows.append(_row(request, instruction, family, variation, True, "validation"))
    repairs = _RepairRequests(rng, VALIDATION_FAMILIES)
    wanted_repairs = wanted // REPAIR_REQUEST_SHARE
    made_repairs = 0
    budget = 60 * wanted_repairs
    while made_repairs < wanted_repairs:
        budget = _spend(budget)
        drawn = _made_repair_request(repairs, rng, "validation", seen)
        if drawn is None:
            continue
        (request, instruction, family, variation, original), _key = drawn
        seen.add(request)
        rows.append(_row(request, instruction, family, variation, True, "validation", original))
        made_repairs += 1
    return rows


def rewrite_stats(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Counter[str]]:
    """Rows per variation in each split (for the dataset card)."""
    return {
        split: Counter(row["variation"] + (" (held out)" if row["held_out_phrasing"] else "") for row in rows[split]) for split in SPLITS
    }
