"""The dataset card (``corpora/README.md``), written from the corpora themselves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from statistics import median
from typing import Any

from hlx_formats import iter_values
from hlx_formats.api import DECODERS
from hlx_formats.instructions import parse_instruction

from .examples import LENIENT_SHARE, MAX_PROMPT_CHARS, MAX_VALUE_CHARS, Example
from .spec import EXPERTS, SPLITS, CorpusSpec, prompt_of

__all__ = [
    "byte_rows", "card_metadata", "card_metadata_yaml", "dataset_card", "percentiles", "repairs_card", "requests_card", "rewrites_card",
]  # fmt: skip

# The configurations of the dataset card: one per expert, the request phrasings, the rewrites and the repairs.
_CONFIGS = (*EXPERTS, "requests", "rewrites", "repairs")


def card_metadata() -> dict[str, Any]:
    """The dataset card's metadata (Hugging Face's dataset card fields): license, language,
    task, size and one ``configs`` entry per expert (and the request phrasings), each with its
    three splits, so that ``datasets.load_dataset("corpora", "runic")`` reads one expert."""
    return {
        "language": ["en"],
        "license": "mit",
        "size_categories": ["10K<n<100K"],
        "task_categories": ["text-generation"],
        "pretty_name": "HLX expert corpora",
        "tags": ["hlx", "serialization", "translation", "synthetic"],
        "configs": [
            {"config_name": name, "data_files": [{"split": split, "path": f"{name}/{split}.jsonl"} for split in SPLITS]}
            for name in _CONFIGS
        ],
    }


def card_metadata_yaml() -> str:
    """:func:`card_metadata` as YAML, written by ``huggingface_hub``'s ``DatasetCardData`` where
    it is installed; else the same text, spelled here (``tests/test_cards.py`` holds them equal),
    so that the card is the same bytes on every machine."""
    try:
        from huggingface_hub import DatasetCardData
    except ImportError:
        return _metadata_yaml_by_hand(card_metadata())
    return str(DatasetCardData(**card_metadata()).to_yaml())


def _metadata_yaml_by_hand(metadata: dict[str, Any]) -> str:
    lines = []
    for key, value in metadata.items():
        if key == "configs":
            lines.append("configs:")
            for config in value:
                lines += [f"- config_name: {config['config_name']}", "  data_files:"]
                for item in config["data_files"]:
                    lines += [f"  - split: {item['split']}", f"    path: {item['path']}"]
        elif isinstance(value, list):
            lines += [f"{key}:", *(f"- {item}" for item in value)]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def percentiles(lengths: list[int]) -> dict[str, int]:
    ordered = sorted(lengths)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": ordered[-1]}


def _length_rows(corpora: dict[str, dict[str, list[Example]]], measure: Callable[[Example], int]) -> list[str]:
    lines = ["| expert | split | p50 | p90 | p99 | max |", "|---|---|---|---|---|---|"]
    for expert, rows in corpora.items():
        for split in SPLITS:
            stats = percentiles([measure(example) for example in rows[split]])
            lines.append(f"| {expert} | {split} | {stats['p50']} | {stats['p90']} | {stats['p99']} | {stats['max']} |")
    return lines


def byte_rows(corpora: dict[str, dict[str, list[Example]]]) -> list[str]:
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
        "---",
        card_metadata_yaml(),
        "---",
        "",
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
        'With `datasets`: `load_dataset("corpora", "runic")` gives one expert\'s three splits (the',
        "configurations of the header: `runic`, `ascii`, `coordinator`, `requests`, `rewrites`, `repairs`).",
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
        *byte_rows(corpora),
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
    return "\n".join(lines + _split_tables(rows, "family", families))


def rewrites_card(rows: dict[str, list[dict[str, Any]]]) -> str:
    """The dataset card's section on the coordinator's rewrite task."""
    variations = Counter(row["variation"] for split in SPLITS for row in rows[split])
    lines = [
        "",
        "## Rewrites (`rewrites/`)",
        "",
        "The coordinator's rewrite task (`hlx_moe.corpus.rewrites`): the input is `Rewrite as an",
        "instruction: <request>` for a request written freely, the output the canonical instruction",
        "it means (or `Not an HLX request.`), one of the rewrites `hlx_formats.rewrites.rewrite_space`",
        "allows for it, so the value is always copied from the request. `variation` says how the",
        "request was made (a template of the request description, the same with a typo or extra",
        "words, free word orders, other languages' verbs, questions, off-topic requests; one row in",
        "ten holds a broken value: `repair` asks to complete or fix it, its output `Complete this",
        "<F>: ...` or `Fix this <F>: ...` and its `original` the value's text before the damage, by",
        "which the answer is graded; `broken` converts it, its output `Not an HLX request.`: no",
        "rewrite answers it, the value's parse error does; `original` is null on the other rows);",
        "`held_out_phrasing` rows (verbs, format spellings, patterns and templates no training row",
        "has) are only in the test split. Split by the value's canonical HLXL (questions: by the",
        "phrasing). `validation_held_out.jsonl` is the validation split's held-out half: phrasing",
        "families of their own (`VALIDATION_FAMILIES`), in no training or test row, on which (with",
        "`validation.jsonl`) the coordinator's refusal threshold is chosen.",
        "",
        "| split | rows | held-out phrasings |",
        "|---|---|---|",
    ]
    held_out = rows.get("validation_held_out", [])
    tables = _split_tables(rows, "variation", variations)
    tables.insert(SPLITS.index("validation") + 1, f"| validation, held-out half | {len(held_out)} | {len(held_out)} |")
    return "\n".join(lines + tables)


def repairs_card(rows: dict[str, list[dict[str, Any]]]) -> str:
    """The dataset card's section on the repair tasks (completing a truncated value, fixing a typo)."""
    from .repairs import repair_stats

    lines = [
        "",
        "## Repairs (`repairs/`)",
        "",
        "The repair tasks (`hlx_moe.corpus.repairs`, `hlx_formats.repairs`, docs/repairs.md): `Complete",
        "this <F>: <truncated>`, a value's canonical text cut short so that it does not parse, and `Fix",
        "this <F>: <broken>`, the text with one deletion, insertion or swap of neighbours that stops it",
        "parsing. The output is the original canonical text. `fmt` is the format, `given` the text of",
        "the instruction, `original` the canonical text; `recoverable` (completions) says that closing",
        "the given text's open string and containers gives the original, `edit` (fixes) which edit was",
        "made. `expert`: ascii for LC-T, runic for LC-R, coordinator for HLXL and LC-B. Each split has",
        "as many rows of each task and format. Split by the value's canonical HLXL; a value is used once.",
        "",
        "| split | rows | complete | fix |",
        "|---|---|---|---|",
    ]
    for split in SPLITS:
        tasks = Counter(row["task"] for row in rows[split])
        lines.append(f"| {split} | {len(rows[split])} | {tasks['complete']} | {tasks['fix']} |")
    kinds = repair_stats(rows)
    lines += ["", "| kind | train | validation | test |", "|---|---|---|---|"]
    for kind in sorted({kind for split in SPLITS for kind in kinds[split]}):
        lines.append(f"| {kind} | {' | '.join(str(kinds[split][kind]) for split in SPLITS)} |")
    return "\n".join([*lines, ""])


def _split_tables(rows: dict[str, list[dict[str, Any]]], column: str, counts: Counter[str]) -> list[str]:
    """The rows and held-out phrasings of each split, then the rows of each ``column`` value."""
    lines = [f"| {split} | {len(rows[split])} | {sum(row['held_out_phrasing'] for row in rows[split])} |" for split in SPLITS]
    lines += ["", f"| {column} | rows |", "|---|---|"]
    lines += [f"| {value} | {count} |" for value, count in sorted(counts.items())]
    return [*lines, ""]
