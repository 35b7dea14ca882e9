"""Training one expert: a PEFT LoRA adapter on a base model, with the Hugging Face Trainer.

    hlx moe train --expert runic                      # the cpu preset on the embedded base
    hlx moe train --expert ascii --preset original --base Qwen/Qwen2.5-1.5B-Instruct
    accelerate launch -m hlx_moe.training --expert coordinator --preset original   # many GPUs

The loss is on the answer tokens only (the prompt's labels are -100). Training resumes from
the last checkpoint in ``<output>/<expert>/checkpoints`` unless told not to, evaluates on the
validation split, and writes a standard PEFT adapter folder with ``training_report.json``
and a model card.

Checkpoints are not shipped, so a fresh clone continues from a trained adapter instead:

    hlx moe train --expert runic --init-from hlx_moe/adapters/runic --output runs --set max_steps=300

starts from that adapter's weights (with a fresh optimiser and schedule) and records it in
the report as ``initialized_from``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_formats.errors import HLXError
from hlx_moe.corpus import EXPERTS, default_root, load
from hlx_moe.model.base import EMBEDDED_BASE, LoadedBase, load_base, quiet_dependencies, shipped_adapters_dir
from hlx_moe.model.cards import read_training_report
from hlx_moe.model.glyph_tokens import adapter_config, add_glyph_tokens, embedding_module_name
from hlx_moe.model.hex_digits import encode
from hlx_moe.training.arguments import TrainingSettings
from hlx_moe.training.callbacks import duration, progress_callback, time_limit_callback
from hlx_moe.training.presets import Preset, get_preset
from hlx_moe.training.report import corpus_hash, earlier_report, save_adapter, segments

__all__ = [
    "tokenize_rows", "AnswerOnlyCollator", "train_expert", "corpus_hash", "default_adapter_root", "DEFAULT_OUTPUT",
    "resolve_settings", "prepare_model", "prepare_data", "build_trainer", "write_report", "main",
]  # fmt: skip

#: Training's messages (what is trained, progress, where the adapter went): ``hlx_moe.training.*``
#: under the package's logger ``hlx_moe``; ``hlx moe train`` shows them on stderr.
logger = logging.getLogger(__name__)

#: Where ``train_expert`` writes ``<expert>/`` when no ``output_dir`` is given: a folder of the
#: current directory, never the installed package (whose shipped adapters it would replace).
DEFAULT_OUTPUT = Path("hlx-runs")


#: The adapters shipped with the package (``hlx_moe/adapters``): training writes there only
#: when told to (``output_dir``).
default_adapter_root = shipped_adapters_dir


def tokenize_rows(rows: list[dict[str, Any]], tokenizer: Any, max_length: int, *, hex_digits: bool = False) -> list[dict[str, Any]]:
    """Prompt and answer tokenised apart (as at inference), the answer ending in EOS; labels
    are -100 on the prompt so that the loss is on the answer only. Longer examples are dropped.
    Each example keeps its row's ``depth`` (0 where the row has none or null) for the curriculum.
    ``hex_digits``: every hex digit of a hex literal one token (``hlx_moe.hex_digits``)."""
    if hex_digits:
        prompts = [encode(tokenizer, row["input"], hex_digits=True) for row in rows]
        answers = [encode(tokenizer, row["output"], hex_digits=True) for row in rows]
    else:  # one batched call: the fast tokenizer's own speed
        prompts = tokenizer([row["input"] for row in rows], add_special_tokens=False)["input_ids"]
        answers = tokenizer([row["output"] for row in rows], add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    examples = []
    for row, prompt, answer in zip(rows, prompts, answers):
        input_ids = prompt + answer + [eos]
        if len(input_ids) > max_length:
            continue
        labels = [-100] * len(prompt) + answer + [eos]
        examples.append({"input_ids": input_ids, "labels": labels, "depth": int(row.get("depth") or 0)})
    return examples


class AnswerOnlyCollator:
    """Pads a batch to its longest example (labels with -100) and counts real tokens."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, batch: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(example["input_ids"]) for example in batch)
        input_ids, labels, attention = [], [], []
        for example in batch:
            padding = width - len(example["input_ids"])
            input_ids.append(example["input_ids"] + [self.pad_token_id] * padding)
            labels.append(example["labels"] + [-100] * padding)
            attention.append([1] * len(example["input_ids"]) + [0] * padding)
        return {
            "input_ids": torch.tensor(input_ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(attention),
        }


def _trainer_class(settings: TrainingSettings) -> Any:
    """The Trainer, or with ``curriculum="depth"`` a Trainer whose sampler orders each pass by depth."""
    from transformers import Trainer

    if settings.data.curriculum == "none":
        return Trainer

    class CurriculumTrainer(Trainer):
        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            from hlx_moe.training.curriculum import DepthCurriculumSampler

            dataset = train_dataset if train_dataset is not None else self.train_dataset
            args = self.args
            per_step = args.train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size)
            return DepthCurriculumSampler(
                [example["depth"] for example in dataset],
                [len(example["input_ids"]) for example in dataset],
                examples_in_run=args.max_steps * per_step if args.max_steps > 0 else -1,
                seed=args.seed,
            )

    return CurriculumTrainer


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    return "cpu"


