"""Codec throughput and size, HLX against its pure-Python and C peers: ``python -m benchmarks.codecs``.

One fixed, seeded workload of realistic values (contracts, handles, arrays, objects, strings,
numbers, bytes; ``hlx_moe.corpus.ValueGenerator``), at least 3 MB when written as JSON,
encoded and decoded in one process by every HLX codec and by ``json`` (C), ``json``'s
pure-Python encoder and decoder, ``msgpack`` (C) and its pure-Python ``fallback``, and
``cbor2``. The peers get each value's plain equivalent (a contract is
``{"@contract": id, "fields": {"0": ...}}``, a handle ``{"@handle": name}``, bytes stay bytes
for msgpack and cbor2 and become hex strings for JSON). Each timing is the median of
``--repeats`` rounds (each codec once a round, so that the machine's slow spells fall on all);
throughput is given in values/s and in MB/s of the workload's JSON size, with each HLX codec's
ratio to the peers.

The HLX codecs run twice, in the same process: with the compiled codecs
(``hlx_formats._speedups``, when built) and with the pure-Python ones
(``hlx_formats._accelerated.pure_python()``, what ``HLX_PURE_PYTHON=1`` gives). The compiled
path's targets are the C peers (json's C codec for the text formats, msgpack's for LC-B
binary), the pure-Python path's the pure-Python peers. Each HLX codec's peak memory while
decoding the whole workload (holding the values) and while encoding it is measured with
tracemalloc, after the timings, on both paths.

    python -m benchmarks.codecs                 # full run, writes docs/performance-codecs.json and .png
    python -m benchmarks.codecs --quick         # a smoke run (CI): small workload, one repeat
"""

from __future__ import annotations

import argparse
import gc
import json
import json.decoder
import json.encoder
import json.scanner
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from hlx_formats import (
    ACCELERATED,
    Contract,
    Handle,
    from_hlxl,
    from_lcb,
    from_lcr,
    from_lct,
    to_hlxl,
    to_lcb,
    to_lcb_text,
    to_lcr,
    to_lct,
)
from hlx_formats._accelerated import pure_python

__all__ = ["workload", "plain", "compact", "codecs", "run", "ratios", "report", "bar_chart", "main"]

ROOT = Path(__file__).resolve().parent.parent


def workload(target_bytes: int, seed: int = 7) -> list[Any]:
    """Seeded realistic values until their JSON equivalents reach ``target_bytes``."""
    from hlx_moe.corpus import ValueGenerator

    rng = random.Random(seed)
    generator = ValueGenerator(rng)
    values, size = [], 0
    while size < target_bytes:
        value = generator.simple() if rng.random() < 0.3 else generator.value(rng.choice((1, 2, 2, 3, 3, 4)))
        values.append(value)
        size += len(json.dumps(plain(value, bytes_as_hex=True)))
    return values


def plain(value: Any, bytes_as_hex: bool = False) -> Any:
    """The value in the kinds JSON/msgpack/CBOR have (see the module docstring)."""
    kind = type(value)
    if kind is list:
        return [plain(item, bytes_as_hex) for item in value]
    if kind is dict:
        return {key: plain(item, bytes_as_hex) for key, item in value.items()}
    if kind is Contract:
        return {"@contract": value.id, "fields": {str(i): plain(item, bytes_as_hex) for i, item in value.items()}}
    if kind is Handle:
        return {"@handle": value.name}
    if kind is bytes and bytes_as_hex:
        return value.hex()
    return value


def compact(value: Any) -> Any:
    """The most compact msgpack shape, and lossy: a contract as ``[id, [index, value, ...]]``,
    a handle as its name (used for the size comparison only)."""
    kind = type(value)
    if kind is list:
        return [compact(item) for item in value]
    if kind is dict:
        return {key: compact(item) for key, item in value.items()}
    if kind is Contract:
        return [value.id, [part for index, item in value.items() for part in (index, compact(item))]]
    if kind is Handle:
        return value.name
    return value


def _pure_python_json() -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    """json's own pure-Python encoder and decoder (what runs where its C accelerator is absent)."""
    encoder = json.JSONEncoder()

    def encode(value: Any) -> str:
        # JSONEncoder.iterencode picks the C encoder when json.encoder.c_make_encoder is set;
        # unset it for this call only, so that the C peer keeps its accelerator.
        saved = json.encoder.c_make_encoder, json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]  # json's private hooks, not in typeshed
        json.encoder.c_make_encoder = None  # type: ignore[attr-defined]  # (the same)
        json.encoder.encode_basestring_ascii = json.encoder.py_encode_basestring_ascii
        try:
            return "".join(encoder.iterencode(value))
        finally:
            json.encoder.c_make_encoder, json.encoder.encode_basestring_ascii = saved  # type: ignore[attr-defined]  # (the same)

    decoder = json.JSONDecoder()
    decoder.parse_string = json.decoder.py_scanstring  # type: ignore[attr-defined]  # (the same)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]  # (the same)
    return encode, decoder.decode


