"""The parts of the mixture's tests that run no model: routing, the shipped adapters' reports,
the mixture's refusal of missing adapters. Without the module-level ``importorskip("torch")``
of ``test_moe.py``, so that they run where the [moe] extra is not installed (a test that needs
one of its modules skips alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlx_formats import HLXError
from hlx_moe import corpus, route_instruction

#: Instructions and the expert each goes to (test_moe.py asks the mixture the same ones).
ROUTES = {
    "Convert to LC-R: [1, 2]": "runic",
    "Parse LC-R: 🜃1🜄": "runic",
    "Convert this to Runic glyphs: [1,2]": "runic",
    "Convert to LC-T: null": "ascii",
    "Parse LC-T: {C:14,0=42}": "ascii",
    "Convert this to text-safe format: 🜃1🜄": "ascii",
    "Convert to LC-B: 42": "coordinator",
    "Translate HLXL to all formats: null": "coordinator",
    "What is contract 900?": "coordinator",
    "Search for documents": "coordinator",
    "Tell me a joke": "coordinator",
}


def test_router() -> None:
    for instruction, expert in ROUTES.items():
        decision = route_instruction(instruction)
        assert decision.expert == expert, instruction
        assert decision.reason
    # requests in other words go to their expert as their canonical instruction
    decision = route_instruction("please translate {a: 1} into runic")
    assert decision.expert == "runic" and decision.instruction.text == "Convert to LC-R: {a: 1}"
    assert route_instruction("Convert [1, 2] to LC-T and LC-R").instruction is None  # a task not trained
    with pytest.raises(HLXError, match="hlxl: line 1"):  # a value that does not parse: refused, like the reference
        route_instruction("Convert to LC-R: [1, 2,")


def test_the_shipped_adapters_were_trained_on_the_committed_corpora() -> None:
    """Each shipped adapter's report holds the SHA-256 of its expert's committed training and
    validation files: a change to the corpora (more drills, say) must come with adapters
    trained on them, or the model cards would describe data the adapters never saw."""
    from hlx_moe.corpus import default_root
    from hlx_moe.model.cards import read_training_report
    from hlx_moe.training.train import corpus_hash, default_adapter_root

    for expert in corpus.EXPERTS:
        report = read_training_report(default_adapter_root() / expert)
        assert report is not None, expert
        assert report["corpus_sha256"] == corpus_hash(default_root(), expert), expert


def test_missing_adapters_is_a_clear_error(tmp_path: Path) -> None:
    for module in ("torch", "transformers", "peft", "llguidance"):  # without them, the error names the extra
        pytest.importorskip(module)
    from hlx_formats import BackendUnavailable
    from hlx_moe import HLXMoE

    with pytest.raises(BackendUnavailable, match="hlx moe train"):
        HLXMoE.load(tmp_path)
