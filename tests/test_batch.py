"""Batched answers (``HLXMoE.query_batch``, ``Decoder.generate_batch``): the same greedy
answers as one request at a time, on every constraint path (formats, all formats, literals
and their order, free text, unconstrained), with rows of different lengths and budgets
finishing apart, with the experts mixed in one batch (each row its own adapter and glyph
rows) or grouped by expert, and with requests answered in two steps among them."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("llguidance")

from moe_fixtures import TRAIN_OVERRIDES  # noqa: E402 - after the importorskips above

from hlx_formats import HLXError, NotUnderstood  # noqa: E402 - after the importorskips above
from hlx_moe import DecodingOptions, HLXMoE  # noqa: E402 - after the importorskips above

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


@pytest.fixture(scope="module")
def two_glyph_adapters(tmp_path_factory: pytest.TempPathFactory, glyph_adapters: Path, tiny_base: Path, small_corpus: Path) -> Path:
    """runic and ascii each trained with glyph tokens (each its own rows), coordinator without."""
    import shutil

    from hlx_moe.training.train import train_expert

    root = tmp_path_factory.mktemp("two-glyph-adapters")
    train_expert(
        "ascii", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=root,
        overrides={**TRAIN_OVERRIDES, "glyph_tokens": "true"}, log=lambda message: None,
    )  # fmt: skip
    for expert in ("runic", "coordinator"):
        shutil.copytree(glyph_adapters / expert, root / expert, ignore=shutil.ignore_patterns("checkpoints"))
    return root


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


def test_a_batch_mixes_experts_in_one_forward_pass(tiny_mixture: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    """One batch holds every expert's rows (each LoRA layer adds each row its own adapter's
    term); grouped by expert, the same answers."""
    decoder_type = type(tiny_mixture.decoder)
    real, batches = decoder_type.generate_batch, []

    def spy(self, prompts, *args, **kwargs):
        batches.append({decoder for decoder in kwargs.get("decoders") or [self]})
        return real(self, prompts, *args, **kwargs)

    monkeypatch.setattr(decoder_type, "generate_batch", spy)
    mixed = tiny_mixture.query_batch(REQUESTS, batch_size=len(REQUESTS))
    assert len(batches) == 1 and len({result.expert for result in mixed}) == 3
    assert tiny_mixture.row_adapters is not None and tiny_mixture.row_adapters.groups is None  # reset after the batch
    grouped = tiny_mixture.query_batch(REQUESTS, batch_size=len(REQUESTS), mix_experts=False)
    assert len(batches) == 4  # one batch for each expert
    assert _answers(mixed) == _answers(grouped)


def _logits_alone_and_mixed(moe: HLXMoE, inputs: torch.Tensor, experts: list[str]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each row's logits from its expert alone, and all rows' from one mixed forward pass."""
    with torch.no_grad():
        alone = []
        for row, expert in enumerate(experts):
            moe.activate(expert)
            alone.append(moe.model(input_ids=inputs[row : row + 1]).logits[0])
        moe._assign_rows(experts)
        try:
            mixed = moe.model(input_ids=inputs).logits
        finally:
            moe._assign_rows(None)
    return alone, mixed


def test_rows_of_one_batch_run_their_own_adapters(tiny_mixture: HLXMoE) -> None:
    """The logits of a row in a mixed forward pass are those of its expert alone."""
    prompts = ["Convert to LC-R: [1, 2]", "Convert to LC-T: [1, 2]", "What is LC-T?"]
    experts = ["runic", "ascii", "coordinator"]
    inputs = torch.tensor([tiny_mixture.tokenizer(prompt)["input_ids"][:5] for prompt in prompts])
    alone, mixed = _logits_alone_and_mixed(tiny_mixture, inputs, experts)
    for row in range(len(experts)):
        assert torch.allclose(mixed[row], alone[row], atol=1e-5)


def test_glyph_token_experts_batch_too(glyph_adapters: Path) -> None:
    """runic reads and writes the glyphs as its own tokens, ascii and coordinator as
    byte-level pieces: mixed in one batch or grouped, the answers of one at a time."""
    moe = HLXMoE.load(glyph_adapters, quantization="none")
    requests = REQUESTS[:6]
    one_by_one = _answers([moe.query(request) for request in requests])
    for batch_size in (3, 6):
        assert _answers(moe.query_batch(requests, batch_size=batch_size)) == one_by_one
    assert _answers(moe.query_batch(requests, batch_size=6, mix_experts=False)) == one_by_one


