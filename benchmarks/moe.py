"""Benchmarks of the model half on this machine: ``python -m benchmarks.moe [--quick]``.

Sections (each prints a Markdown table; ``--json FILE`` also writes the numbers):

* ``matmul``: this machine's fp32 matrix-multiply rate (the limit for training).
* ``quantization``: the embedded base loaded as nf4 and as none: load time, memory,
  greedy generation speed (the same prompt, 40 new tokens, median of repeats).
* ``training``: LoRA training steps on the embedded base through the real training code
  (``hlx_moe.training``): tokens/s and its ratio to the matmul limit, counting 4 x parameters
  FLOPs per token (forward 2N, backward through the activations 2N; LoRA weights are tiny).
* ``padding``: the share of the training batches' tokens that are padding, per expert, for
  the ``cpu`` and ``gpu`` presets' batch size and length limit, with examples in a random
  order, length-bucketed (the Trainer's ``LengthGroupedSampler``, the presets' default) and in
  the depth curriculum's order: the most that sequence packing could save. No model is run.
* ``mixture``: with trained adapters (``--adapters``, default the shipped ones): load time,
  resident memory against the base alone, latency p50/p95 by expert, tokens/s, and the cost
  of constrained decoding (same queries with and without the grammar) and of drawing the
  literals from the instruction and of keeping them in its order (same queries with and
  without each, whole answers).
* ``batching``: 32 mixed requests answered one at a time (``query``) and in batches
  (``query_batch``, batch sizes 1, 4, 8, 16, 32), with the experts mixed in one forward pass
  (its default) and grouped by expert: requests/s, tokens/s, the speed-up over one at a time,
  the most memory above the loaded mixture, and how many answers equal the one-at-a-time ones.
* ``rewriting``: requests of the rewrite test split that the request description does not
  read and whose answer is a format (up to 40 tokens): the latency of ``query`` through the
  rewrite step (p50, p95; the rewrite's own share), each answered whatever its confidence
  (threshold 0), beside the same requests written as their canonical instructions (one
  generation, no rewrite).

``--quick`` runs each section small (a smoke run for CI, not a measurement). ``--base`` runs
the quantization and training sections on another base than the embedded one, and
``--adapters`` the mixture section on other adapters: the test suite's smoke run
(``tests/test_benchmarks.py``) passes its tiny stand-in model and the adapters trained on it,
so that it goes through every section's code in seconds, not through the real model's minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["matmul_rate", "quantization", "training", "padding", "mixture", "batching", "main"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPT = '### Instruction:\nConvert to LC-R: {1000: {@0: "search", @1: &h_documents}}\n\n### Response:\n'


def _p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank, as `hlx moe eval` reports it (never below the
    median: with two answers it is the slower one)."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3)


def matmul_rate(size: int = 2048, repeats: int = 5) -> dict[str, float]:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    seconds = time.perf_counter() - started
    return {"size": size, "gflops": round(2 * size**3 * repeats / seconds / 1e9, 1), "threads": torch.get_num_threads()}


def _greedy_tokens_per_second(model: Any, tokenizer: Any, new_tokens: int, repeats: int) -> float:
    from hlx_moe.decoding.constraints import Decoder

    decoder = Decoder(model, tokenizer)
    decoder.generate(PROMPT, max_new_tokens=4)
    times = []
    for _ in range(repeats):
        generation = _generate_exactly(decoder, new_tokens)
        times.append(generation)
    return round(new_tokens / statistics.median(times), 2)


def _generate_exactly(decoder: Any, new_tokens: int) -> float:
    # EOS is masked out so that every run makes exactly new_tokens tokens.
    import torch
    from transformers import DynamicCache

    ids = torch.tensor([decoder.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]])
    cache = DynamicCache(config=decoder.model.config)
    started = time.perf_counter()
    with torch.inference_mode():
        for _ in range(new_tokens):
            output = decoder.model(input_ids=ids, use_cache=True, logits_to_keep=1, **{decoder._cache_argument: cache})
            logits = output.logits[:, -1, :]
            logits[:, decoder.tokenizer.eos_token_id] = -float("inf")
            ids = logits.argmax(dim=-1, keepdim=True)
    return time.perf_counter() - started


def quantization(quick: bool, base: str | None = None) -> list[dict[str, Any]]:
    from hlx_moe.model.base import EMBEDDED_BASE, load_base

    rows = []
    for mode in ("nf4", "none"):
        loaded = load_base(base or EMBEDDED_BASE, quantization=mode, device="cpu")
        rows.append(
            {
                "quantization": mode,
                "load_seconds": round(loaded.load_seconds, 2),
                "weights_mb": round(loaded.model.get_memory_footprint() / 1e6, 1),
                "tokens_per_second": _greedy_tokens_per_second(loaded.model, loaded.tokenizer, 8 if quick else 40, 1 if quick else 3),
            }
        )
        del loaded
    return rows


def training(quick: bool, rate: dict[str, float], base: str | None = None) -> dict[str, Any]:
    from hlx_moe.model.base import EMBEDDED_BASE, load_base
    from hlx_moe.training.train import train_expert

    steps = 2 if quick else 12
    overrides = {
        "max_steps": str(steps),
        "logging_steps": "1",
        "eval_steps": str(steps),
        "save_steps": str(10 * steps),
        "eval_examples": "8",
    }
    if quick:  # a smoke run: batches of 2, not the preset's
        overrides.update(batch_size="2", eval_examples="2")
    with tempfile.TemporaryDirectory() as output:
        report = train_expert(
            "ascii", preset="cpu", base=base or EMBEDDED_BASE, output_dir=Path(output), resume=False, log=lambda message: None,
            overrides=overrides,
        )  # fmt: skip

    parameters = load_base(base or EMBEDDED_BASE, quantization="none", device="cpu").model.num_parameters()
    flops_per_token = 4 * parameters
    achieved = report["tokens_per_second"] * flops_per_token / 1e9
    return {
        "steps": steps,
        "tokens_per_second": report["tokens_per_second"],
        "seconds_per_step": round(report["train_seconds"] / steps, 2),
        "gflops_achieved": round(achieved, 1),
        "matmul_gflops": rate["gflops"],
        "share_of_matmul_limit": round(achieved / rate["gflops"], 3),
    }


def padding(quick: bool) -> list[dict[str, Any]]:
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from hlx_moe.corpus import EXPERTS, default_root, load
    from hlx_moe.model.base import load_tokenizer
    from hlx_moe.training.curriculum import DepthCurriculumSampler
    from hlx_moe.training.presets import PRESETS
    from hlx_moe.training.train import tokenize_rows

    tokenizer = load_tokenizer()
    results = []
    for expert in EXPERTS:
        rows = load(default_root() / expert / "train.jsonl")[: 400 if quick else None]
        for preset in (PRESETS["cpu"], PRESETS["gpu"]):
            examples = tokenize_rows(rows, tokenizer, preset.max_length)
            lengths = [len(example["input_ids"]) for example in examples]
            depths = [example["depth"] for example in examples]
            orders = {
                "random": torch.randperm(len(examples), generator=torch.Generator().manual_seed(preset.seed)).tolist(),
                "length-bucketed": list(
                    LengthGroupedSampler(preset.batch_size, lengths=lengths, generator=torch.Generator().manual_seed(preset.seed))
                ),
                "depth curriculum": list(DepthCurriculumSampler(depths, lengths, examples_in_run=-1, seed=preset.seed)),
            }
            for order_name, order in orders.items():
                real = padded = 0
                for start in range(0, len(order), preset.batch_size):
                    batch = [lengths[index] for index in order[start : start + preset.batch_size]]
                    real, padded = real + sum(batch), padded + max(batch) * len(batch)
                results.append({
                    "expert": expert, "preset": preset.name, "batch_size": preset.batch_size, "order": order_name,
                    "examples": len(examples), "real_tokens": real, "padding_share": round(1 - real / padded, 4),
                })  # fmt: skip
    return results


def _length_bucket(tokens: int) -> str:
    for low, high in ((0, 20), (21, 40), (41, 80)):
        if tokens <= high:
            return f"{low}-{high}"
    return "81-"


def _quick_options(quick: bool) -> Any:
    """The mixture's decoding options: the defaults, or for a smoke run a budget of a few
    tokens per answer (a stand-in model's answers run to any budget)."""
    from hlx_moe import DecodingOptions

    return DecodingOptions(max_new_tokens=8) if quick else None


def mixture(quick: bool, adapters: Path | None) -> dict[str, Any] | None:
    from hlx_formats import BackendUnavailable
    from hlx_moe import HLXMoE
    from hlx_moe.corpus import EXPERTS, default_root, instruction_of, load

    try:
        moe = HLXMoE.load(adapters, options=_quick_options(quick))
    except BackendUnavailable as error:
        return {"skipped": str(error)}
    per_expert = 1 if quick else 20
    latencies: dict[str, list[float]] = {}
    short: list[float] = []  # latencies of answers of at most 40 tokens (the target's case)
    by_length: dict[str, list[float]] = {}  # latencies by answer length in tokens
    constrained_seconds = unconstrained_seconds = 0.0
    restricted_seconds = free_literals_seconds = 0.0  # whole answers, with and without the literal restriction
    ordered_seconds = any_order_seconds = 0.0  # whole answers, with and without the literal order
    tokens = 0
    for expert in EXPERTS:
        rows = [row for row in load(default_root() / expert / "test.jsonl") if not row["ood"]][:per_expert]
        for row in rows:
            instruction = instruction_of(row)
            result = moe.query(instruction)
            latencies.setdefault(expert, []).append(result.latency_seconds)
            if result.new_tokens <= 40:
                short.append(result.latency_seconds)
            by_length.setdefault(_length_bucket(result.new_tokens), []).append(result.latency_seconds)
            tokens += result.new_tokens
            if result.constrained:
                free = moe.query(instruction, constrained=False, max_new_tokens=max(1, result.new_tokens))
                constrained_seconds += result.latency_seconds / max(1, result.new_tokens)
                unconstrained_seconds += free.latency_seconds / max(1, free.new_tokens)
                if moe.source_literals:
                    restricted_seconds += result.latency_seconds
                    free_literals_seconds += moe.query(instruction, source_literals=False).latency_seconds
                if moe.literal_order:
                    ordered_seconds += result.latency_seconds
                    any_order_seconds += moe.query(instruction, literal_order=False).latency_seconds
    every = [value for values in latencies.values() for value in values]
    footprint = moe.footprint()
    return {
        "load_seconds": round(moe.base.load_seconds, 2),
        "mixture_over_base_memory": footprint["mixture_over_base"],
        "adapter_mb": round(footprint["adapter_parameter_bytes"] / 1e6, 2),
        "latency_p50": round(statistics.median(every), 3),
        "latency_p95": _p95(every),
        "answers_up_to_40_tokens": len(short),
        "latency_p50_up_to_40_tokens": round(statistics.median(short), 3) if short else None,
        "by_expert_p50": {expert: round(statistics.median(values), 3) for expert, values in latencies.items()},
        "by_answer_tokens": {
            bucket: {"answers": len(values), "p50": round(statistics.median(values), 3), "p95": _p95(values)}
            for bucket, values in sorted(by_length.items(), key=lambda item: int(item[0].split("-")[0]))
        },
        "tokens_per_second": round(tokens / sum(every), 1),
        "constraint_overhead": round(constrained_seconds / max(unconstrained_seconds, 1e-9) - 1, 3),
        # the constrained answers' total time with literals from the instruction against the
        # same queries with literals free (answers may differ, and their lengths with them)
        "literal_restriction_time": round(restricted_seconds / max(free_literals_seconds, 1e-9) - 1, 3) if free_literals_seconds else None,
        # likewise, with the literals kept in the value's order against in any order
        "literal_order_time": round(ordered_seconds / max(any_order_seconds, 1e-9) - 1, 3) if any_order_seconds else None,
    }


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _timed_peak(function: Any) -> tuple[Any, float, int]:
    """``function()``'s result, its seconds, and the most resident memory above the start
    seen while it ran (sampled every 20 ms)."""
    import threading

    start, peak, running = _resident_bytes(), [0], [True]

    def sample() -> None:
        while running[0]:
            peak[0] = max(peak[0], _resident_bytes() - start)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = function()
    finally:
        seconds = time.perf_counter() - started
        running[0] = False
        sampler.join()
    return result, seconds, peak[0]


def batching(quick: bool, adapters: Path | None) -> dict[str, Any] | None:
    """Mixed requests (the three experts' test splits in turn) answered one at a time with
    ``query`` and in batches with ``query_batch``, both ways it makes a batch: the experts
    mixed in one forward pass (its default) and grouped by expert (``mix_experts=False``; at
    batch size 1 the two are one). Requests/s, tokens/s, the speed-up over one at a time, the
    most memory above the loaded mixture, and how many answers equal the one-at-a-time ones."""
    from hlx_formats import BackendUnavailable
    from hlx_moe import HLXMoE
    from hlx_moe.corpus import EXPERTS, default_root, instruction_of, load

    try:
        moe = HLXMoE.load(adapters, options=_quick_options(quick))
    except BackendUnavailable as error:
        return {"skipped": str(error)}
    count = 4 if quick else 32
    splits = [[row for row in load(default_root() / expert / "test.jsonl") if not row["ood"]] for expert in EXPERTS]
    requests = [instruction_of(splits[index % len(splits)][index // len(splits)]) for index in range(count)]
    one_by_one, alone_seconds, peak = _timed_peak(lambda: [moe.query(request) for request in requests])

    def row(mode: str, batch_size: int, results: list[Any], seconds: float, peak: int) -> dict[str, Any]:
        return {
            "mode": mode, "batch_size": batch_size, "seconds": round(seconds, 2), "requests_per_second": round(count / seconds, 3),
            "tokens_per_second": round(sum(result.new_tokens for result in results) / seconds, 1),
            "speedup": round(alone_seconds / seconds, 2), "peak_extra_mb": round(peak / 1e6, 1),
            "same_answers": sum(a.answer == b.answer for a, b in zip(results, one_by_one)),
        }  # fmt: skip

    rows = [row("query, one at a time", 1, one_by_one, alone_seconds, peak)]
    grouped: list[dict[str, Any]] = []  # a batch of one request has one expert: no grouped row at batch size 1
    for batch_size in (1, 4) if quick else (1, 4, 8, 16, 32):
        for mix in (True, False) if batch_size > 1 else (True,):
            batch, seconds, peak = _timed_peak(lambda size=batch_size, mix=mix: moe.query_batch(requests, batch_size=size, mix_experts=mix))
            mode = "query_batch, experts mixed" if mix else "query_batch, grouped by expert"
            (rows if mix else grouped).append(row(mode, batch_size, batch, seconds, peak))
    kept = "experts mixed" if moe._mixes(set(EXPERTS)) else "grouped by expert"
    return {"requests": count, "default_mode": kept, "rows": rows, "grouped_rows": grouped}


def rewriting(quick: bool, adapters: Path | None) -> dict[str, Any] | None:
    """Latency of requests that need the rewrite step, against their canonical instructions."""
    from hlx_formats import BackendUnavailable, HLXError, translate
    from hlx_formats.requests import parse_request
    from hlx_moe import HLXMoE
    from hlx_moe.corpus import default_root, load

    try:
        moe = HLXMoE.load(adapters)
    except BackendUnavailable as error:
        return {"skipped": str(error)}
    wanted = 2 if quick else 30
    chosen = []
    for row in load(default_root() / "rewrites" / "test.jsonl"):
        try:
            parse_request(row["request"])
            continue  # read directly: no rewrite
        except HLXError:
            pass
        if (
            row["output"].startswith(("Convert", "Parse", "Translate HLXL to L"))
            and len(moe.decoder.encode(translate(row["output"]))) <= 40
        ):
            chosen.append(row)
        if len(chosen) == wanted:
            break
    # The threshold 0 answers every rewrite, however unsure: the time of the whole path (a
    # refusal is faster, and would flatter the median).
    always = moe.options.replace(rewrite_threshold=0.0)
    rewritten, canonical, rewrite_only, answered = [], [], [], 0
    for row in chosen:
        started = time.perf_counter()
        try:
            result = moe.query(row["request"], always)
            answered += 1
            rewrite_only.append((result.rewrite or {}).get("seconds", 0.0))
        except HLXError:
            continue  # read as no HLX request: not timed
        rewritten.append(time.perf_counter() - started)
        started = time.perf_counter()
        moe.query(row["output"])
        canonical.append(time.perf_counter() - started)
    median = lambda values: round(statistics.median(values), 3) if values else None
    return {
        "requests": len(chosen), "answered": answered,
        "rewrite_p50_seconds": median(rewritten), "rewrite_p95_seconds": round(_p95(rewritten), 3) if rewritten else None,
        "rewrite_step_p50_seconds": median(rewrite_only), "canonical_p50_seconds": median(canonical),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.moe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run (for CI)")
    parser.add_argument("--sections", default="matmul,quantization,training,padding,mixture,batching,rewriting")
    parser.add_argument("--base", default=None, help="the base of the quantization and training sections (default: the embedded one)")
    parser.add_argument("--adapters", type=Path, default=None, help="the mixture section's adapters (default: the shipped ones)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    results: dict[str, Any] = {}
    rate = matmul_rate(512 if args.quick else 2048, 2 if args.quick else 5)
    results["matmul"] = rate
    print(f"fp32 matmul: {rate['gflops']} GFLOP/s ({rate['size']}x{rate['size']}, {rate['threads']} threads)")
    if "quantization" in sections:
        results["quantization"] = quantization(args.quick, args.base)
        print("\n| quantization | load s | weights MB | tokens/s |\n|---|---|---|---|")
        for row in results["quantization"]:
            print(f"| {row['quantization']} | {row['load_seconds']} | {row['weights_mb']} | {row['tokens_per_second']} |")
    if "training" in sections:
        results["training"] = training(args.quick, rate, args.base)
        t = results["training"]
        print(
            f"\ntraining (cpu preset, {t['steps']} steps): {t['tokens_per_second']} tokens/s, {t['seconds_per_step']} s/step, "
            f"{t['gflops_achieved']} GFLOP/s = {t['share_of_matmul_limit']:.1%} of the matmul limit"
        )
    if "padding" in sections:
        results["padding"] = padding(args.quick)
        print("\n| expert | preset (batch) | order | padding share |\n|---|---|---|---|")
        for row in results["padding"]:
            print(f"| {row['expert']} | {row['preset']} ({row['batch_size']}) | {row['order']} | {row['padding_share']:.1%} |")
    if "mixture" in sections:
        results["mixture"] = mixture(args.quick, args.adapters)
        print("\nmixture:", json.dumps(results["mixture"], indent=2))
    if "batching" in sections:
        results["batching"] = batching(args.quick, args.adapters)
        found = results["batching"] or {}
        print(f"\nbatching ({found.get('requests')} mixed requests; query_batch: {found.get('default_mode')}) {found.get('skipped', '')}")
        print("| mode | batch size | s | requests/s | tokens/s | speed-up | peak extra MB | same answers |")
        print("|---|---|---|---|---|---|---|---|")
        for row in found.get("rows", []) + found.get("grouped_rows", []):
            print(
                f"| {row['mode']} | {row['batch_size']} | {row['seconds']} | {row['requests_per_second']} | {row['tokens_per_second']} "
                f"| {row['speedup']}x | {row['peak_extra_mb']} | {row['same_answers']} |"
            )
    if "rewriting" in sections:
        results["rewriting"] = rewriting(args.quick, args.adapters)
        print("\nrewriting:", json.dumps(results["rewriting"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