#: The HLX codecs; their rows are named with the path that ran them ("HLXL (compiled)").
HLX_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "HLXL": (to_hlxl, from_hlxl),
    "LC-T": (to_lct, from_lct),
    "LC-R": (to_lcr, from_lcr),
    "LC-B text": (to_lcb_text, from_lcb),
    "LC-B binary": (to_lcb, from_lcb),
}
COMPILED, PURE = "compiled", "pure Python"
#: The paths measured: the compiled one where it is built, and the pure-Python one.
PATHS = (COMPILED, PURE) if ACCELERATED else (PURE,)
Codec = tuple[str, Callable[[Any], Any], Callable[[Any], Any], str, Callable[[], AbstractContextManager[Any]]]


def codecs() -> dict[str, Codec]:
    """name -> (kind, encode, decode, input form, context): kind is 'hlx', 'pure' or 'c'; the
    codec runs inside ``context()`` (the pure-Python path's switch)."""
    hlx: dict[str, Codec] = {
        f"{name} ({path})": ("hlx", encode, decode, "value", nullcontext if path == COMPILED else pure_python)
        for path in PATHS
        for name, (encode, decode) in HLX_CODECS.items()
    }
    import cbor2
    import msgpack
    import msgpack.fallback

    py_encode, py_decode = _pure_python_json()
    fallback_packer = msgpack.fallback.Packer()
    return {
        **hlx,
        "json (C)": ("c", json.dumps, json.loads, "json", nullcontext),
        "json (pure Python)": ("pure", py_encode, py_decode, "json", nullcontext),
        "msgpack (C)": ("c", msgpack.packb, msgpack.unpackb, "binary", nullcontext),
        "msgpack (fallback)": ("pure", fallback_packer.pack, msgpack.fallback.unpackb, "binary", nullcontext),
        "cbor2": ("c", cbor2.dumps, cbor2.loads, "binary", nullcontext),
    }


def _seconds(function: Callable[[Any], Any], items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        function(item)
    return time.perf_counter() - started


def _peak_bytes(function: Callable[[Any], Any], items: list[Any]) -> int:
    """Peak traced memory while ``function`` runs over ``items``, its results held (garbage of
    earlier work collected first, so that it does not fall on one path and not the other)."""
    gc.collect()
    tracemalloc.start()
    try:
        held = [function(item) for item in items]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del held
    return peak


def run(target_bytes: int, repeats: int) -> dict[str, Any]:
    values = workload(target_bytes)
    inputs = {
        "value": values,
        "json": [plain(v, bytes_as_hex=True) for v in values],
        "binary": [plain(v) for v in values],
    }
    json_bytes = sum(len(json.dumps(v)) for v in inputs["json"])
    import msgpack

    compact_bytes = sum(len(msgpack.packb(compact(v))) for v in values)
    results: dict[str, Any] = {
        "values": len(values), "json_bytes": json_bytes, "msgpack_compact_bytes": compact_bytes, "repeats": repeats, "codecs": {},
    }  # fmt: skip
    chosen = codecs()
    encoded: dict[str, list[Any]] = {}
    for name, (_, encode, _, form, context) in chosen.items():
        with context():
            encoded[name] = [encode(item) for item in inputs[form]]
    # Rounds: each codec once per round, so that the machine's slow spells fall on all of them.
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in chosen}
    for _ in range(repeats):
        for name, (_, encode, decode, form, context) in chosen.items():
            with context():
                times[name][0].append(_seconds(encode, inputs[form]))
                times[name][1].append(_seconds(decode, encoded[name]))
    for name, (kind, _, _, form, _) in chosen.items():
        items = inputs[form]
        encode_seconds, decode_seconds = statistics.median(times[name][0]), statistics.median(times[name][1])
        size = sum(len(e.encode("utf-8")) if isinstance(e, str) else len(e) for e in encoded[name])
        results["codecs"][name] = {
            "kind": kind,
            "encoded_bytes": size,
            "encode_values_per_s": round(len(items) / encode_seconds),
            "decode_values_per_s": round(len(items) / decode_seconds),
            "encode_mb_per_s": round(json_bytes / encode_seconds / 1e6, 2),
            "decode_mb_per_s": round(json_bytes / decode_seconds / 1e6, 2),
        }
    for name, (kind, encode, decode, form, context) in chosen.items():  # after the timings: tracing slows them
        if kind == "hlx":
            row = results["codecs"][name]
            with context():
                row["encode_peak_bytes"] = _peak_bytes(encode, inputs[form])
                row["decode_peak_bytes"] = _peak_bytes(decode, encoded[name])
    return results


