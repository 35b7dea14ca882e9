"""Training corpora for the three experts, generated and checked by the reference codecs.

``hlx corpus build`` writes ``corpora/`` from a seed; the same command on any machine writes
byte-identical files. ``hlx corpus check`` regenerates in memory and reports the first
difference with the committed files. Every answer is the reference answer of its prompt,
so it is right by construction. See ``corpora/README.md`` (the dataset card).

Only the standard library and ``hlx_formats`` are used here: no model is needed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from lark import Lark, Token

from hlx_formats import Contract, Handle, _atomic, facts, iter_values, to_hlxl, value_depth, value_size
from hlx_formats.api import DECODERS, ENCODERS
from hlx_formats.errors import HLXError
from hlx_formats.grammar import FORMAT_TITLES, grammar_text
from hlx_formats.instructions import ALL_FORMATS_ORDER, FORMS, Form, answer, parse_instruction, render, route
from hlx_formats.lcr import GLYPHS, LEGACY_GLYPHS

__all__ = [
    "DEFAULT_SEED",
    "EXPERTS",
    "SPLITS",
    "CorpusSpec",
    "build",
    "write",
    "check",
    "prompt_of",
    "load",
    "ValueGenerator",
    "default_root",
    "instruction_of",
]

DEFAULT_SEED = 20261125
EXPERTS = ("runic", "ascii", "coordinator")
SPLITS = ("train", "validation", "test")
PROMPT_TEMPLATE = "### Instruction:\n{instruction}\n\n### Response:\n"


def prompt_of(instruction: str) -> str:
    """The model input for an instruction, in the original corpora's shape."""
    return PROMPT_TEMPLATE.format(instruction=instruction)


@dataclass(frozen=True)
class CorpusSpec:
    """How many examples to make, per split, for each expert."""

    train: dict[str, int]
    validation: int = 360
    test: int = 600
    test_ood: int = 150  # extra test examples with deeper, longer values
    seed: int = DEFAULT_SEED
    drills: dict[str, int] | None = None  # extra training examples per expert (see ScalarDrill)
    nesting_drills: dict[str, int] | None = None  # deep values repeating a shape, after the drills (see NestingDrill)


#: The committed corpora, with 1,500 scalar drills and then 2,000 nesting drills at the end
#: of each training split: the shipped adapters were trained on them (``hlx corpus build
#: --drills 0 --nesting-drills 0`` leaves them out; what they did is in docs/moe-results.md).
DEFAULT_DRILLS = 1500
DEFAULT_NESTING_DRILLS = 2000
DEFAULT_SPEC = CorpusSpec(
    train={"runic": 6000, "ascii": 6000, "coordinator": 3600},
    drills=dict.fromkeys(EXPERTS, DEFAULT_DRILLS),
    nesting_drills=dict.fromkeys(EXPERTS, DEFAULT_NESTING_DRILLS),
)

# --- vocabulary ----------------------------------------------------------------------

HANDLE_NAMES = (
    "documents", "users", "model", "data", "vs", "fs", "cache", "index", "logs", "images",
    "queue", "results", "config", "shader_main", "compute_pass", "output_image", "db",
    "session", "tokens", "weights", "orders", "events", "metrics", "embeddings", "ast",
    "frame_buffer", "depth_map", "pipeline_a", "kernel_v2", "x", "h_temp", "_private",
)  # fmt: skip
KEYS = (
    "name", "age", "id", "type", "status", "count", "items", "value", "tags", "user", "email",
    "score", "enabled", "config", "path", "size", "version", "data", "meta", "created_at",
    "limit", "offset", "query", "mode", "width", "height", "x", "y", "label", "priority",
)  # fmt: skip
AWKWARD_KEYS = (
    "two words", "", "null", "true", "false", "NULL", "TRUE", "FALSE", "C", "T", "F", "_",
    "key-with-dash", "1st", "café", "a\"b", "back\\slash", "tab\there", "🜊", "x y z",
)  # fmt: skip
WORDS = (
    "hello", "world", "search", "alpha", "beta", "gamma", "red", "green", "blue", "main",
    "vertex", "fragment", "compute", "train", "query", "report", "draft", "final", "Alice",
    "Bob", "Carol", "London", "Paris", "Tokyo", "apple", "river", "stone", "cloud", "signal",
    "matrix", "kernel", "buffer", "shader", "pixel", "north", "south", "summer", "winter",
)  # fmt: skip
AWKWARD_STRINGS = (
    "", " ", 'say "hi"', "back\\slash", "line\nbreak", "tab\there", "café", "naïve", "日本語",
    "emoji 😀", "ctrl \x01 char", "del \x7f", "∅ and 🜊 are glyphs", "C", "NULL", "null",
    "\r\n", "quote \" and \\ both", "Ω≈ç√", "\u00a0nbsp", "𝄞 clef", "\b\f",
)  # fmt: skip
STAGES = ("vertex", "fragment", "compute", "geometry")
KNOWN_IDS = (14, 16, 900, 901, 902, 1000)
SHAPED_IDS = (900, 1000)  # contracts whose scalar fields name things (operation, stage)

# --- values --------------------------------------------------------------------------