def _check_device(settings: TrainingSettings, device: str) -> None:
    """On CPU, an error naming the settings that need CUDA and the overrides that drop them."""
    if device != "cpu":
        return
    optimizer = settings.get("optimizer")
    needs_cuda = [
        (reason, override)
        for reason, override, used in (
            ("fp16", "fp16=false", settings.get("fp16")),
            ("bf16", "bf16=false", settings.get("bf16")),
            (f"the {optimizer} optimiser", "optimizer=adamw_torch", optimizer.startswith("paged")),
            ("an nf4 base for training", "quantization=none", settings.adapter.quantization == "nf4"),
        )
        if used
    ]
    if needs_cuda:
        reasons = ", ".join(reason for reason, _ in needs_cuda)
        overrides = " ".join(f"--set {override}" for _, override in needs_cuda)
        raise HLXError(
            f"preset {settings.name!r} needs a CUDA GPU ({reasons}); on CPU use --preset cpu or override those fields ({overrides})"
        )


def resolve_settings(preset: str | Preset, overrides: dict[str, str] | None, checkpoint_dir: Path, device: str) -> TrainingSettings:
    """Step 1: the preset with its overrides, as the argument dataclasses, checked against the device."""
    chosen = preset if isinstance(preset, Preset) else get_preset(preset)
    settings = chosen.settings(overrides, output_dir=checkpoint_dir, use_cpu=not device.startswith("cuda"))
    _check_device(settings, device)
    return settings


