"""The ``hlx demo`` section of the mixture of experts (the ``hlx.demo`` entry point).

It answers the demo's instructions and a few new ones through the mixture, next to the
reference answers; without the ``[moe]`` extra or trained adapters it says why it is skipped.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from hlx_formats.demo import FAIL, INSTRUCTIONS, OK, heading
from hlx_formats.errors import HLXError

__all__ = ["MOE_INSTRUCTIONS", "show_moe"]


#: Instructions for the mixture of experts section: the ones above and a few new ones.
MOE_INSTRUCTIONS = [instruction for instruction, _, _ in INSTRUCTIONS] + [
    'Convert to LC-R: {name: "HLX", tags: ["glyph", "runic"], version: 2}',
    'Convert to LC-T: [3.5, -7, b"ok", &h_queue]',
    "Parse LC-B: [{id:0x07,ok:T}]",
    "What does 🜂 mean in LC-R?",
    "Search for invoices",
]


def show_moe(out: TextIO, instructions: list[str] = MOE_INSTRUCTIONS, moe: Any = None) -> None:
    """The mixture of experts (``moe``, default: the shipped one) answering instructions next
    to the reference answers: the expert, latency and whether each answer matches. Model
    errors are shown, not failures; without the [moe] extra or trained adapters the section
    says why it is skipped."""
    heading(out, "Instructions answered by the mixture of experts (hlx_moe)")
    from hlx_moe.corpus import EXPERTS, default_root, instruction_of, load

    try:
        from hlx_moe.serving.mixture import HLXMoE

        moe = moe or HLXMoE.load()
    except HLXError as error:
        print(f"  (skipped: {error})", file=out)
        return
    seen: set[str] = set()
    for expert in EXPERTS:
        for split in ("train", "validation", "test"):
            path = default_root() / expert / f"{split}.jsonl"
            if path.exists():
                seen.update(instruction_of(row) for row in load(path))
    footprint = moe.footprint()
    print(
        f"  base {footprint['base']} ({footprint['quantization']}, {footprint['device']}), "
        f"adapters {', '.join(footprint['adapters'])}; loaded in {moe.base.load_seconds:.1f} s",
        file=out,
    )
    print(
        "  constrained decoding"
        + (", literals from each instruction's value" if footprint["source_literals"] else "")
        + (", in its order" if footprint.get("literal_order") else ""),
        file=out,
    )
    started = time.perf_counter()
    results = moe.query_batch(instructions)  # one batch: the experts share each forward pass
    seconds = time.perf_counter() - started
    matches = 0
    for instruction, result in zip(instructions, results):
        matches += bool(result.matches_reference)
        novelty = "in the corpora" if instruction in seen else "not in the corpora"
        mark = OK if result.matches_reference else FAIL
        print(f"\n  {mark} {instruction}   ({novelty})", file=out)
        print(
            f"      expert {result.expert} ({result.route_reason}), "
            f"{'parses' if result.parses else 'free text' if result.parses is None else 'does not parse'}",
            file=out,
        )
        for line in result.answer.split("\n"):
            print(f"      moe:       {line}", file=out)
        if not result.matches_reference and result.reference is not None:
            for line in result.reference.split("\n"):
                print(f"      reference: {line}", file=out)
    print(f"\n  {matches} of {len(instructions)} answers match the reference exactly", file=out)
    print(f"  {len(instructions)} answers in {seconds:.1f} s, decoded together in batches (HLXMoE.query_batch)", file=out)
