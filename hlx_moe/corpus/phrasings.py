"""Request phrasings (``corpora/requests/``), rendered from ``hlx_formats.requests``."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hlx_formats import facts, to_hlxl
from hlx_formats.api import ENCODERS
from hlx_formats.instructions import ALL_FORMATS_ORDER, route
from hlx_formats.lcr import GLYPHS, LEGACY_GLYPHS

from .examples import MAX_VALUE_CHARS, ExampleBuilder
from .spec import EXPERTS, REQUEST_COUNTS, SPLITS, CorpusSpec, prompt_of
from .values import KNOWN_IDS, ValueGenerator

__all__ = ["request_rows"]

#: Request phrasings per split (``corpora/requests/``), rendered from the request
#: description of ``hlx_formats.requests``: the held-out templates only in the test split.
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
    builder = ExampleBuilder(spec)
    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    seen: set[str] = set()
    counts = spec.requests or REQUEST_COUNTS
    budget = 20 * sum(counts.values())
    while any(len(rows[split]) < counts[split] for split in SPLITS):
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
        if row["input"] in seen or len(rows[split]) >= counts[split]:
            continue
        seen.add(row["input"])
        rows[split].append({**row, "split": split})
    return rows
