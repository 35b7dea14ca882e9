"""What judging one candidate token costs as an answer grows: ``python -m benchmarks.decoding [--quick]``.

Constrained decoding judges up to 64 candidate tokens per step with the answer's checks
(no repeated key, depth, the literal order). Each reads the hypothesis's incremental
:class:`~hlx_moe.decoding.state.AnswerState`, so a candidate should cost the same at the
end of a long answer as near its start. Measured here without a model: the answer is an
HLXL object of ``k<i>: <i>`` members (every literal from the instruction, in order), one
character per token, and the cost of one candidate (``state.view`` plus every check) is
timed at several answer lengths, beside reading the whole answer again for each candidate
(``repeats_key``, ``open_containers`` and ``LiteralOrder.departs`` on the whole text, which
is what the checks cost before the incremental state). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import time
from typing import Any

from hlx_formats import MAX_DEPTH, repeats_key
from hlx_moe.decoding.constraints import AnswerConstraint
from hlx_moe.decoding.source_literals import literals_in_order, open_containers

__all__ = ["run", "main"]

LENGTHS = (64, 256, 1024, 4096)


def _answer(length: int) -> str:
    members: list[str] = []
    size = 1
    while size < length + 16:
        member = f"k{len(members)}: {len(members)}"
        members.append(member)
        size += len(member) + 2
    return "{" + ", ".join(members) + "}"


def _per_candidate(function: Any, candidates: int) -> float:
    started = time.perf_counter()
    for _ in range(candidates):
        function()
    return (time.perf_counter() - started) / candidates


def _incremental(state: Any, checks: Any, candidate: list[int]) -> bool:
    view = state.view(candidate)
    return any(check.refuses(view) for check in checks)


def _whole_text(order: Any, value: str) -> bool:
    return repeats_key(value, "hlxl") or open_containers(value, "hlxl") > MAX_DEPTH or order.departs(value, "hlxl")


def run(lengths: tuple[int, ...] = LENGTHS, candidates: int = 200) -> list[dict[str, Any]]:
    rows = []
    for length in lengths:
        whole = _answer(length)
        order = literals_in_order(whole, "hlxl")
        assert order is not None  # the value is balanced, its fields in order
        constraint = AnswerConstraint("hlxl", "HLXL: ", order=order)
        state = constraint.state(lambda token: chr(token).encode("utf-8"))
        text = "HLXL: " + whole[:length]
        state.advance([ord(character) for character in text])
        incremental = functools.partial(_incremental, state, constraint.checks(), [ord(whole[length])])
        whole_text = functools.partial(_whole_text, order, whole[: length + 1])
        assert incremental() == whole_text() is False  # the same verdict (a good answer so far)
        rows.append(
            {
                "answer_chars": length,
                "incremental_us": 1e6 * _per_candidate(incremental, candidates),
                "whole_text_us": 1e6 * _per_candidate(whole_text, max(10, candidates // 10)),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two short lengths, few candidates (a smoke run)")
    args = parser.parse_args(argv)
    rows = run((64, 256), 20) if args.quick else run()
    print("| answer (chars) | one candidate, incremental state (us) | one candidate, whole text read again (us) |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['answer_chars']} | {row['incremental_us']:.0f} | {row['whole_text_us']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
