"""Batched answers (``HLXMoE.query_batch``, ``Decoder.generate_batch``): the same greedy
answers as one request at a time, on every constraint path (formats, all formats, literals
and their order, free text, unconstrained), with rows of different lengths and budgets
finishing apart."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("llguidance")

from hlx_formats import HLXError, NotUnderstood
from hlx_moe import DecodingOptions, HLXMoE

REQUESTS = [
    "Convert to LC-R: [1, 2, 3]",
    "Convert to LC-T: {a: 1, b: [true, null]}",
    "Parse LC-T: {C:14,0=42}",
    "Convert to LC-B: [-333, 7]",
    "Convert to all formats: [1, 2]",
    "Parse LC-R: 🜃1, 2🜄",
    "What is contract 900?",
    'Convert to LC-T: "a string"',
    "Parse HLXL: {14: {@0: 42}}",
]


@pytest.fixture(scope="module")
def tiny_mixture(adapters: Path) -> HLXMoE:
    return HLXMoE.load(adapters)


def _answers(results):
    return [(result.answer, result.stop_reason, result.expert, result.new_tokens) for result in results]


@pytest.mark.parametrize(
    "options", [DecodingOptions(), DecodingOptions(literal_order=False, source_literals=False), DecodingOptions(constrained=False)]
)
def test_a_batch_answers_as_one_request_at_a_time(tiny_mixture: HLXMoE, options: DecodingOptions) -> None:
    one_by_one = [tiny_mixture.query(request, options) for request in REQUESTS]
    for batch_size in (1, 4, len(REQUESTS)):
        assert _answers(tiny_mixture.query_batch(REQUESTS, options, batch_size=batch_size)) == _answers(one_by_one)


def test_a_batch_with_short_budgets_finishes_every_answer(tiny_mixture: HLXMoE) -> None:
    """Budgets of a few tokens end rows at different steps; the finisher still closes each
    constrained answer so that it parses."""
    options = DecodingOptions(max_new_tokens=6)
    batch = tiny_mixture.query_batch(REQUESTS, options, batch_size=5)
    assert _answers(batch) == _answers([tiny_mixture.query(request, options) for request in REQUESTS])
    assert all(result.parses for result in batch if result.constrained)


def test_glyph_token_experts_batch_too(glyph_adapters: Path) -> None:
    moe = HLXMoE.load(glyph_adapters, quantization="none")
    requests = REQUESTS[:6]
    assert _answers(moe.query_batch(requests, batch_size=3)) == _answers([moe.query(request) for request in requests])


def test_a_bad_request_is_refused_before_any_decoding(tiny_mixture: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = []
    monkeypatch.setattr(type(tiny_mixture.decoder), "generate_batch", lambda self, *args: decoded.append(args))
    with pytest.raises(NotUnderstood):
        tiny_mixture.query_batch(["Convert to LC-R: [1]", "make me a sandwich"])
    with pytest.raises(HLXError, match="batch_size must be a positive integer"):
        tiny_mixture.query_batch(["Convert to LC-R: [1]"], batch_size=0)
    assert decoded == []
