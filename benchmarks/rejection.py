"""What rejecting a text costs against accepting it: ``python -m benchmarks.rejection``.

For each text format (LC-B: its text notation), one valid text of about ``--size`` bytes
(a flat list of small objects, each with a nested array, and one integer at its end), and
invalid texts of the same size: a stray character as its last one (a syntax error), an
integer out of range at its end, a float out of range in its first object and a repeated key
in its first object (data-model errors), and the same float with a stray last character (the
syntax error is the one reported). Each is decoded by the public ``from_*`` function; the time
is the median of ``--repeats`` runs, the peak memory (``tracemalloc``, in a separate run) is
per MB of text, and each rejection is given as a ratio to the acceptance.

    python -m benchmarks.rejection                 # 1 MB texts, 3 runs each
    python -m benchmarks.rejection --quick         # a smoke run: 50 kB, one run
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from hlx_formats import HLXError, from_hlxl, from_lcb, from_lcr, from_lct, to_hlxl, to_lcb_text, to_lcr, to_lct
from hlx_formats.grammar import lark_parser

__all__ = ["texts", "measure", "main"]

CODECS: dict[str, tuple[str, Callable[..., Any], Callable[[Any], str]]] = {
    "hlxl": ("HLXL", from_hlxl, to_hlxl),
    "lc-t": ("LC-T", from_lct, to_lct),
    "lc-r": ("LC-R", from_lcr, to_lcr),
    "lc-b": ("LC-B text", from_lcb, to_lcb_text),
}
_MARK = {"hlxl": "7777777", "lc-t": "7777777", "lc-r": "7777777", "lc-b": "0x76adf1"}
_HUGE = {"hlxl": "99999999999999999999999", "lc-t": "99999999999999999999999", "lc-r": "99999999999999999999999"}
_PAIR = {"hlxl": ": ", "lc-t": ":", "lc-r": ": ", "lc-b": ":"}  # between a key and its value


def texts(fmt: str, size: int) -> dict[str, str]:
    """The valid text of about ``size`` characters and its invalid variants, by name."""
    encode = CODECS[fmt][2]
    item = {"a": 123456, "b": "xy", "c": [1.5, True, None]}
    count = max(1, size // len(encode(item)))
    good = encode([item] * count + [7777777])
    float_at_start = good.replace("1.5", "1e999", 1)
    return {
        "accept": good,
        "syntax error at the end": good[:-1] + "\x01",
        "integer out of range at the end": good.replace(_MARK[fmt], _HUGE.get(fmt, "0x1ffffffffffffffffff")),
        "float out of range at the start": float_at_start,
        "repeated key at the start": good.replace("b" + _PAIR[fmt], "a" + _PAIR[fmt], 1),
        "float out of range at the start, syntax error at the end": float_at_start[:-1] + "\x01",
    }


def _time(decode: Callable[..., Any], text: str, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            decode(text)
        except HLXError:
            pass
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _peak(decode: Callable[..., Any], text: str) -> int:
    tracemalloc.start()
    try:
        decode(text)
    except HLXError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def measure(size: int, repeats: int) -> list[dict[str, Any]]:
    """One row per format and case: seconds and peak MB per MB of text, ratios to acceptance."""
    rows = []
    for fmt, (title, decode, _) in CODECS.items():
        lark_parser(fmt)  # built once per process, not part of any decode
        accepted_time = accepted_peak = 0.0
        for case, text in texts(fmt, size).items():
            megabytes = len(text.encode("utf-8")) / 1e6
            seconds, peak = _time(decode, text, repeats) / megabytes, _peak(decode, text) / 1e6 / megabytes
            if case == "accept":
                accepted_time, accepted_peak = seconds, peak
            rows.append({
                "format": title, "case": case, "MB": round(megabytes, 3),
                "s/MB": round(seconds, 4), "peak MB/MB": round(peak, 2),
                "time ratio": round(seconds / accepted_time, 2), "memory ratio": round(peak / accepted_peak, 2),
            })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="characters per text (default 1 MB)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 kB texts, one run (a smoke run)")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    size, repeats = (50_000, 1) if args.quick else (args.size, args.repeats)
    rows = measure(size, repeats)
    print("| format | case | s/MB | peak MB/MB | time / acceptance | memory / acceptance |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['format']} | {row['case']} | {row['s/MB']} | {row['peak MB/MB']} | {row['time ratio']} | {row['memory ratio']} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
