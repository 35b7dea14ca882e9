"""The benchmarks run (a smoke run each, so that they cannot rot); no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hlx_formats import ACCELERATED

ROOT = Path(__file__).resolve().parent.parent


def run_module(*arguments: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip


def test_codec_benchmark_quick(tmp_path: Path) -> None:
    pytest.importorskip("msgpack")
    pytest.importorskip("cbor2")
    done = run_module("benchmarks.codecs", "--quick", "--output", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "| HLX codec | target peer |" in done.stdout and "LC-B binary size / msgpack size" in done.stdout
    results = json.loads((tmp_path / "performance-codecs.json").read_text())
    paths = ("compiled", "pure Python") if ACCELERATED else ("pure Python",)
    assert set(results["ratios"]) == {f"{name} ({path})" for name in ("HLXL", "LC-T", "LC-R", "LC-B text", "LC-B binary") for path in paths}
    assert all(row["decode_peak_bytes"] > 0 for row in results["results"]["codecs"].values() if row["kind"] == "hlx")
    assert all(row["decode_values_per_s"] > 0 for row in results["results"]["codecs"].values())


@pytest.mark.slow
def test_moe_benchmark_quick(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every section's code on the suite's tiny stand-in model (``--base``) and the adapters
    trained on it (``--adapters``): the real model's load and decoding are tested once, with
    the run's one shipped mixture (``shipped_mixture``), not in a second process here."""
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    tiny_base, adapters = request.getfixturevalue("tiny_base"), request.getfixturevalue("adapters")
    output = tmp_path / "moe.json"
    # no tight limit: 5.5 minutes measured on the 2-core machine beside several other CPU-heavy jobs
    arguments = ["--quick", "--base", str(tiny_base), "--adapters", str(adapters), "--json", str(output)]
    done = run_module("benchmarks.moe", *arguments, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["matmul"]["gflops"] > 0
    assert {row["quantization"] for row in results["quantization"]} == {"nf4", "none"}
    assert results["training"]["tokens_per_second"] > 0
    shares = {(row["expert"], row["preset"], row["order"]): row["padding_share"] for row in results["padding"]}
    assert len(shares) == 18 and all(0 <= share < 1 for share in shares.values())
    assert all(shares[expert, "gpu", "length-bucketed"] < shares[expert, "gpu", "random"] for expert in ("ascii", "runic", "coordinator"))
    assert "mixture" in results
    batching = results["batching"]["rows"]
    assert [row["batch_size"] for row in batching] == [1, 1, 4]
    assert all(row["same_answers"] == results["batching"]["requests"] for row in batching)


def test_decoding_benchmark_quick() -> None:
    done = run_module("benchmarks.decoding", "--quick", timeout=600)
    assert done.returncode == 0, done.stderr
    assert "| one candidate, incremental state (us) |" in done.stdout


def test_requests_benchmark_quick() -> None:
    done = run_module("benchmarks.requests", "--quick")
    assert done.returncode == 0, done.stderr
    assert "| overhead_percent |" in done.stdout and "| value_100kb_request_s |" in done.stdout