def prepare_model(settings: TrainingSettings, base: str, device: str, initialized_from: dict[str, Any] | None) -> tuple[Any, LoadedBase]:
    """Step 2: the base (with its added tokens, prepared for training) under a trainable PEFT
    adapter: a fresh LoRA, or the adapter ``initialized_from`` names."""
    import peft

    adapter = settings.adapter
    checkpointing = bool(settings.get("gradient_checkpointing"))
    loaded = load_base(base, adapter.quantization, device, for_training=True)
    model = loaded.model
    glyph_ids = add_glyph_tokens(loaded.tokenizer, model) if adapter.glyph_tokens else None
    if adapter.quantization == "nf4":
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing)
    elif checkpointing:
        getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)()
        model.enable_input_require_grads()
    model.config.use_cache = False
    if initialized_from is None:
        lora = peft.LoraConfig(
            r=adapter.lora_r,
            lora_alpha=adapter.lora_alpha,
            lora_dropout=adapter.lora_dropout,
            target_modules=list(adapter.target_modules),
            bias="none",
            task_type="CAUSAL_LM",
            trainable_token_indices={embedding_module_name(model): glyph_ids} if glyph_ids else None,
        )
        return peft.get_peft_model(model, lora), loaded
    # fp16 adapter weights are cast back to fp32 for training (autocast_adapter_dtype)
    gains_glyphs = bool(glyph_ids) and not initialized_from["glyph_tokens"]
    if gains_glyphs:
        model = _plain_adapter_with_glyph_tokens(model, initialized_from["adapter"], embedding_module_name(model), glyph_ids or [])
    else:
        model = peft.PeftModel.from_pretrained(model, initialized_from["adapter"], is_trainable=True)
    hex_change = initialized_from["hex_digit_tokens"] != adapter.hex_digit_tokens
    logger.info(
        "starting from the adapter in %s (%s steps)%s%s",
        initialized_from["adapter"],
        initialized_from["steps"],
        "; the glyph tokens are new" if gains_glyphs else "",
        f"; it was trained with hex_digit_tokens={str(initialized_from['hex_digit_tokens']).lower()}, this run has "
        f"{str(adapter.hex_digit_tokens).lower()}"
        if hex_change
        else "",
    )
    return model, loaded


@dataclass
class ExpertData:
    """The tokenised training and validation examples, and the request phrasings file they drew on (or None)."""

    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    phrasings: Path | None
    rewrites: Path | None = None
    repairs: Path | None = None


