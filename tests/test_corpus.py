"""The committed corpora: regenerated exactly, every line right, no value in two splits."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from hlx_formats import Contract, Handle, iter_values, to_hlxl, translate, value_depth, value_size
from hlx_formats.api import DECODERS, ENCODERS
from hlx_formats.grammar import parse_reference
from hlx_formats.instructions import parse_instruction, route
from hlx_moe import corpus
from hlx_moe.corpus import card, examples, values
from hlx_moe.corpus.rewrites import REPAIR_REQUEST_SHARE

ROOT = Path(__file__).resolve().parent.parent / "corpora"
LEGACY = set("🐊🐁🐂🐃🐄")
# Small phrasing and rewrite splits for the small corpora built here (the default sizes take
# most of a build's time).
FEW_PHRASINGS = dict(
    requests={"train": 20, "validation": 4, "test": 8},
    rewrites={"train": 24, "validation": 4, "test": 10},
    repairs={"train": 16, "validation": 8, "test": 16},
)


def rows_of(expert: str, split: str) -> list[dict]:
    return corpus.load(ROOT / expert / f"{split}.jsonl")


ALL_ROWS = {(expert, split): rows_of(expert, split) for expert in corpus.EXPERTS for split in corpus.SPLITS}


@pytest.mark.slow
def test_committed_files_are_what_the_generator_writes() -> None:
    assert corpus.check(ROOT) is None


def test_check_reports_the_first_difference(tmp_path: Path) -> None:
    small = corpus.CorpusSpec(train={"runic": 40, "ascii": 40, "coordinator": 160}, validation=5, test=5, test_ood=2, **FEW_PHRASINGS)
    for relative, text in corpus.build(small).items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    assert corpus.check(tmp_path, small) is None
    path = tmp_path / "ascii" / "train.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"output": "', '"output": "X', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = corpus.check(tmp_path, small)
    assert report is not None and "train.jsonl:4:" in report
    (tmp_path / "runic" / "test.jsonl").unlink()
    assert "missing" in corpus.check(tmp_path, small)


def test_a_spec_sets_the_sizes_of_the_phrasing_and_rewrite_splits() -> None:
    small = corpus.CorpusSpec(train={"runic": 30, "ascii": 30, "coordinator": 150}, validation=4, test=4, test_ood=2, **FEW_PHRASINGS)
    files = corpus.build(small)
    for kind, counts in FEW_PHRASINGS.items():
        for split, count in counts.items():
            extra = count // REPAIR_REQUEST_SHARE if kind == "rewrites" else 0  # the rows with a broken value
            assert files[f"{kind}/{split}.jsonl"].count("\n") == count + extra, (kind, split)
    test_rewrites = [json.loads(line) for line in files["rewrites/test.jsonl"].splitlines()]
    held_out = [row for row in test_rewrites if row["held_out_phrasing"]]
    assert sum(row["variation"] not in ("repair", "broken") for row in held_out) == 5  # half of the test split


def test_generation_is_deterministic_and_seeded() -> None:
    small = corpus.CorpusSpec(train={"runic": 30, "ascii": 30, "coordinator": 150}, validation=4, test=4, test_ood=2, **FEW_PHRASINGS)
    assert corpus.build(small) == corpus.build(small)
    other = corpus.CorpusSpec(**{**small.__dict__, "seed": small.seed + 1})
    assert corpus.build(other)["runic/validation.jsonl"] != corpus.build(small)["runic/validation.jsonl"]


def test_sizes() -> None:
    for expert in corpus.EXPERTS:
        train = len(ALL_ROWS[expert, "train"])
        assert train >= (3000 if expert == "coordinator" else 5000)
        assert len(ALL_ROWS[expert, "validation"]) >= 300
        in_distribution = [row for row in ALL_ROWS[expert, "test"] if not row["ood"]]
        assert len(in_distribution) >= 500
        assert sum(row["ood"] for row in ALL_ROWS[expert, "test"]) >= 100


def _value_of(instruction: str):
    parsed = parse_instruction(instruction)
    if parsed.form.task == "routing":
        return _value_of(parsed.params["instruction"])
    if parsed.form.task in ("intent", "intent_format"):
        return DECODERS[parsed.target_format](translate(instruction))
    if parsed.value_text is None:
        return None
    return DECODERS[parsed.source_format](parsed.value_text)


def _parses_in_target(row: dict, target: str) -> None:
    output = row["output"]
    if target == "all":
        lines = output.split("\n")
        assert [line.split(": ", 1)[0] for line in lines] == ["HLXL", "LC-R", "LC-T", "LC-B"]
        for line, fmt in zip(lines, ("hlxl", "lc-r", "lc-t", "lc-b")):
            parse_reference(fmt, line.split(": ", 1)[1], canonical=True)
    elif target != "text":
        if row["task"].startswith("parse_"):
            assert output.startswith("HLXL: ")
            output = output[len("HLXL: ") :]
        parse_reference(target, output, canonical=True)


@pytest.mark.parametrize("expert", corpus.EXPERTS)
@pytest.mark.parametrize("split", corpus.SPLITS)
def test_every_line(expert: str, split: str) -> None:
    rows = ALL_ROWS[expert, split]
    raw = (ROOT / expert / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(raw) == len(rows)
    for line, row in zip(raw, rows):
        assert json.dumps(row, ensure_ascii=False) == line
        assert row["input"].startswith("### Instruction:\n") and row["input"].endswith("\n\n### Response:\n")
        instruction = corpus.instruction_of(row)
        parsed = parse_instruction(instruction)
        # The answer is the reference translation of the prompt, and parses in its grammar.
        assert row["output"] == translate(instruction), instruction
        _parses_in_target(row, parsed.target_format)
        if parsed.answers_in_format:
            assert not LEGACY & set(row["output"])
        # Metadata agrees with the prompt.
        assert (row["expert"], row["split"]) == (expert, split)
        assert row["target_format"] == parsed.target_format
        assert row["source_format"] in (parsed.source_format or "text", "hlxl", "lc-t", "lc-r", "lc-b")
        assert row["task"].removesuffix("_drill").removesuffix("_nesting").removesuffix("_lenient") == parsed.task
        assert row["ood"] is False or split == "test"
        assert not row["task"].endswith(("_drill", "_nesting")) or split == "train"
        value = _value_of(instruction)
        if row["depth"] is None:
            assert value is None and row["size"] is None
        else:
            assert (row["depth"], row["size"]) == (value_depth(value), value_size(value))
        # Lenient examples, and only they, spell the value non-canonically.
        if parsed.value_text is not None and parsed.form.task != "routing":
            canonical = ENCODERS[parsed.source_format](value)
            assert (parsed.value_text != canonical) == row["task"].endswith("_lenient"), instruction
        # Each expert's corpus holds exactly what the router sends to it.
        if parsed.form.task != "routing":
            assert route(parsed)[0] == expert, instruction


def _split_key(row: dict) -> str:
    instruction = corpus.instruction_of(row)
    parsed = parse_instruction(instruction)
    if parsed.form.task == "routing":
        parsed = parse_instruction(parsed.params["instruction"])
    if parsed.value_text is None:
        return instruction
    return to_hlxl(DECODERS[parsed.source_format](parsed.value_text))


def test_no_value_in_two_splits() -> None:
    splits_of = defaultdict(set)
    for (_expert, split), rows in ALL_ROWS.items():
        for row in rows:
            splits_of[_split_key(row)].add(split)
    leaked = {key: splits for key, splits in splits_of.items() if len(splits) > 1}
    assert not leaked, list(leaked.items())[:5]


def test_out_of_distribution_slice() -> None:
    longest_train = max(len(_split_key(row)) for expert in corpus.EXPERTS for row in ALL_ROWS[expert, "train"] if row["depth"] is not None)
    for expert in corpus.EXPERTS:
        ood = [row for row in ALL_ROWS[expert, "test"] if row["ood"]]
        assert ood and all(row["depth"] in (5, 6) for row in ood)
        assert all(len(_split_key(row)) > longest_train for row in ood)
        assert max(row["depth"] for row in ALL_ROWS[expert, "train"] if row["depth"] is not None) <= 4


def test_covers_every_kind_and_task() -> None:
    kinds = set()
    for rows in ALL_ROWS.values():
        for row in rows[:400]:
            value = _value_of(corpus.instruction_of(row))
            stack = [value]
            while stack:
                item = stack.pop()
                kinds.add(type(item).__name__)
                if isinstance(item, list):
                    stack.extend(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
                elif hasattr(item, "items") and not isinstance(item, dict):
                    stack.extend(v for _, v in item.items())
    assert {"NoneType", "bool", "int", "float", "str", "bytes", "Handle", "Contract", "list", "dict"} <= kinds
    tasks = {row["task"] for rows in ALL_ROWS.values() for row in rows}
    for task in ("convert_to_lcr", "translate_hlxl_to_lcr", "parse_lcr", "lct_to_lcr", "parse_lcr_lenient",
                 "convert_to_lct", "translate_hlxl_to_lct", "parse_lct", "lcr_to_lct", "parse_lct_lenient",
                 "convert_to_lcb", "parse_lcb", "all_formats", "glyph_meaning", "glyph_for", "contract_info",
                 "format_info", "expert_info", "routing", "intent", "intent_format"):  # fmt: skip
        assert task in tasks, task
    legacy_inputs = [row for row in ALL_ROWS["runic", "train"] if LEGACY & set(row["input"])]
    assert len(legacy_inputs) >= 50


# The examples of the specification and the original report's test cases are taught as-is.
ORIGINAL_CASES = {
    "Convert to LC-T: null": "NULL",
    "Convert to LC-R: [1, 2, 3]": "🜃1, 2, 3🜄",
    "Parse LC-T: {C:14,0=42}": "HLXL: {14: {@0: 42}}",
    "Translate HLXL to all formats: null": "HLXL: null\nLC-R: ∅\nLC-T: NULL\nLC-B: [_]",
    'Convert to LC-T: {1000: {@0: "search", @1: &h_documents}}': '{C:1000,0="search",1=@documents}',
}
SPEC_ROWS = [
    ("null", "NULL", "∅", "[_]"),
    ("true", "TRUE", "⊤", "[T]"),
    ("[1, 2, 3]", "[1,2,3]", "🜃1, 2, 3🜄", "[[0x01,0x02,0x03]]"),
    ("{14: {@0: 42}}", "{C:14,0=42}", "🜊14🜁0 42🜂", "[14|0:0x2a]"),
    ('{1000: {@0: "search", @1: &h_documents}}', '{C:1000,0="search",1=@documents}', '🜊1000🜁0 "search"🜁1 ⟁documents🜂', '[1000|0:"search"|1:&documents]'),
    ('{user: {name: "Bob", age: 30}}', '{user:{name:"Bob",age:30}}', '◇user: ◇name: "Bob", age: 30◆◆', '[{user:{name:"Bob",age:0x1e}}]'),
    ('[true, 42, "hello", null]', '[TRUE,42,"hello",NULL]', '🜃⊤, 42, "hello", ∅🜄', '[[T,0x2a,"hello",_]]'),
]  # fmt: skip


def _taught() -> dict[str, str]:
    return {corpus.instruction_of(row): row["output"] for expert in corpus.EXPERTS for row in ALL_ROWS[expert, "train"]}


def test_original_test_cases_are_taught() -> None:
    taught = _taught()
    for prompt, expected in ORIGINAL_CASES.items():
        assert translate(prompt) == expected
        assert taught[prompt] == expected


@pytest.mark.parametrize("hlxl, lct, lcr, lcb", SPEC_ROWS)
def test_specification_examples_are_taught(hlxl: str, lct: str, lcr: str, lcb: str) -> None:
    taught = _taught()
    expected = {
        f"Convert to LC-R: {hlxl}": lcr,
        f"Convert to LC-T: {hlxl}": lct,
        f"Convert to LC-B: {hlxl}": lcb,
        f"Parse LC-R: {lcr}": f"HLXL: {hlxl}",
        f"Parse LC-T: {lct}": f"HLXL: {hlxl}",
        f"Parse LC-B: {lcb}": f"HLXL: {hlxl}",
        f"Convert this to Runic glyphs: {lct}": lcr,
        f"Convert this to text-safe format: {lcr}": lct,
        f"Translate HLXL to all formats: {hlxl}": f"HLXL: {hlxl}\nLC-R: {lcr}\nLC-T: {lct}\nLC-B: {lcb}",
    }
    for prompt, answer in expected.items():
        assert translate(prompt) == answer
        assert taught[prompt] == answer, prompt
    # The same value written with the legacy glyphs is answered canonically.
    legacy = lcr.translate(str.maketrans("🜊🜁🜂🜃🜄", "🐊🐁🐂🐃🐄"))
    assert translate(f"Parse LC-R: {legacy}") == f"HLXL: {hlxl}"


def test_drills_follow_the_generated_examples_and_spell_every_byte_value() -> None:
    drills = {"runic": 50, "ascii": 300, "coordinator": 300}
    spec = corpus.CorpusSpec(
        train={"runic": 30, "ascii": 30, "coordinator": 150}, validation=4, test=4, test_ood=2, drills=drills, **FEW_PHRASINGS
    )
    files = corpus.build(spec)
    rows = {expert: [json.loads(line) for line in files[f"{expert}/train.jsonl"].splitlines()] for expert in corpus.EXPERTS}
    for expert, wanted in drills.items():
        drill = [row["task"].endswith("_drill") for row in rows[expert]]
        # Appended after the generated examples, canonical, and in the training split only.
        assert drill == [False] * (len(drill) - wanted) + [True] * wanted
        assert not any(row["task"].endswith("_lenient") for row in rows[expert][-wanted:])
        assert "_drill" not in files[f"{expert}/validation.jsonl"] + files[f"{expert}/test.jsonl"]
        for row in rows[expert][-wanted:]:
            assert row["output"] == translate(corpus.instruction_of(row))
            assert examples.split_of(_split_key(row)) == "train"

    def scalars(expert: str) -> list:
        return [item for row in rows[expert][-drills[expert] :] for item in iter_values(_value_of(corpus.instruction_of(row)))]

    ascii_scalars = scalars("ascii")
    assert set().union(*(item for item in ascii_scalars if isinstance(item, bytes))) == set(range(256))
    assert not any(type(item) is int for item in ascii_scalars)  # integers are the coordinator's drill (LC-B hex)
    assert sum(type(item) is int and abs(item) >= 2**32 for item in scalars("coordinator")) >= 20
    assert "300 for ascii" in files["README.md"] and "No scalar drills" not in files["README.md"]


def test_drills_leave_the_other_examples_unchanged() -> None:
    small = corpus.CorpusSpec(train={"runic": 30, "ascii": 30, "coordinator": 150}, validation=4, test=4, test_ood=2, **FEW_PHRASINGS)
    drilled = corpus.CorpusSpec(**{**small.__dict__, "drills": {"ascii": 20, "coordinator": 10}, "nesting_drills": {"coordinator": 5}})
    plain, more = corpus.build(small), corpus.build(drilled)
    for relative, text in plain.items():
        if relative.endswith(".jsonl"):
            assert more[relative].startswith(text), relative
    assert more["ascii/train.jsonl"].count("\n") == plain["ascii/train.jsonl"].count("\n") + 20
    assert more["runic/train.jsonl"] == plain["runic/train.jsonl"]
    assert more["coordinator/train.jsonl"].count("\n") == plain["coordinator/train.jsonl"].count("\n") + 15


def _shape(value: object) -> object:
    """A value with every scalar replaced by None: what a nesting drill repeats."""
    if isinstance(value, list):
        return [_shape(member) for member in value]
    if isinstance(value, dict):
        return {key: _shape(member) for key, member in value.items()}
    if isinstance(value, Contract):
        return (value.id, [(index, _shape(field)) for index, field in value.items()])
    return None


def _members(value: object) -> list:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, Contract):
        return [field for _, field in value.items()]
    return value if isinstance(value, list) else []


def _repeats_a_shape(value: object) -> bool:
    """Whether some container holds two members of the same non-scalar shape."""
    members = _members(value)
    shapes = [repr(_shape(member)) for member in members if _shape(member) is not None]
    return len(shapes) > len(set(shapes)) or any(_repeats_a_shape(member) for member in members)


def test_nesting_drills_are_deep_short_self_similar_and_follow_the_scalar_drills() -> None:
    spec = corpus.CorpusSpec(
        train={"runic": 30, "ascii": 30, "coordinator": 150}, validation=4, test=4, test_ood=2,
        drills={"runic": 5}, nesting_drills={"runic": 200, "coordinator": 10}, **FEW_PHRASINGS,
    )  # fmt: skip
    files = corpus.build(spec)
    rows = [json.loads(line) for line in files["runic/train.jsonl"].splitlines()]
    kinds = ["nesting" if row["task"].endswith("_nesting") else "drill" if row["task"].endswith("_drill") else "" for row in rows]
    assert kinds == [""] * (len(rows) - 205) + ["drill"] * 5 + ["nesting"] * 200
    drills = rows[-200:]
    values = [_value_of(corpus.instruction_of(row)) for row in drills]
    assert {row["depth"] for row in drills} == {3, 4} and sum(row["depth"] == 4 for row in drills) > 100
    assert all(value_depth(value) == row["depth"] for value, row in zip(values, drills))
    assert all(len(to_hlxl(value)) <= examples.MAX_VALUE_CHARS for value in values)
    assert sum(map(_repeats_a_shape, values)) > 120  # most (73% here); one-member containers cannot
    for row in drills:
        assert row["output"] == translate(corpus.instruction_of(row))  # canonical input, reference answer
        assert examples.split_of(_split_key(row)) == "train"
    assert "_nesting" not in files["runic/validation.jsonl"] + files["runic/test.jsonl"]
    assert files["coordinator/train.jsonl"].count("_nesting") == 10 and "_nesting" not in files["ascii/train.jsonl"]
    assert "Then nesting drills (`_nesting` tasks; 200 for runic, 10 for coordinator)" in files["README.md"]


def test_a_nesting_drill_restyles_data_and_keeps_names() -> None:
    drill = values.NestingDrill(random.Random(3))
    value = [{"id": 1, "tags": ["red"]}, Contract(1000, {0: "search", 1: [Handle("documents")]}), Contract(7, {2: "x"})]
    restyled = [drill.restyled(value) for _ in range(20)]
    assert all(_shape(other) == _shape(value) for other in restyled)  # keys, ids, indices, nesting kept
    assert len({repr(other) for other in restyled}) == 20  # the scalars are new
    assert all(other[1][0] == "search" for other in restyled)  # an operation's name is not data
    assert any(other[2][2] != "x" for other in restyled)  # an unknown contract's field is


def test_byte_rows_count_every_byte_of_every_training_value() -> None:
    def example(instruction: str, split: str = "train") -> examples.Example:
        return examples.Example(instruction, "", "ascii", "", "hlxl", "lc-t", 1, 1, split, False, instruction)

    rows = {
        "train": [
            example('Translate HLXL to LC-T: [b"aa", {1000: {@0: b"\\x00"}}]'),
            example("Parse LC-T: [#61,#ff]"),
            example('Translate HLXL to LC-T: "no bytes"'),
            example("What does 🜊 mean in LC-R?"),
        ],
        "validation": [example('Translate HLXL to LC-T: b"\\x01"', "validation")],
        "test": [],
    }
    header, rule, row = card.byte_rows({"ascii": rows})
    assert header.startswith("| expert |") and rule.startswith("|---")
    # bytes a (0x61) x3, 0x00 and 0xff once each; 253 byte values never; validation not counted
    assert row == "| ascii | 2 | 5 | 3 | 0 | 0 | 3 |"


def test_request_phrasings_are_answered_by_the_reference_and_split_apart():
    """corpora/requests/: every row's output is translate()'s answer to its input and its
    canonical instruction, every family is there, held-out phrasings only in the test split."""
    from hlx_formats import translate
    from hlx_formats.instructions import unwrap
    from hlx_formats.requests import TEMPLATES
    from hlx_moe.corpus import default_root, load

    rows = {split: load(default_root() / "requests" / f"{split}.jsonl") for split in ("train", "validation", "test")}
    assert not any(row["held_out_phrasing"] for row in rows["train"] + rows["validation"])
    assert any(row["held_out_phrasing"] for row in rows["test"])
    assert {row["family"] for row in rows["train"]} == {template.family for template in TEMPLATES}
    inputs = [row["input"] for split in rows.values() for row in split]
    assert len(inputs) == len(set(inputs))
    for row in rows["validation"] + rows["test"][:200]:
        assert translate(unwrap(row["input"])) == row["output"] == translate(row["instruction"])