def ratios(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each HLX codec's speed over each peer's (>1: HLX is faster), encode and decode."""
    table: dict[str, dict[str, float]] = {}
    codecs_ = results["codecs"]
    for name, row in codecs_.items():
        if row["kind"] != "hlx":
            continue
        for peer, peer_row in codecs_.items():
            if peer_row["kind"] == "hlx":
                continue
            for direction in ("encode", "decode"):
                table.setdefault(name, {})[f"{direction} vs {peer}"] = round(
                    row[f"{direction}_values_per_s"] / peer_row[f"{direction}_values_per_s"], 2
                )
    return table


#: codec -> the peer it must match or beat, encode and decode, per path.
TARGETS = {
    **{f"{name} ({PURE})": "msgpack (fallback)" if name == "LC-B binary" else "json (pure Python)" for name in HLX_CODECS},
    **{f"{name} ({COMPILED})": "msgpack (C)" if name == "LC-B binary" else "json (C)" for name in HLX_CODECS},
}


def report(results: dict[str, Any]) -> str:
    lines = [
        f"Workload: {results['values']:,} values, {results['json_bytes'] / 1e6:.2f} MB as JSON; median of {results['repeats']} rounds.",
        "",
        "| codec | encode values/s | decode values/s | encode MB/s | decode MB/s | size (bytes) |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results["codecs"].items():
        lines.append(
            f"| {name} | {row['encode_values_per_s']:,} | {row['decode_values_per_s']:,} | {row['encode_mb_per_s']} | "
            f"{row['decode_mb_per_s']} | {row['encoded_bytes']:,} |"
        )
    lines += ["", "| HLX codec | target peer | encode ratio | decode ratio | met |", "|---|---|---|---|---|"]
    table = ratios(results)
    for name, peer in TARGETS.items():
        if name not in table:
            continue
        encode_ratio = table[name][f"encode vs {peer}"]
        decode_ratio = table[name][f"decode vs {peer}"]
        met = "yes" if encode_ratio >= 1 and decode_ratio >= 1 else "no"
        lines.append(f"| {name} | {peer} | {encode_ratio} | {decode_ratio} | {met} |")
    codecs_ = results["codecs"]
    memory = [(name, row) for name, row in codecs_.items() if "decode_peak_bytes" in row]
    if memory:
        lines += ["", "| HLX codec | encode peak memory (MB) | decode peak memory (MB) |", "|---|---|---|"]
        lines += [f"| {name} | {row['encode_peak_bytes'] / 1e6:.1f} | {row['decode_peak_bytes'] / 1e6:.1f} |" for name, row in memory]
    binary = codecs_[f"LC-B binary ({PATHS[0]})"]
    size_ratio = binary["encoded_bytes"] / codecs_["msgpack (C)"]["encoded_bytes"]
    compact_ratio = binary["encoded_bytes"] / results["msgpack_compact_bytes"]
    lines += [
        "",
        f"LC-B binary size / msgpack size: {size_ratio:.3f} (msgpack of the lossless plain equivalent); "
        f"{compact_ratio:.3f} against msgpack of a lossy compact shape (contracts as [id, [index, value, ...]], handles as names)",
    ]
    return "\n".join(lines) + "\n"


def bar_chart(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = list(results["codecs"])
    encode = [results["codecs"][n]["encode_mb_per_s"] for n in names]
    decode = [results["codecs"][n]["decode_mb_per_s"] for n in names]
    figure, axis = plt.subplots(figsize=(9, 4.5))
    positions = range(len(names))
    axis.barh([p - 0.2 for p in positions], encode, height=0.4, label="encode")
    axis.barh([p + 0.2 for p in positions], decode, height=0.4, label="decode")
    axis.set_yticks(list(positions), names)
    axis.invert_yaxis()
    axis.set_xscale("log")
    axis.set_xlabel("MB/s of JSON-equivalent data (log scale)")
    axis.set_title(f"Codec throughput, {results['values']:,} values ({results['json_bytes'] / 1e6:.1f} MB as JSON)")
    axis.legend()
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.codecs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small workload, one repeat (a smoke run)")
    parser.add_argument("--megabytes", type=float, default=3.2, help="workload size as JSON (default 3.2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None, help="folder for codecs.json and codecs.png (default: docs/ unless --quick)")
    args = parser.parse_args(argv)
    target = 100_000 if args.quick else int(args.megabytes * 1e6)
    results = run(target, 1 if args.quick else args.repeats)
    text = report(results)
    print(text, end="")
    output = args.output or (None if args.quick else ROOT / "docs")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "performance-codecs.json").write_text(json.dumps({"results": results, "ratios": ratios(results)}, indent=2) + "\n")
        bar_chart(results, output / "performance-codecs.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
