"""What reading requests costs ``translate()``: ``python -m benchmarks.requests [--quick]``.

Three measurements on the codec benchmark's workload (``benchmarks.codecs.workload``):
canonical instructions through ``translate()`` against the same instructions answered by
the instruction table alone (``instructions.answer(parse_instruction(...))``, what
``translate()`` did before requests were read), free phrasings of the same values, and one
request holding a 100 kB value. Prints a table; no target is asserted here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from hlx_formats import to_hlxl, translate
from hlx_formats.instructions import answer, parse_instruction

from .codecs import workload

__all__ = ["run", "main"]


def _median_seconds(function: Callable[[str], Any], texts: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            function(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(target_bytes: int, repeats: int) -> dict[str, float]:
    values = [to_hlxl(value) for value in workload(target_bytes)]
    canonical = [f"Convert to LC-R: {text}" for text in values]
    free = [f"Please convert {text} to runic?" for text in values]
    table_alone = _median_seconds(lambda text: answer(parse_instruction(text)), canonical, repeats)
    through_requests = _median_seconds(translate, canonical, repeats)
    phrased = _median_seconds(translate, free, repeats)
    big = "[" + ", ".join(str(i) for i in range(20000)) + "]"
    long_request = _median_seconds(translate, [f"Please convert {big} to runic?"], repeats)
    return {
        "values": len(values),
        "instruction_table_s": table_alone,
        "translate_canonical_s": through_requests,
        "overhead_percent": 100 * (through_requests / table_alone - 1),
        "translate_free_phrasing_s": phrased,
        "free_phrasing_vs_canonical": phrased / through_requests,
        "value_100kb_request_s": long_request,
        "value_100kb_chars": len(big),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small workload, one repeat (a smoke run)")
    args = parser.parse_args(argv)
    results = run(20_000, 1) if args.quick else run(200_000, 5)
    print("| measure | value |\n|---|---|")
    for key, value in results.items():
        print(f"| {key} | {value:.4g} |" if isinstance(value, float) else f"| {key} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