def test_experts_with_their_own_glyph_rows_share_a_batch(two_glyph_adapters: Path) -> None:
    """Two experts with glyph rows of their own: each row reads its expert's block."""
    moe = HLXMoE.load(two_glyph_adapters, quantization="none")
    assert moe.glyphs is not None and set(moe.glyphs.rows) == {"runic", "ascii"} and moe.glyphs.blocks is not None
    assert not torch.equal(moe.glyphs.rows["runic"], moe.glyphs.rows["ascii"])
    runic = moe.decoders["runic"]
    inputs = torch.tensor([runic.encode("Parse LC-R: 🜃1, 2🜄")] * 3)
    assert int(inputs.max()) >= len(moe.tokenizer)  # glyph tokens in the input
    alone, mixed = _logits_alone_and_mixed(moe, inputs, ["runic", "ascii", "coordinator"])
    assert not torch.allclose(alone[0], alone[1], atol=1e-3)
    for row in range(2):  # the coordinator never reads or writes the glyph tokens
        assert torch.allclose(mixed[row], alone[row], atol=1e-5)
    requests = REQUESTS + ["Convert to LC-R: {x: [true]}", "Convert to LC-R: [3, 4, 5]"]
    one_by_one = _answers([moe.query(request) for request in requests])
    assert _answers(moe.query_batch(requests, batch_size=len(requests))) == one_by_one
    assert _answers(moe.query_batch(requests, batch_size=4)) == one_by_one
    assert moe.glyphs.blocks.offsets is None  # reset after the batch


def test_two_step_requests_in_a_batch(tiny_mixture: HLXMoE) -> None:
    requests = ["Translate LC-B to LC-R: [[0x01,0x02]]", *REQUESTS[:4]]
    batch = tiny_mixture.query_batch(requests, batch_size=len(requests))
    assert batch[0].route == "direct+hops"
    assert _answers(batch) == _answers([tiny_mixture.query(request) for request in requests])


def test_a_bad_request_is_refused_before_any_decoding(tiny_mixture: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = []
    monkeypatch.setattr(type(tiny_mixture.decoder), "generate_batch", lambda self, *args: decoded.append(args))
    with pytest.raises(NotUnderstood):
        tiny_mixture.query_batch(["Convert to LC-R: [1]", "make me a sandwich"])
    with pytest.raises(HLXError, match="batch_size must be a positive integer"):
        tiny_mixture.query_batch(["Convert to LC-R: [1]"], batch_size=0)
    assert decoded == []


@pytest.mark.slow
def test_the_shipped_mixture_answers_a_mixed_batch_as_one_at_a_time(shipped_mixture: HLXMoE) -> None:
    """A fixed sample of the real model: the first two in-distribution test requests of each
    expert, in one batch that mixes them (benchmarks/moe.py's first six). An answer may differ
    only where greedy decoding was nearly tied: a padded batch (or another thread count) sums
    the same numbers in another order (the coordinator's third test request, one thread: two
    answers 0.07 nats apart)."""
    from hlx_moe.corpus import EXPERTS, default_root, instruction_of, load, prompt_of

    splits = [[row for row in load(default_root() / expert / "test.jsonl") if not row["ood"]] for expert in EXPERTS]
    requests = [instruction_of(splits[index % len(splits)][index // len(splits)]) for index in range(6)]
    batch = shipped_mixture.query_batch(requests, batch_size=len(requests))
    assert len({result.expert for result in batch}) == 3
    one_by_one = [shipped_mixture.query(request) for request in requests]
    differing = [index for index, (a, b) in enumerate(zip(_answers(batch), _answers(one_by_one))) if a != b]
    assert len(differing) <= 1, differing
    for index in differing:
        shipped_mixture.activate(one_by_one[index].expert)
        decoder = shipped_mixture.decoders[one_by_one[index].expert]
        scores = [decoder.score(prompt_of(requests[index]), result.answer) for result in (batch[index], one_by_one[index])]
        assert abs(scores[0] - scores[1]) < 0.25, (batch[index].answer, one_by_one[index].answer, scores)