def prepare_data(expert: str, corpus_dir: Path, settings: TrainingSettings, tokenizer: Any) -> ExpertData:
    """Step 3: the expert's training split (a seeded sample of ``own_examples`` of it, spread
    evenly over its tasks, when that is set; with its request phrasings, and for the coordinator
    the rewrite task, ``rewrite_examples`` of it when that is set; with ``repairs``, its repair
    rows, ``repair_examples`` of them when that is set) and the first ``eval_examples`` of its
    validation split (and half as many of the rewrites' and the repairs'), tokenised."""
    data, hex_digits = settings.data, settings.adapter.hex_digit_tokens
    train_rows = load(corpus_dir / expert / "train.jsonl")
    if 0 < data.own_examples < len(train_rows):
        train_rows = sample_by_task(train_rows, data.own_examples, settings.training.seed)
    phrasings: Path | None = corpus_dir / "requests" / "train.jsonl"
    if data.request_phrasings and phrasings is not None and phrasings.exists():
        train_rows += [row for row in load(phrasings) if row["expert"] == expert and not row["held_out_phrasing"]]
    else:
        phrasings = None
    validation_rows = load(corpus_dir / expert / "validation.jsonl")[: data.eval_examples]
    folders: dict[str, Path | None] = {}
    for task, wanted, sample in (
        ("rewrites", expert == "coordinator" and data.rewrites, data.rewrite_examples),
        ("repairs", data.repairs, data.repair_examples),
    ):
        found = task_rows(corpus_dir / task, expert, sample, settings.training.seed, data.eval_examples // 2) if wanted else None
        folders[task] = None if found is None else corpus_dir / task
        if found is not None:
            train_rows += found[0]
            validation_rows += found[1]
    return ExpertData(
        tokenize_rows(train_rows, tokenizer, data.max_length, hex_digits=hex_digits),
        tokenize_rows(validation_rows, tokenizer, data.max_length, hex_digits=hex_digits),
        phrasings,
        folders["rewrites"],
        folders["repairs"],
    )


def task_rows(
    folder: Path, expert: str, sample: int, seed: int, validation: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """An expert's rows of a task corpus (``corpora/rewrites/``, ``corpora/repairs/``): its
    training rows (a seeded sample of ``sample`` of them when that is set and fewer than all)
    and the first ``validation`` of its validation rows; None without a training file."""
    if not (folder / "train.jsonl").exists():
        return None
    train = [row for row in load(folder / "train.jsonl") if row["expert"] == expert]
    if 0 < sample < len(train):
        train = random.Random(seed).sample(train, sample)
    return train, [row for row in load(folder / "validation.jsonl") if row["expert"] == expert][:validation]


def sample_by_task(rows: list[dict[str, Any]], count: int, seed: int) -> list[dict[str, Any]]:
    """A seeded sample of ``count`` rows with as many of each task as the others (all of a
    task that has fewer), so that a short run keeps every task in the mix."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_task.setdefault(str(row.get("task")), []).append(row)
    groups = sorted(by_task.values(), key=len)
    rng = random.Random(seed)
    chosen: list[dict[str, Any]] = []
    left = count
    for index, group in enumerate(groups):
        share = left // (len(groups) - index)  # an even share of what is left, the small tasks first
        taken = group if len(group) <= share else rng.sample(group, share)
        chosen += taken
        left -= len(taken)
    rng.shuffle(chosen)
    return chosen


def build_trainer(model: Any, tokenizer: Any, data: ExpertData, settings: TrainingSettings) -> tuple[Any, Any, Any]:
    """Step 4: the Trainer (with the depth curriculum's sampler when asked), its progress
    callback and its time limit callback (None without a limit)."""
    from transformers.trainer_callback import PrinterCallback

    progress = progress_callback()
    time_limit = time_limit_callback(settings.run.time_limit_s) if settings.run.time_limit_s > 0 else None
    trainer = _trainer_class(settings)(
        model=model,
        args=settings.training,
        train_dataset=data.train,
        eval_dataset=data.validation,
        data_collator=AnswerOnlyCollator(tokenizer.pad_token_id),
        callbacks=[progress] + ([time_limit] if time_limit else []),
    )
    trainer.remove_callback(PrinterCallback)  # the Progress callback logs instead
    return trainer, progress, time_limit


def train_expert(
    expert: str,
    *,
    preset: str | Preset = "cpu",
    base: str = EMBEDDED_BASE,
    corpus_dir: Path | None = None,
    output_dir: Path | None = None,
    overrides: dict[str, str] | None = None,
    resume: bool = True,
    init_from: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train one expert's LoRA adapter and write it to ``<output_dir>/<expert>`` (default
    ``./hlx-runs/<expert>``).

    ``init_from`` is a trained adapter folder to start from instead of a fresh LoRA (its
    rank, alpha and target modules must be the preset's; a checkpoint to resume from, when
    there is one, still wins). Messages go to the ``hlx_moe.training`` loggers (and to
    ``log`` too, when given, one string each). Returns the training report (also written as
    ``training_report.json``).
    """
    if expert not in EXPERTS:
        raise HLXError(f"unknown expert {expert!r}; experts: {', '.join(EXPERTS)}")
    if isinstance(preset, str):
        get_preset(preset)  # an unknown name is an HLXError before torch is imported
    corpus_dir = corpus_dir or default_root()
    adapter_dir = (output_dir or DEFAULT_OUTPUT) / expert
    checkpoint_dir = adapter_dir / "checkpoints"
    device = _device()
    settings = resolve_settings(preset, overrides, checkpoint_dir, device)
    initialized_from = _check_init_adapter(Path(init_from), settings, base) if init_from is not None else None
    with _also_to(log), quiet_dependencies():  # the dependencies' warnings only with --verbose / HLX_VERBOSE=1
        model, loaded = prepare_model(settings, base, device, initialized_from)
        data = prepare_data(expert, corpus_dir, settings, loaded.tokenizer)
        logger.info(
            "training the %s expert: preset %s, base %s (%s, %s), %d training and %d validation examples, %s trainable parameters",
            expert, settings.name, base, loaded.quantization, device, len(data.train), len(data.validation),
            f"{model.get_nb_trainable_parameters()[0]:,}",
        )  # fmt: skip
        trainer, progress, time_limit = build_trainer(model, loaded.tokenizer, data, settings)
        checkpoint = None
        if resume and checkpoint_dir.exists() and any(checkpoint_dir.glob("checkpoint-*")):
            checkpoint = True
            logger.info("resuming from the last checkpoint in %s", checkpoint_dir)
        started = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=checkpoint)
        train_seconds = time.perf_counter() - started
        stopped_early = time_limit is not None and time_limit.stopped
        if stopped_early:
            logger.info(
                "stopped at step %d of %d: time_limit_s=%g reached (the learning rate was not annealed; --init-from this adapter to go on)",
                trainer.state.global_step, trainer.state.max_steps, settings.run.time_limit_s,
            )  # fmt: skip
        evaluation = trainer.evaluate()
        if not trainer.is_world_process_zero():
            return {}
        run = _Run(expert, base, corpus_dir, adapter_dir, device, loaded, data, initialized_from, train_seconds, stopped_early)
        return write_report(run, settings, model, trainer, progress, result, evaluation)


@dataclass
class _Run:
    """What the report says of a run besides the Trainer's state."""

    expert: str
    base: str
    corpus_dir: Path
    adapter_dir: Path
    device: str
    loaded: LoadedBase
    data: ExpertData
    initialized_from: dict[str, Any] | None
    train_seconds: float
    stopped_early: bool


def write_report(
    run: _Run, settings: TrainingSettings, model: Any, trainer: Any, progress: Any, result: Any, evaluation: dict[str, float]
) -> dict[str, Any]:
    """Step 5: the adapter (in ``adapter_dtype``), ``training_report.json`` and the model card."""
    import peft
    import torch
    import transformers

    if settings.adapter.adapter_dtype == "float16":  # half the size on disk; PEFT casts it back on load
        for name, parameter in model.named_parameters():
            if "lora_" in name or "trainable_tokens_delta" in name:
                parameter.data = parameter.data.to(torch.float16)
    # The embedding grew by the glyph tokens, so PEFT would save all of it: only their rows
    # (the trainable tokens) are new.
    save_adapter(model, run.adapter_dir, run.base)
    state, on_cuda = trainer.state, run.device.startswith("cuda")
    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    tokens_this_run = int(state.num_input_tokens_seen - progress.first_tokens)
    earlier = earlier_report(run.adapter_dir, progress.first_step)
    report = {
        "expert": run.expert,
        "base": run.base,
        "base_quantization": run.loaded.quantization,
        "preset": settings.as_dict(),
        "corpus_sha256": corpus_hash(run.corpus_dir, run.expert),
        "request_phrasings_sha256": hashlib.sha256(run.data.phrasings.read_bytes()).hexdigest() if run.data.phrasings else None,
        **({"rewrites_sha256": _task_hash(run.data.rewrites)} if run.data.rewrites else {}),
        **({"repairs_sha256": _task_hash(run.data.repairs)} if run.data.repairs else {}),
        "train_examples": len(run.data.train),
        "validation_examples": len(run.data.validation),
        "steps": state.global_step,
        "epochs": round(float(state.epoch or 0), 4),
        "train_seconds": round(run.train_seconds + float(earlier.get("train_seconds", 0.0)), 1),
        "segments": segments(earlier, progress.first_step, state.global_step, run.train_seconds),
        "resumed_from_step": progress.first_step,
        **({"stopped_by_time_limit": True, "planned_steps": state.max_steps} if run.stopped_early else {}),
        **({"initialized_from": run.initialized_from} if run.initialized_from else {}),
        "tokens_seen": int(state.num_input_tokens_seen),
        "tokens_per_second": round(tokens_this_run / max(run.train_seconds, 1e-9), 1),
        "final_train_loss": round(losses[-1], 4) if losses else round(result.training_loss, 4),
        "mean_train_loss": round(result.training_loss, 4),
        "final_validation_loss": round(evaluation["eval_loss"], 4),
        "trainable_parameters": model.get_nb_trainable_parameters()[0],
        "device": run.device if not on_cuda else torch.cuda.get_device_name(run.device),
        "threads": torch.get_num_threads(),
        "processes": settings.training.world_size,  # > 1 under accelerate launch / torchrun
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
    }
    atomic_write_text(run.adapter_dir / "training_report.json", json.dumps(report, indent=2) + "\n")
    from hlx_moe.model.cards import write_model_card

    write_model_card(run.adapter_dir, report)
    logger.info(
        "wrote %s: %s steps in %s, %s tok/s, train loss %s, validation loss %s",
        run.adapter_dir, report["steps"], duration(run.train_seconds), f"{report['tokens_per_second']:,.0f}",
        report["final_train_loss"], report["final_validation_loss"],
    )  # fmt: skip
    return report


def _task_hash(folder: Path) -> str:
    """SHA-256 of a task corpus's training and validation files (``rewrites/``, ``repairs/``), in that order."""
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        digest.update((folder / f"{split}.jsonl").read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _also_to(log: Callable[[str], None] | None) -> Iterator[None]:
    """Within: the training's messages also go to ``log`` (one string each), whatever the
    logging configuration."""
    if log is None:
        yield
        return
    training_logger = logging.getLogger("hlx_moe.training")

    class Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            log(record.getMessage())  # type: ignore[misc]

    handler, level = Forward(logging.INFO), training_logger.level
    training_logger.addHandler(handler)
    if training_logger.getEffectiveLevel() > logging.INFO:
        training_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        training_logger.removeHandler(handler)
        training_logger.setLevel(level)


def _plain_adapter_with_glyph_tokens(model: Any, adapter: str, embedding: str, glyph_ids: list[int]) -> Any:
    """A trainable PEFT model with the LoRA weights of ``adapter`` (trained without glyph
    tokens) and trainable glyph rows that start where :func:`add_glyph_tokens` put them."""
    import peft
    from peft.utils import load_peft_weights

    config = adapter_config(Path(adapter), trainable_token_indices={embedding: glyph_ids}, inference_mode=False)
    model = peft.get_peft_model(model, config)
    weights = load_peft_weights(adapter)
    for name, tensor in peft.get_peft_model_state_dict(model).items():
        if name.endswith("trainable_tokens_delta"):  # the adapter has none: keep the fresh rows
            weights.setdefault(name, tensor)
    peft.set_peft_model_state_dict(model, weights)
    return model


def _check_init_adapter(folder: Path, settings: TrainingSettings, base: str) -> dict[str, Any]:
    """What ``init_from`` is (adapter path, its steps and training time), after checking that
    it is an adapter of the same shape for the same base."""
    config_path = folder / "adapter_config.json"
    if not config_path.is_file() or not (folder / "adapter_model.safetensors").is_file():
        raise HLXError(f"--init-from {folder}: not an adapter folder (needs adapter_config.json and adapter_model.safetensors)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    wanted = {
        "r": settings.adapter.lora_r,
        "lora_alpha": settings.adapter.lora_alpha,
        "target_modules": sorted(settings.adapter.target_modules),
    }
    found = {"r": config.get("r"), "lora_alpha": config.get("lora_alpha"), "target_modules": sorted(config.get("target_modules") or [])}
    differences = [f"{key} {found[key]} (preset: {wanted[key]})" for key in wanted if found[key] != wanted[key]]
    if differences:
        raise HLXError(
            f"--init-from {folder}: the adapter has {', '.join(differences)}; "
            "train with the same shape (--set lora_r=... --set lora_alpha=...)"
        )
    glyph_tokens = bool(config.get("trainable_token_indices"))
    if glyph_tokens and not settings.adapter.glyph_tokens:  # its glyph rows would be lost
        raise HLXError(f"--init-from {folder}: the adapter was trained with glyph tokens; train with --set glyph_tokens=true")
    report = read_training_report(folder) or {}  # unreadable: an error, not a lineage silently lost
    if report.get("base") not in (None, base):
        raise HLXError(f"--init-from {folder}: the adapter was trained on base {report['base']!r}, not {base!r}")
    preset = report.get("preset") or {}
    return {  # the starting adapter's own schedule: the folder may be overwritten by this run
        "adapter": str(folder),
        "steps": report.get("steps"),
        "epochs": report.get("epochs"),
        "learning_rate": preset.get("learning_rate"),
        "seed": preset.get("seed"),
        "train_seconds": report.get("train_seconds"),
        "corpus_sha256": report.get("corpus_sha256"),
        "glyph_tokens": glyph_tokens,
        "hex_digit_tokens": bool(preset.get("hex_digit_tokens")),
        "preset": preset.get("name"),
        "batch_size": preset.get("batch_size"),
        "device": report.get("device"),
        # the whole lineage, so that a card can say every run an adapter is made of
        **({"initialized_from": report["initialized_from"]} if report.get("initialized_from") else {}),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``hlx moe train`` and ``python -m hlx_moe.training``."""
    parser.add_argument("--expert", required=True, choices=EXPERTS, help="which expert to train")
    parser.add_argument("--preset", default="cpu", help="hyper-parameter preset: cpu (default), gpu or original")
    parser.add_argument("--base", default=EMBEDDED_BASE, help="base model: smollm2-135m (default), a folder or a cached model id")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: corpora/)")
    parser.add_argument("--output", type=Path, default=None, help=f"adapter root (default: ./{DEFAULT_OUTPUT})")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="override a preset field (repeatable): a field of the report's preset or of TrainingArguments",
    )  # fmt: skip
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if checkpoints exist")
    parser.add_argument(
        "--init-from", type=Path, default=None, metavar="ADAPTER", help="start from this trained adapter folder instead of a fresh LoRA"
    )


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            raise HLXError(f"--set expects FIELD=VALUE, got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def run(args: argparse.Namespace, fields: list[str] | None = None) -> int:
    """Train as ``args`` say; ``fields`` are further ``--FIELD VALUE`` pairs (``HfArgumentParser``'s
    spelling of ``--set FIELD=VALUE``)."""
    train_expert(
        args.expert,
        preset=args.preset,
        base=args.base,
        corpus_dir=args.corpus,
        output_dir=args.output,
        overrides={**parse_overrides(args.set), **_field_pairs(fields or [])},
        resume=not args.no_resume,
        init_from=args.init_from,
    )
    return 0


def _field_pairs(words: list[str]) -> dict[str, str]:
    """``["--learning_rate", "1e-3", "--glyph_tokens", "true"]`` (or ``--learning_rate=1e-3``) as overrides."""
    pairs: dict[str, str] = {}
    key: str | None = None
    for word in words:
        if word.startswith("--"):
            if key is not None:
                raise HLXError(f"--{key} expects a value")
            name, equals, value = word[2:].partition("=")
            if equals:
                pairs[name.replace("-", "_")] = value
            else:
                key = name.replace("-", "_")
        elif key is not None:
            pairs[key] = word if key not in pairs else f"{pairs[key]},{word}"
            key = None
        else:
            raise HLXError(f"unexpected argument {word!r}")
    if key is not None:
        raise HLXError(f"--{key} expects a value")
    return pairs


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m hlx_moe.training`` (and of ``accelerate launch -m hlx_moe.training``):
    the options of ``hlx moe train``, and any preset field as ``--FIELD VALUE`` too. The
    messages go to stderr."""
    parser = argparse.ArgumentParser(
        prog="python -m hlx_moe.training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args, fields = parser.parse_known_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_logger = logging.getLogger("hlx_moe")
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    try:
        return run(args, fields)
    except HLXError as error:
        sys.stderr.write(f"hlx moe train: error: {error}\n")
        return 1
    finally:
        package_logger.removeHandler(handler)
