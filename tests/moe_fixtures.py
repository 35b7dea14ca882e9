"""The model fixtures shared by tests/test_moe.py and tests/test_training.py: a tiny random
model of the base's architecture, a small corpus and three experts trained on it.

A pytest plugin (``pytest_plugins`` in conftest.py), so that each session-scoped fixture is
built once for the whole run, whichever test files use it. Imports of torch and the model
stack happen inside the fixtures: the test files that use them skip without those.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The small corpus's sizes (a CorpusSpec's arguments) and the overrides of the ``cpu`` preset
# that train an expert in a few seconds.
SMALL_SIZES = dict(
    train={"runic": 48, "ascii": 48, "coordinator": 180}, validation=8, test=12, test_ood=4,
    requests={"train": 24, "validation": 4, "test": 8}, rewrites={"train": 40, "validation": 8, "test": 16},
    repairs={"train": 16, "validation": 8, "test": 16},
)  # fmt: skip
TRAIN_OVERRIDES = {"max_steps": "3", "batch_size": "4", "logging_steps": "1", "eval_steps": "3", "save_steps": "2", "eval_examples": "4"}


@pytest.fixture(scope="session")
def tokenizer():
    from hlx_moe.model.base import load_tokenizer

    return load_tokenizer()


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory, tokenizer) -> Path:
    """A randomly initialised 2-layer Llama with the embedded tokenizer, saved as safetensors."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny-base")
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hlx_moe import corpus

    root = tmp_path_factory.mktemp("corpus")
    corpus.write(root, corpus.CorpusSpec(**SMALL_SIZES))
    return root


@pytest.fixture(scope="session")
def adapters(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path, small_corpus: Path) -> Path:
    """Three experts trained for a few steps each through the real training code."""
    from hlx_moe import corpus
    from hlx_moe.training.train import train_expert

    output = tmp_path_factory.mktemp("adapters")
    for expert in corpus.EXPERTS:
        report = train_expert(
            expert, preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=output,
            overrides=TRAIN_OVERRIDES, log=lambda message: None,
        )  # fmt: skip
        assert report["steps"] == 3
    return output


@pytest.fixture(scope="session")
def glyph_adapters(tmp_path_factory: pytest.TempPathFactory, adapters: Path, tiny_base: Path, small_corpus: Path) -> Path:
    """A runic expert trained with glyph tokens beside ascii and coordinator trained without."""
    import shutil

    from hlx_moe.training.train import train_expert

    root = tmp_path_factory.mktemp("glyph-adapters")
    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=root,
        overrides={**TRAIN_OVERRIDES, "glyph_tokens": "true"}, log=lambda message: None,
    )  # fmt: skip
    assert report["steps"] == 3 and report["preset"]["glyph_tokens"] is True
    for expert in ("ascii", "coordinator"):
        shutil.copytree(adapters / expert, root / expert, ignore=shutil.ignore_patterns("checkpoints"))
    return root