class ValueGenerator:
    """Random HLX values of a chosen depth, with realistic and awkward parts."""

    def __init__(self, rng: random.Random, max_members: int = 6) -> None:
        self.rng = rng
        self.max_members = max_members

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return rng.choice((None, True, False))
        if roll < 0.30:
            return self.integer()
        if roll < 0.42:
            return self.floating()
        if roll < 0.70:
            return self.string()
        if roll < 0.78:
            return self.bytes_()
        return Handle(rng.choice(HANDLE_NAMES))

    def integer(self) -> int:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return rng.randint(0, 100)
        if roll < 0.7:
            return rng.randint(-1000, 1000)
        if roll < 0.85:
            return rng.randint(-(2**31), 2**31)
        return rng.choice((2**63 - 1, -(2**63), 2**64 - 1, 2**63, 255, 256, -129, 65535, 65536, 10**12, -(10**15)))

    def floating(self) -> float:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return round(rng.uniform(-1000, 1000), rng.randint(1, 3))
        if roll < 0.7:
            return float(rng.randint(-100, 100))
        if roll < 0.9:
            return rng.choice((1.0, 0.5, -0.5, 3.14, 2.718, 0.1, 1e-05, 1.5e-07, 1e100, 1e16, 6.02e23, -0.0, 0.0))
        return float(f"{rng.randint(1, 9)}.{rng.randint(0, 99)}e{rng.choice('+-')}{rng.randint(5, 40)}")

    def string(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            return rng.choice(WORDS)
        if roll < 0.75:
            return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4)))
        return rng.choice(AWKWARD_STRINGS)

    def bytes_(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.4:
            return rng.choice((b"data", b"", b"\x00\xff", b'"', b"hi\n", b"\\"))
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))

    def key(self) -> str:
        return self.rng.choice(AWKWARD_KEYS) if self.rng.random() < 0.12 else self.rng.choice(KEYS)

    def value(self, depth: int) -> Any:
        """A value whose nesting depth is exactly ``depth``."""
        if depth == 0:
            return self.scalar()
        rng = self.rng
        roll = rng.random()
        if depth == 1 and roll < 0.05:
            return rng.choice(([], {}))
        count = rng.randint(1, self.max_members if depth <= 2 else max(1, self.max_members // 2))
        deep_position = rng.randrange(count)
        children = [self.value(depth - 1 if i == deep_position else rng.randint(0, depth - 1)) for i in range(count)]
        return self.container(roll, children, deep_position)

    def container(self, roll: float, children: list[Any], deep_position: int) -> Any:
        """``children`` as an array, an object or a contract, as ``roll`` (0..1) falls."""
        if roll < 0.38:
            return children
        if roll < 0.70:
            result: dict[str, Any] = {}
            for child in children:
                key = self.key()
                while key in result:
                    key = self.key() + str(len(result))
                result[key] = child
            return result
        return self.contract(children, deep_position)

    def contract(self, children: list[Any], deep_position: int) -> Contract:
        """A contract holding ``children`` (at least the one at ``deep_position``)."""
        rng = self.rng
        contract_id = rng.choice(KNOWN_IDS) if rng.random() < 0.7 else rng.randrange(65536)
        if contract_id == 1000 and rng.random() < 0.7:
            operation = rng.choice(tuple(facts.OPERATIONS))
            kept = children[:5] if deep_position < 5 else children[:4] + [children[deep_position]]
            return Contract(1000, [(0, operation)] + [(i + 1, child) for i, child in enumerate(kept)])
        if contract_id == 900 and rng.random() < 0.5:
            return Contract(900, {0: Handle(rng.choice(HANDLE_NAMES)), 1: "main", 2: rng.choice(STAGES), 3: children[deep_position]})
        if rng.random() < 0.6:
            return Contract(contract_id, enumerate(children))
        indices = sorted(rng.sample(range(256), len(children)))
        return Contract(contract_id, zip(indices, children))

    def simple(self) -> Any:
        """A small realistic value (the examples of the specification look like this)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            operation = rng.choice(tuple(facts.OPERATIONS))
            arity = facts.OPERATIONS[operation][1]
            return Contract(1000, [(0, operation)] + [(i + 1, Handle(rng.choice(HANDLE_NAMES))) for i in range(arity)])
        if roll < 0.45:
            return Contract(rng.choice((14, 16)), {0: self.integer() if rng.random() < 0.5 else self.string()})
        if roll < 0.55:
            return Contract(
                902,
                {
                    0: rng.randint(1, 99),
                    1: [Handle(n) for n in rng.sample(HANDLE_NAMES, 2)],
                    2: rng.randint(0, 4),
                    3: Handle("output_image"),
                },
            )
        if roll < 0.75:
            return {rng.choice(KEYS): self.scalar() for _ in range(rng.randint(1, 3))}
        return [self.scalar() for _ in range(rng.randint(1, 4))]


class ScalarDrill:
    """Small values made of the scalars the experts get wrong most: byte strings (a hexadecimal
    look-up for every byte value) and integers (LC-B writes them in hexadecimal).

    Bytes are dealt from a shuffled deck that holds every byte value once and each printable
    ASCII byte twice (HLXL spells those as themselves, so they are a real look-up, where
    ``\\xNN`` is a copy), so that a few hundred drills spell every byte value many times.
    """

    PRINTABLE = range(0x20, 0x7F)

    def __init__(self, rng: random.Random, integers: bool) -> None:
        self.rng = rng
        self.integers = integers
        self.deck: list[int] = []

    def byte(self) -> int:
        if not self.deck:
            self.deck = list(range(256)) + list(self.PRINTABLE)
            self.rng.shuffle(self.deck)
        return self.deck.pop()

    def bytes_(self) -> bytes:
        return bytes(self.byte() for _ in range(self.rng.randint(1, 8)))

    def integer(self) -> int:
        digits = self.rng.randint(1, 19)
        magnitude = self.rng.randrange(10 ** (digits - 1) if digits > 1 else 0, 10**digits)
        return -min(magnitude, 2**63) if self.rng.random() < 0.3 else magnitude  # LC-B's range

    def scalar(self) -> bytes | int:
        return self.integer() if self.integers and self.rng.random() < 0.5 else self.bytes_()

    def value(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return self.scalar()
        members = [self.scalar() for _ in range(rng.randint(1, 4))]
        if roll < 0.65:
            return members
        return {key: member for key, member in zip(rng.sample(KEYS, len(members)), members)}


class NestingDrill:
    """Deep, narrow values of depth 3-4 whose members repeat one shape: a list of records
    with the same keys, a contract holding two arrays of arrays. The experts drop a nesting
    level where a value repeats a pattern, and such values are rare in the main draw (a
    depth-4 value seldom fits in a training value's 150 characters), so these spell them
    with small scalars, which keeps them short.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.values = ValueGenerator(rng)  # for its containers: arrays, objects, contracts

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            return rng.choice((None, True, False))
        if roll < 0.5:
            return rng.randint(0, 99)
        if roll < 0.8:
            return rng.choice(WORDS)
        return Handle(rng.choice(HANDLE_NAMES))

    def value(self) -> Any:
        return self.nested(self.rng.choice((3, 4, 4)))

    def nested(self, depth: int) -> Any:
        """A value of exactly ``depth`` whose members mostly share the deepest member's shape."""
        if depth == 0:
            return self.scalar()
        rng = self.rng
        roll = rng.random()
        count = rng.randint(1, 3)
        deep_position = rng.randrange(count)
        deepest = self.nested(depth - 1)
        children = [
            deepest if i == deep_position
            else self.restyled(deepest) if rng.random() < 0.7
            else self.nested(rng.randint(0, depth - 1))
            for i in range(count)
        ]  # fmt: skip
        return self.values.container(roll, children, deep_position)

    def restyled(self, value: Any) -> Any:
        """The same shape (containers, keys, contract ids and indices), new scalars."""
        if isinstance(value, list):
            return [self.restyled(member) for member in value]
        if isinstance(value, dict):
            return {key: self.restyled(member) for key, member in value.items()}
        if isinstance(value, Contract):
            kept = value.id in SHAPED_IDS  # an operation's name, a shader's stage: not data
            return Contract(value.id, [
                (index, field if kept and not isinstance(field, (list, dict, Contract)) else self.restyled(field))
                for index, field in value.items()
            ])  # fmt: skip
        return self.scalar()


# --- lenient spellings ---------------------------------------------------------------

_TOKEN_PARSERS: dict[str, Lark] = {}
_LEGACY = {canonical: legacy for legacy, canonical in LEGACY_GLYPHS.items()}


def _tokens(text: str, fmt: str) -> list[Token]:
    parser = _TOKEN_PARSERS.get(fmt)
    if parser is None:
        parser = _TOKEN_PARSERS[fmt] = Lark(grammar_text(fmt), parser="lalr", keep_all_tokens=True, maybe_placeholders=False)
    tree = parser.parse(text)
    return sorted(tree.scan_values(lambda item: isinstance(item, Token)), key=lambda token: token.start_pos or 0)


def lenient_spelling(text: str, fmt: str, rng: random.Random) -> str:
    """A non-canonical spelling of a canonical text that reads as the same value.

    Whitespace is added or removed between tokens, some bare keys are quoted and, in LC-R,
    some structural glyphs are replaced by their legacy forms.
    """
    tokens = _tokens(text, fmt)
    legacy = fmt == "lc-r" and rng.random() < 0.6
    pieces: list[str] = []
    for position, token in enumerate(tokens):
        spelling = str(token)
        if token.type == "NAME" and rng.random() < 0.5:
            spelling = json.dumps(spelling)
        if legacy and spelling[:1] in _LEGACY and rng.random() < 0.7:
            spelling = _LEGACY[spelling[0]] + spelling[1:]
        pieces.append(spelling)
        if position + 1 < len(tokens):
            between = text[token.end_pos : tokens[position + 1].start_pos]
            roll = rng.random()
            if roll < 0.25:
                between = rng.choice((" ", "  ", "\n", "\t", " \n  "))
            elif roll < 0.4 and not (token.type == "FIELD" and tokens[position + 1].type in ("INT", "FLOAT")):
                between = ""
            pieces.append(between)
    return "".join(pieces)


# --- examples ------------------------------------------------------------------------


def _forms(task: str) -> list[Form]:
    return [form for form in FORMS if form.task == task]


_FORMAT_TASKS = {
    # expert -> [(weight, form task, target or source format word, source format of the value)]
    "runic": [
        (25, "convert_to", "LC-R", "hlxl"),
        (20, "translate_hlxl_to", "LC-R", "hlxl"),
        (25, "parse", "LC-R", "lc-r"),
        (20, "lct_to_lcr", None, "lc-t"),
    ],
    "ascii": [
        (25, "convert_to", "LC-T", "hlxl"),
        (20, "translate_hlxl_to", "LC-T", "hlxl"),
        (25, "parse", "LC-T", "lc-t"),
        (20, "lcr_to_lct", None, "lc-r"),
    ],
    "coordinator": [
        (16, "convert_to", "LC-B", "hlxl"),
        (12, "translate_hlxl_to", "LC-B", "hlxl"),
        (18, "parse", "LC-B", "lc-b"),
        (14, "all_formats", None, "hlxl"),
    ],
}
LENIENT_SHARE = 0.12  # of a specialist's format examples: lenient input, canonical answer
MAX_PROMPT_CHARS = {"all_formats": 70}  # canonical HLXL length limit of the value, by task
MAX_VALUE_CHARS = 150


@dataclass
class Example:
    instruction: str
    output: str
    expert: str
    task: str
    source_format: str
    target_format: str
    depth: int | None
    size: int | None
    split: str
    ood: bool
    key: str  # what decides the split: the canonical HLXL of the value, or the prompt

    def row(self) -> dict[str, Any]:
        return {
            "input": prompt_of(self.instruction),
            "output": self.output,
            "expert": self.expert,
            "task": self.task,
            "source_format": self.source_format,
            "target_format": self.target_format,
            "depth": self.depth,
            "size": self.size,
            "split": self.split,
            "ood": self.ood,
        }


def split_of(key: str) -> str:
    """The split a value (or question) belongs to, fixed by a hash of its canonical text."""
    bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") % 1000
    if bucket < 840:
        return "train"
    if bucket < 900:
        return "validation"
    return "test"


def _pinned_values() -> list[Any]:
    """Values that always sit in the training split: the worked examples of the
    specification, the original report's test cases, and the scalar atoms."""
    from hlx_formats import from_hlxl

    texts = [
        "null", "true", "false", "[1, 2, 3]", "{14: {@0: 42}}",
        '{1000: {@0: "search", @1: &h_documents}}', '{user: {name: "Bob", age: 30}}',
        '[true, 42, "hello", null]', "3.14", "-0.5", "100.0", "1.0e+100", "1.5e-07", '"hello"', '"café"',
        'b"data"', 'b"\\x00\\xff"', "&h_documents", "[]", "{}", '{name: "Alice", age: 30}', '{"two words": 1}',
        "[[1, 2], [3, 4]]", '{902: {@0: "render_pipeline", @1: [&h_vs, &h_fs]}}',
        '{1000: {@0: "train", @1: &h_model, @2: &h_data}}', "42", "-17", "[1, 2]", '"hi"', "{16: {@0: \"hello\"}}",
        "{1000: {@0: \"test\", @1: &h_x}}",
    ]  # fmt: skip
    return [from_hlxl(text) for text in texts]


#: Instructions that always sit in the training split of the expert that owns them: the
#: original report's test cases, and each worked example of the specification in every
#: direction.
ORIGINAL_TEST_PROMPTS = (
    "Convert to LC-T: null",
    "Convert to LC-R: [1, 2, 3]",
    "Parse LC-T: {C:14,0=42}",
    "Translate HLXL to all formats: null",
    'Convert to LC-T: {1000: {@0: "search", @1: &h_documents}}',
)
SPEC_EXAMPLES_HLXL = (
    "null", "true", "[1, 2, 3]", "{14: {@0: 42}}", '{1000: {@0: "search", @1: &h_documents}}',
    '{user: {name: "Bob", age: 30}}', '[true, 42, "hello", null]',
)  # fmt: skip


def pinned_instructions() -> list[str]:
    from hlx_formats import from_hlxl

    prompts = list(ORIGINAL_TEST_PROMPTS)
    for text in SPEC_EXAMPLES_HLXL:
        value = from_hlxl(text)
        for word, fmt in (("LC-R", "lc-r"), ("LC-T", "lc-t"), ("LC-B", "lc-b")):
            prompts.append(f"Convert to {word}: {text}")
            prompts.append(f"Parse {word}: {ENCODERS[fmt](value)}")
        prompts.append(f"Convert this to Runic glyphs: {ENCODERS['lc-t'](value)}")
        prompts.append(f"Convert this to text-safe format: {ENCODERS['lc-r'](value)}")
        prompts.append(f"Translate HLXL to all formats: {text}")
    return list(dict.fromkeys(prompts))


class _Builder:
    def __init__(self, spec: CorpusSpec) -> None:
        self.spec = spec
        self.pinned = {to_hlxl(value) for value in _pinned_values()}

    def split_for(self, key: str) -> str:
        return "train" if key in self.pinned else split_of(key)

    def format_example(self, rng: random.Random, expert: str, value: Any, split: str, ood: bool, drill: str = "") -> Example | None:
        """A format task on ``value``; ``drill`` names a drill (``"drill"``, ``"nesting"``),
        which is spelled canonically and marked by a suffix of the task."""
        weights = _FORMAT_TASKS[expert]
        _weight, task, word, source = rng.choices(weights, weights=[w[0] for w in weights])[0]
        canonical_hlxl = to_hlxl(value)
        if len(canonical_hlxl) > MAX_PROMPT_CHARS.get(task, 10**9) and not ood:
            return None
        value_text = ENCODERS[source](value)
        lenient = False
        if expert != "coordinator" and not drill and rng.random() < LENIENT_SHARE:
            value_text = lenient_spelling(value_text, source, rng)
            lenient = value_text != ENCODERS[source](value)
        form = rng.choice(_forms(task))
        params: dict[str, Any] = {"value": value_text}
        if "{target}" in form.template:
            params["target"] = word
        if "{source}" in form.template:
            params["source"] = word
        instruction = render(form, **params)
        parsed = parse_instruction(instruction)
        name = parsed.task + ("_lenient" if lenient else "") + (f"_{drill}" if drill else "")
        return Example(
            instruction, answer(parsed), expert, name, parsed.source_format or "text", parsed.target_format,
            value_depth(value), value_size(value), split, ood, canonical_hlxl,
        )  # fmt: skip

    def example_from(self, instruction: str, expert: str, split: str) -> Example:
        """An example for a fixed format instruction (its value is decoded from the prompt)."""
        from hlx_formats.api import DECODERS

        parsed = parse_instruction(instruction)
        assert parsed.source_format is not None  # a format instruction has a value part
        value = DECODERS[parsed.source_format](parsed.value_text)
        return Example(
            instruction, answer(parsed), expert, parsed.task, parsed.source_format or "text", parsed.target_format,
            value_depth(value), value_size(value), split, False, to_hlxl(value),
        )  # fmt: skip

    def question_examples(self) -> Iterator[Example]:
        """Every question about the facts, once each, split by the prompt."""
        glyphs = list(GLYPHS) + list(LEGACY_GLYPHS)
        names = [facts.GLYPH_NAMES[g].removeprefix("the ") for g in GLYPHS]
        formats = list(FORMAT_TITLES.values())
        questions: list[str] = []
        for form in _forms("glyph_meaning"):
            questions += [render(form, glyph=g) for g in glyphs]
        for form in _forms("glyph_for"):
            questions += [render(form, name=n) for n in names]
        for form in _forms("contract_info"):
            questions += [render(form, id=str(i)) for i in KNOWN_IDS]
        for form in _forms("format_info") + _forms("expert_info"):
            questions += [render(form, format=f) for f in formats]
        for question in questions:
            parsed = parse_instruction(question)
            yield Example(
                question, answer(parsed), "coordinator", parsed.task, "text", "text", None, None, self.split_for(question), False, question
            )

    def routing_example(self, rng: random.Random, value: Any, split: str) -> Example:
        expert = rng.choice(EXPERTS)
        inner = self.format_example(rng, expert, value, split, False)
        while inner is None:
            inner = self.format_example(rng, expert, value, split, False)
        form = rng.choice(_forms("routing"))
        question = render(form, instruction=inner.instruction)
        return Example(
            question,
            answer(question),
            "coordinator",
            "routing",
            inner.source_format,
            "text",
            inner.depth,
            inner.size,
            split,
            False,
            inner.key,
        )

    def intent_example(self, rng: random.Random, ood: bool = False) -> Example:
        operation = rng.choice(tuple(facts.OPERATIONS))
        phrase, arity = facts.OPERATIONS[operation]
        handles = rng.sample(HANDLE_NAMES, arity)
        if rng.random() < 0.5:
            instruction = phrase.format(*handles)
        else:
            form = _forms("intent_format")[0]
            word = rng.choice(list(FORMAT_TITLES.values()))
            instruction = render(form, op=operation, args=" and ".join(handles), format=word)
        parsed = parse_instruction(instruction)
        contract = Contract(1000, [(0, operation)] + [(i + 1, Handle(h)) for i, h in enumerate(handles)])
        key = instruction  # the same contract in another phrasing or format is another example
        return Example(
            instruction,
            answer(parsed),
            "coordinator",
            parsed.task,
            "text",
            parsed.target_format,
            1,
            value_size(contract),
            self.split_for(key),
            ood,
            key,
        )

    def build_expert(self, expert: str, number: int) -> dict[str, list[Example]]:
        spec = self.spec
        rng = random.Random(spec.seed * 10 + number)
        values = ValueGenerator(rng)
        targets = {"train": spec.train[expert], "validation": spec.validation, "test": spec.test}
        rows: dict[str, list[Example]] = {split: [] for split in SPLITS}
        seen: set[str] = set()

        def add(example: Example | None) -> None:
            if example is None or example.instruction in seen or len(rows[example.split]) >= targets[example.split]:
                return
            seen.add(example.instruction)
            rows[example.split].append(example)

        if expert == "coordinator":
            for example in self.question_examples():
                add(example)
        for instruction in pinned_instructions():
            if route(instruction)[0] == expert:
                add(self.example_from(instruction, expert, "train"))
        for value in _pinned_values():
            add(self.format_example(rng, expert, value, "train", False))
        budget = 50 * sum(targets.values())
        while any(len(rows[split]) < targets[split] for split in SPLITS):
            budget -= 1
            if budget < 0:
                raise RuntimeError(f"corpus generation for {expert} does not converge")
            draw = rng.random()
            if expert == "coordinator" and draw < 0.12:
                add(self.intent_example(rng))
                continue
            depth = rng.choices((0, 1, 2, 3, 4), weights=(10, 30, 30, 20, 10))[0]
            value = values.simple() if rng.random() < 0.2 else values.value(depth)
            canonical = to_hlxl(value)
            if len(canonical) > MAX_VALUE_CHARS:
                continue
            split = self.split_for(canonical)
            if expert == "coordinator" and draw < 0.22:
                add(self.routing_example(rng, value, split))
            else:
                add(self.format_example(rng, expert, value, split, False))
        rows["test"] += self.ood_examples(rng, expert, seen)
        rows["train"] += self.drill_examples(expert, number, seen)
        rows["train"] += self.nesting_drill_examples(expert, number, seen)
        return rows

    def drill_examples(self, expert: str, number: int, seen: set[str]) -> list[Example]:
        """Scalar drills, appended to the training split. They draw from their own random
        stream, so adding or resizing them leaves every other example as it was; a drill value
        whose hash puts it in another split is skipped, so no value appears in two splits."""
        rng = random.Random(f"{self.spec.seed}-drill-{number}")
        drills = ScalarDrill(rng, integers=expert == "coordinator")
        wanted = (self.spec.drills or {}).get(expert, 0)
        return self.drawn_examples(rng, expert, seen, wanted, drills.value, "train", (0, MAX_VALUE_CHARS), drill="drill")

    def nesting_drill_examples(self, expert: str, number: int, seen: set[str]) -> list[Example]:
        """Nesting drills, after the scalar drills, from a random stream of their own (so
        neither changes the other, nor anything else)."""
        rng = random.Random(f"{self.spec.seed}-nesting-{number}")
        drills = NestingDrill(rng)
        wanted = (self.spec.nesting_drills or {}).get(expert, 0)
        return self.drawn_examples(rng, expert, seen, wanted, drills.value, "train", (0, MAX_VALUE_CHARS), drill="nesting")

    def ood_examples(self, rng: random.Random, expert: str, seen: set[str]) -> list[Example]:
        """The out-of-distribution test slice: depth 5-6 and longer than any training value."""
        values = ValueGenerator(rng)
        draw = lambda: values.value(rng.choice((5, 6)))
        lengths = (MAX_VALUE_CHARS + 1, 3 * MAX_VALUE_CHARS)
        return self.drawn_examples(rng, expert, seen, self.spec.test_ood, draw, "test", lengths, ood=True)

    def drawn_examples(
        self,
        rng: random.Random,
        expert: str,
        seen: set[str],
        wanted: int,
        draw: Callable[[], Any],
        split: str,
        lengths: tuple[int, int],
        ood: bool = False,
        drill: str = "",
    ) -> list[Example]:
        """``wanted`` new format examples of drawn values whose canonical HLXL length is within
        ``lengths`` and whose hash puts them in ``split``."""
        found: list[Example] = []
        budget = 1000 * wanted  # the OOD slice keeps about 1 draw in 30; drills 4 in 5, nesting drills 2 in 5
        while len(found) < wanted:
            budget -= 1
            if budget < 0:
                raise RuntimeError(f"corpus generation for {expert} ({split}) does not converge")
            value = draw()
            canonical = to_hlxl(value)
            if not lengths[0] <= len(canonical) <= lengths[1] or self.split_for(canonical) != split:
                continue
            example = self.format_example(rng, expert, value, split, ood, drill)
            if example is not None and example.instruction not in seen:
                seen.add(example.instruction)
                found.append(example)
        return found

    def build(self) -> dict[str, dict[str, list[Example]]]:
        return {expert: self.build_expert(expert, number) for number, expert in enumerate(EXPERTS)}


# --- dataset card --------------------------------------------------------------------


def _percentiles(lengths: list[int]) -> dict[str, int]:
    ordered = sorted(lengths)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": ordered[-1]}


def _length_rows(corpora: dict[str, dict[str, list[Example]]], measure: Callable[[Example], int]) -> list[str]:
    lines = ["| expert | split | p50 | p90 | p99 | max |", "|---|---|---|---|---|---|"]
    for expert, rows in corpora.items():
        for split in SPLITS:
            stats = _percentiles([measure(example) for example in rows[split]])
            lines.append(f"| {expert} | {split} | {stats['p50']} | {stats['p90']} | {stats['p99']} | {stats['max']} |")
    return lines


def _byte_rows(corpora: dict[str, dict[str, list[Example]]]) -> list[str]:
    """Byte-value occurrences in the values of each expert's training instructions."""
    lines = [
        "| expert | training examples with bytes | bytes | byte values seen | per byte value: min | median | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for expert, rows in corpora.items():
        counts: Counter[int] = Counter({byte: 0 for byte in range(256)})
        with_bytes = 0
        for example in rows["train"]:
            instruction = parse_instruction(example.instruction)
            if instruction.value_text is None or instruction.source_format is None:
                continue
            value = DECODERS[instruction.source_format](instruction.value_text)
            found = [item for item in iter_values(value) if isinstance(item, bytes)]
            with_bytes += bool(found)
            for data in found:
                counts.update(data)
        per_value = sorted(counts.values())
        lines.append(
            f"| {expert} | {with_bytes} | {sum(per_value)} | {sum(n > 0 for n in per_value)} | "
            f"{per_value[0]} | {median(per_value):g} | {per_value[-1]} |"
        )
    return lines


def _drill_lines(spec: CorpusSpec) -> list[str]:
    drills = {expert: count for expert, count in (spec.drills or {}).items() if count}
    if not drills:
        return ["* No scalar drills (`hlx corpus build --drills N` appends N to each training split)."] + _nesting_drill_lines(spec)
    return [
        "* Each training split ends with scalar drills (`_drill` tasks; "
        + ", ".join(f"{count} for {expert}" for expert, count in drills.items())
        + "):",
        "  small values made of byte strings (and, for the coordinator, integers of 1-19 digits, which",
        "  LC-B writes in hexadecimal), the scalars the experts got wrong most. Their bytes are dealt",
        "  from a shuffled deck of every byte value (printable ASCII twice), so each byte value is",
        "  spelled many times. They come from their own random stream and skip values whose hash puts",
        "  them in another split: the other examples, and the validation and test splits, are the same",
        "  with or without them.",
    ] + _nesting_drill_lines(spec)


def _nesting_drill_lines(spec: CorpusSpec) -> list[str]:
    drills = {expert: count for expert, count in (spec.nesting_drills or {}).items() if count}
    if not drills:
        return []
    return [
        "* Then nesting drills (`_nesting` tasks; " + ", ".join(f"{count} for {expert}" for expert, count in drills.items()) + "):",
        "  values of depth 3-4 made of small scalars whose members mostly repeat one shape (records",
        "  with the same keys, arrays of arrays), where the experts dropped a nesting level. The same",
        "  rules as the scalar drills: their own random stream, training hashes only.",
    ]


def dataset_card(corpora: dict[str, dict[str, list[Example]]], spec: CorpusSpec, token_stats: str | None = None) -> str:
    lines = [
        "# HLX expert corpora",
        "",
        "Training, validation and test examples for the three experts of the HLX mixture, generated",
        "by `hlx_moe.corpus` and answered by the reference codecs of `hlx_formats`, so every answer",
        "is the reference answer of its prompt. Do not edit these files by hand: regenerate them.",
        "",
        "```sh",
        f"hlx corpus build            # writes corpora/ (seed {spec.seed}); the same bytes on every machine",
        "hlx corpus check            # regenerates in memory and fails on the first difference",
        "```",
        "",
        "## Files",
        "",
        "`<expert>/<split>.jsonl`, UTF-8, one JSON object per line:",
        "",
        "| field | meaning |",
        "|---|---|",
        "| `input` | the prompt: `### Instruction:\\n<instruction>\\n\\n### Response:\\n` |",
        "| `output` | the answer (canonical text, or one sentence for questions) |",
        "| `expert` | `runic`, `ascii` or `coordinator` |",
        "| `task` | the task (`convert_to_lcr`, `parse_lct`, `all_formats`, ...); `_lenient` marks a non-canonical input spelling, `_drill` a scalar drill, `_nesting` a nesting drill |",
        "| `source_format`, `target_format` | `hlxl`, `lc-t`, `lc-r`, `lc-b`; `text` for none; `all` for the four-line answer |",
        "| `depth`, `size` | nesting depth and number of values of the value (null for questions) |",
        "| `split` | `train`, `validation` or `test` |",
        "| `ood` | true for the out-of-distribution test slice |",
        "",
        "## How they are made",
        "",
        "* Values are drawn from the whole data model with depth 0-4 (weights 10/30/30/20/10) and at most",
        "  6 members per array, object or contract, realistic names (operations, handles, keys, English words)",
        "  and awkward ones (escapes, non-ASCII, reserved or quoted keys, bytes, big and negative integers,",
        f"  exponents). A training value's canonical HLXL is at most {MAX_VALUE_CHARS} characters",
        f"  ({MAX_PROMPT_CHARS['all_formats']} for all-formats answers).",
        "* The split of an example is fixed by a hash of the canonical HLXL of its value (of the prompt,",
        "  for questions and intents), so no value appears in two splits. The worked examples of the",
        "  specification, the original report's test cases and the scalar atoms are always in `train`.",
        f"* {int(LENIENT_SHARE * 100)}% of a specialist's examples spell the input leniently (extra or missing",
        "  whitespace, quoted keys, legacy LC-R glyphs); the answer is always canonical.",
        f'* The test split ends with {spec.test_ood} out-of-distribution examples (`"ood": true`): values of depth',
        f"  5-6 whose canonical HLXL is longer than any training value ({MAX_VALUE_CHARS}-{3 * MAX_VALUE_CHARS} characters).",
        *_drill_lines(spec),
        "* The coordinator also learns every question of the facts table (`hlx_formats.facts`): what each",
        "  glyph means, the glyph for a meaning, the known contracts, the formats, which expert handles",
        "  what; routing questions; and plain-English intents mapped to contract 1000.",
        "",
        "## Counts",
        "",
    ]
    tasks = sorted({example.task for rows in corpora.values() for split in SPLITS for example in rows[split]})
    for expert, rows in corpora.items():
        counts = {split: Counter(example.task for example in rows[split]) for split in SPLITS}
        ood = sum(example.ood for example in rows["test"])
        lines += [f"### {expert}", "", "| task | train | validation | test |", "|---|---|---|---|"]
        for task in tasks:
            if any(counts[split][task] for split in SPLITS):
                lines.append(f"| {task} | {counts['train'][task]} | {counts['validation'][task]} | {counts['test'][task]} |")
        totals = [len(rows[split]) for split in SPLITS]
        lines += [f"| **total** | **{totals[0]}** | **{totals[1]}** | **{totals[2]}** (of which {ood} ood) |", ""]
    lines += [
        "## Byte strings",
        "",
        "How often the training values spell each of the 256 byte values (every byte of every byte",
        "string, once per example it is in). LC-R and LC-T write bytes in hexadecimal and",
        "HLXL writes printable ASCII as itself, so each byte value is a look-up the experts learn",
        "from these occurrences alone:",
        "",
        *_byte_rows(corpora),
        "",
        "## Lengths",
        "",
        "Characters of prompt plus answer:",
        "",
        *_length_rows(corpora, lambda example: len(prompt_of(example.instruction)) + len(example.output)),
        "",
    ]
    if token_stats:
        lines += [token_stats.rstrip(), ""]
    else:
        lines += [
            "Token lengths and LC-R glyph tokens for the embedded tokenizer: run `hlx corpus stats` with the",
            "`[moe]` extra installed (it writes `token_lengths.md` beside this card).",
            "",
        ]
    return "\n".join(lines)


# --- files ---------------------------------------------------------------------------


def build(spec: CorpusSpec = DEFAULT_SPEC, token_stats: str | None = None) -> dict[str, str]:
    """All corpus files, as ``{relative path: text}``: the JSONL splits of each expert, the
    request phrasings (``requests/``) and the dataset card."""
    corpora = _Builder(spec).build()
    files: dict[str, str] = {}
    for expert, rows in corpora.items():
        for split in SPLITS:
            lines = [json.dumps(example.row(), ensure_ascii=False) for example in rows[split]]
            files[f"{expert}/{split}.jsonl"] = "\n".join(lines) + "\n"
    requests = request_rows(spec)
    for split in SPLITS:
        lines = [json.dumps(row, ensure_ascii=False) for row in requests[split]]
        files[f"requests/{split}.jsonl"] = "\n".join(lines) + "\n"
    files["README.md"] = dataset_card(corpora, spec, token_stats) + requests_card(requests)
    return files


# --- request phrasings ---------------------------------------------------------------

#: Request phrasings per split (``corpora/requests/``), rendered from the request
#: description of ``hlx_formats.requests``: the held-out templates only in the test split.
REQUEST_COUNTS = {"train": 3000, "validation": 300, "test": 600}
_QUESTION_PARAMS: dict[str, Callable[[random.Random], dict[str, str]]] = {
    "contract": lambda rng: {"id": str(rng.choice(KNOWN_IDS + (7, 42, 2000)))},
    "format_info": lambda rng: {"format": rng.choice(ALL_FORMATS_ORDER)},
    "expert_info": lambda rng: {"format": rng.choice(ALL_FORMATS_ORDER)},
    "expert_use": lambda rng: {"expert": rng.choice(EXPERTS)},
    "format_for": lambda rng: {
        "purpose": rng.choice([word for _, _, words in facts.FORMAT_PURPOSES for word in words if word.isalpha() and len(word) > 3])
    },
    "glyph_for": lambda rng: {
        "gname": rng.choice([name.removeprefix("the ") for name in facts.GLYPH_NAMES.values()] + list(facts.GLYPH_SYNONYMS))
    },
    "glyph_meaning": lambda rng: {"glyph": rng.choice(list(GLYPHS) + list(LEGACY_GLYPHS))},
}


def _request_row(rng: random.Random, template: Any, values: ValueGenerator) -> tuple[dict[str, Any], str] | None:
    """One phrasing of ``template`` with its reference answer, and the key that decides its split."""
    from hlx_formats import translate
    from hlx_formats.requests import parse_request

    family = template.family
    if family in _QUESTION_PARAMS:
        params = _QUESTION_PARAMS[family](rng)
        phrase = template.render(rng, **params)
        key = phrase
    else:
        value = values.value(rng.choice((0, 1, 1, 2, 2, 3)))
        canonical = to_hlxl(value)
        if len(canonical) > MAX_VALUE_CHARS:
            return None
        source = rng.choice(ALL_FORMATS_ORDER)
        targets: Any = rng.choice([(fmt,) for fmt in ALL_FORMATS_ORDER] + [("lc-t", "lc-r"), ("lc-r", "lc-b"), "all"])
        if family == "convert" and "{targets}" not in template.pattern:
            targets = ("hlxl",)
        phrase = template.render(rng, value=ENCODERS[source](value), source=source, targets=targets)
        key = canonical
    try:
        request = parse_request(phrase)
        output = translate(phrase)
    except Exception:  # noqa: BLE001 - a rendering the reader refuses (ambiguous, or detected otherwise) is skipped
        return None
    expert, _ = route(request.instruction)
    row = {
        "input": prompt_of(phrase),
        "output": output,
        "instruction": request.render(),
        "expert": expert,
        "task": request.instruction.form.task,
        "family": family,
        "template": template.pattern,
        "held_out_phrasing": template.held_out,
    }
    return row, key


def request_rows(spec: CorpusSpec) -> dict[str, list[dict[str, Any]]]:
    """Request phrasings of every template with their reference answers, split by the value
    (or the question) as the expert corpora are; a phrasing appears once."""
    from hlx_formats.requests import TEMPLATES

    rng = random.Random(f"{spec.seed}-requests")
    values = ValueGenerator(rng)
    builder = _Builder(spec)
    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    seen: set[str] = set()
    budget = 20 * sum(REQUEST_COUNTS.values())
    while any(len(rows[split]) < REQUEST_COUNTS[split] for split in SPLITS):
        budget -= 1
        if budget < 0:
            raise RuntimeError("request phrasing generation does not converge")
        template = rng.choice(TEMPLATES)
        made = _request_row(rng, template, values)
        if made is None:
            continue
        row, key = made
        split = builder.split_for(key)
        if template.held_out:
            split = "test"  # phrasings held out of training are measured apart, in the test split
        if row["input"] in seen or len(rows[split]) >= REQUEST_COUNTS[split]:
            continue
        seen.add(row["input"])
        rows[split].append({**row, "split": split})
    return rows


def requests_card(rows: dict[str, list[dict[str, Any]]]) -> str:
    """The dataset card's section on the request phrasings."""
    families = Counter(row["family"] for split in SPLITS for row in rows[split])
    lines = [
        "",
        "## Request phrasings (`requests/`)",
        "",
        "Requests as people write them, rendered from the request description of",
        "`hlx_formats.requests` (`TEMPLATES`): the same description `translate()` reads them with,",
        "so each row's `output` is the reference answer and `instruction` the canonical",
        "instruction it is equivalent to (`hlx translate --canonical`). `expert` owns that",
        "instruction, `family` and `template` name the phrasing. Templates marked held out",
        "(`held_out_phrasing`) appear only in the test split, to measure phrasings a learned",
        "reader never saw. Split by the value's canonical HLXL (questions: by the phrasing).",
        "",
        "| split | rows | held-out phrasings |",
        "|---|---|---|",
    ]
    for split in SPLITS:
        lines.append(f"| {split} | {len(rows[split])} | {sum(row['held_out_phrasing'] for row in rows[split])} |")
    lines += ["", "| family | rows |", "|---|---|"]
    lines += [f"| {family} | {count} |" for family, count in sorted(families.items())]
    lines.append("")
    return "\n".join(lines)


def default_root() -> Path:
    """``corpora/`` of the source tree this package sits in."""
    return Path(__file__).resolve().parent.parent / "corpora"


def _token_stats(root: Path) -> str | None:
    path = root / "token_lengths.md"
    return path.read_text("utf-8") if path.exists() else None


def write(root: Path | None = None, spec: CorpusSpec = DEFAULT_SPEC) -> list[Path]:
    """Build the corpora and write them under ``root``; returns the paths written."""
    root = root or default_root()
    written = []
    for relative, text in build(spec, _token_stats(root)).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic.atomic_write_bytes(path, text.encode("utf-8"))
        written.append(path)
    return written


def check(root: Path | None = None, spec: CorpusSpec = DEFAULT_SPEC) -> str | None:
    """Regenerate in memory; None when the files under ``root`` match, else the first difference."""
    root = root or default_root()
    for relative, text in build(spec, _token_stats(root)).items():
        path = root / relative
        if not path.exists():
            return f"{path}: missing (run `hlx corpus build`)"
        committed = path.read_bytes().decode("utf-8", errors="replace")
        if committed == text:
            continue
        old_lines, new_lines = committed.splitlines(), text.splitlines()
        for number, (old, new) in enumerate(zip(old_lines, new_lines), start=1):
            if old != new:
                return f"{path}:{number}: differs from the generator\n  file:      {old[:200]}\n  generated: {new[:200]}"
        return f"{path}: {len(old_lines)} lines in the file, {len(new_lines)} generated"
    return None


def load(path: Path | str) -> list[dict[str, Any]]:
    """The rows of one JSONL corpus file; HLXError naming the file and line of a line that
    is not a UTF-8 JSON object (a truncated or damaged file)."""
    rows = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as error:
                raise HLXError(f"{path}:{number}: not a JSON line ({error})") from None
            if not isinstance(row, dict):
                raise HLXError(f"{path}:{number}: a corpus line is a JSON object, not {type(row).__name__}")
            rows.append(row)
    return rows


def instruction_of(row: dict[str, Any]) -> str:
    """The instruction inside a row's prompt."""
    from hlx_formats.instructions import unwrap

    return unwrap(row["input"])


def token_lengths_report(root: Path | None = None, base: str = "smollm2-135m") -> str:
    """Token lengths (prompt plus answer) of the committed corpus files, as Markdown.

    Needs the ``[moe]`` extra (the tokenizer of ``base``).
    """
    from .base import load_tokenizer

    root = root or default_root()
    tokenizer = load_tokenizer(base)
    lines = [
        f"Tokens of prompt plus answer, for the tokenizer of `{base}` (written by `hlx corpus stats`):",
        "",
        "| expert | split | p50 | p90 | p99 | max | share under 256 |",
        "|---|---|---|---|---|---|---|",
    ]
    for expert in EXPERTS:
        for split in SPLITS:
            rows = load(root / expert / f"{split}.jsonl")
            texts = [row["input"] + row["output"] for row in rows]
            lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
            stats = _percentiles(lengths)
            under = sum(length < 256 for length in lengths) / len(lengths)
            lines.append(f"| {expert} | {split} | {stats['p50']} | {stats['p90']} | {stats['p99']} | {stats['max']} | {under:.2%} |")
    return "\n".join(lines) + "\n\n" + glyph_tokens_report(root, tokenizer)


def glyph_tokens_report(root: Path, tokenizer: Any) -> str:
    """How the tokenizer splits the LC-R glyphs, and what that costs an answer, as Markdown.

    The cost is measured on the same values: every LC-R answer of the runic training split,
    re-encoded as LC-T and HLXL by the reference encoders.
    """
    from hlx_formats import from_lcr, to_lct

    def tokens(text: str) -> list[str]:
        return tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False)["input_ids"])

    lines = [
        "Tokens per LC-R glyph on its own (byte-level pieces; glyphs that share their first pieces",
        "differ only in the last one):",
        "",
        "| glyph | meaning | tokens | pieces |",
        "|---|---|---|---|",
    ]
    for glyph, meaning in GLYPHS.items():
        pieces = tokens(glyph)
        lines.append(f"| {glyph} | {meaning} | {len(pieces)} | {' '.join(f'`{piece}`' for piece in pieces)} |")
    answers = [row["output"] for row in load(root / "runic" / "train.jsonl") if row["target_format"] == "lc-r"]
    values = [from_lcr(text) for text in answers]
    totals = {
        "LC-R": sum(len(tokens(text)) for text in answers),
        "LC-T": sum(len(tokens(to_lct(value))) for value in values),
        "HLXL": sum(len(tokens(to_hlxl(value))) for value in values),
    }
    lines += [
        "",
        f"Tokens for the same values ({len(values)} LC-R answers of the runic training split, re-encoded):",
        "",
        "| format | tokens | per answer | relative to LC-T |",
        "|---|---|---|---|",
    ]
    for name, total in totals.items():
        lines.append(f"| {name} | {total} | {total / len(values):.1f} | {total / totals['LC-T']:.2f} |")
    return "\n".join(lines) + "\n"


def write_token_stats(root: Path | None = None, base: str = "smollm2-135m") -> Path:
    """Measure token lengths (needs the ``[moe]`` extra), save them, and refresh the card."""
    root = root or default_root()
    path = root / "token_lengths.md"
    _atomic.atomic_write_text(path, token_lengths_report(root, base))
    write(root)
    return path
