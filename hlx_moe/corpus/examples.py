"""The experts' examples: every task's prompt with its reference answer, and the splits."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hlx_formats import Contract, Handle, facts, to_hlxl, value_depth, value_size
from hlx_formats.api import ENCODERS
from hlx_formats.grammar import FORMAT_TITLES
from hlx_formats.instructions import FORMS, Form, answer, parse_instruction, render, route
from hlx_formats.lcr import GLYPHS, LEGACY_GLYPHS

from .lenient import lenient_spelling
from .spec import EXPERTS, SPLITS, CorpusSpec, prompt_of
from .values import HANDLE_NAMES, KNOWN_IDS, NestingDrill, ScalarDrill, ValueGenerator

__all__ = ["LENIENT_SHARE", "MAX_PROMPT_CHARS", "MAX_VALUE_CHARS", "Example", "ExampleBuilder", "pinned_instructions", "split_of"]


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


class ExampleBuilder:
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
