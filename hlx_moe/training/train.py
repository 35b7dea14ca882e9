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
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_formats.errors import HLXError
from hlx_moe.corpus import EXPERTS, default_root, load
from hlx_moe.model.base import EMBEDDED_BASE, load_base, shipped_adapters_dir
from hlx_moe.model.cards import read_training_report
from hlx_moe.model.glyph_tokens import adapter_config, add_glyph_tokens, embedding_module_name
from hlx_moe.model.hex_digits import encode
from hlx_moe.training.presets import CURRICULA, Preset, get_preset

__all__ = ["tokenize_rows", "AnswerOnlyCollator", "train_expert", "corpus_hash", "default_adapter_root", "DEFAULT_OUTPUT", "main"]


#: Where ``train_expert`` writes ``<expert>/`` when no ``output_dir`` is given: a folder of the
#: current directory, never the installed package (whose shipped adapters it would replace).
DEFAULT_OUTPUT = Path("hlx-runs")


#: The adapters shipped with the package (``hlx_moe/adapters``): training writes there only
#: when told to (``output_dir``).
default_adapter_root = shipped_adapters_dir


def corpus_hash(corpus_dir: Path, expert: str) -> str:
    """SHA-256 of the expert's train and validation files: which data an adapter saw."""
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        digest.update((corpus_dir / expert / f"{split}.jsonl").read_bytes())
    return digest.hexdigest()


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


def _trainer_class(settings: Preset) -> Any:
    """The Trainer, or with ``curriculum="depth"`` a Trainer whose sampler orders each pass by depth."""
    from transformers import Trainer

    if settings.curriculum == "none":
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


def _progress_callback(log: Callable[[str], None]) -> Any:
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """One line per logging step: step, loss, tokens/s, elapsed and time left."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()
            self.first_step = state.global_step
            self.first_tokens = state.num_input_tokens_seen

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
            if not state.is_world_process_zero or not logs:
                return
            elapsed = time.perf_counter() - self.started
            steps = max(1, state.global_step - self.first_step)
            left = (state.max_steps - state.global_step) * elapsed / steps
            tokens = (state.num_input_tokens_seen - self.first_tokens) / max(elapsed, 1e-9)
            parts = [f"step {state.global_step}/{state.max_steps}"]
            if "loss" in logs:
                parts.append(f"loss {logs['loss']:.4f}")
            if "eval_loss" in logs:
                parts.append(f"validation loss {logs['eval_loss']:.4f}")
            parts += [f"{tokens:,.0f} tok/s", f"elapsed {_duration(elapsed)}", f"left {_duration(left)}"]
            log("  ".join(parts))

    return Progress()


def _time_limit_callback(seconds: float) -> Any:
    """Ends training at the first step after ``seconds`` of it (``time_limit_s``), so that a
    run on a machine lent for a fixed time still saves its adapter. Under several processes
    the decision is shared (the longest any process has run), so that all stop at one step."""
    import torch
    import torch.distributed as distributed
    from transformers import TrainerCallback

    class TimeLimit(TrainerCallback):
        stopped = False

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            elapsed = time.perf_counter() - self.started
            if distributed.is_available() and distributed.is_initialized():
                shared = torch.tensor([elapsed], dtype=torch.float64, device=args.device)
                distributed.all_reduce(shared, op=distributed.ReduceOp.MAX)
                elapsed = float(shared.item())
            if elapsed >= seconds and state.global_step < state.max_steps:
                self.stopped = True
                control.should_training_stop = True

    return TimeLimit()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def _checkpointing_argument() -> str:
    """``activation_checkpointing`` in newer transformers, ``gradient_checkpointing`` before."""
    import dataclasses

    from transformers import TrainingArguments

    names = {field.name for field in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    return "cpu"


def _check_preset(preset: Preset, device: str) -> None:
    if preset.curriculum not in CURRICULA:
        raise HLXError(f"preset field curriculum: {preset.curriculum!r} is not one of {', '.join(CURRICULA)}")
    if device == "cpu":
        needs_cuda = [
            (reason, override)
            for reason, override, used in (
                ("fp16", "fp16=false", preset.fp16),
                ("bf16", "bf16=false", preset.bf16),
                (f"the {preset.optimizer} optimiser", "optimizer=adamw_torch", preset.optimizer.startswith("paged")),
                ("an nf4 base for training", "quantization=none", preset.quantization == "nf4"),
            )
            if used
        ]
        if needs_cuda:
            reasons = ", ".join(reason for reason, _ in needs_cuda)
            overrides = " ".join(f"--set {override}" for _, override in needs_cuda)
            raise HLXError(
                f"preset {preset.name!r} needs a CUDA GPU ({reasons}); on CPU use --preset cpu or override those fields ({overrides})"
            )


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
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train one expert's LoRA adapter and write it to ``<output_dir>/<expert>`` (default
    ``./hlx-runs/<expert>``).

    ``init_from`` is a trained adapter folder to start from instead of a fresh LoRA (its
    rank, alpha and target modules must be the preset's; a checkpoint to resume from, when
    there is one, still wins). Returns the training report (also written as
    ``training_report.json``).
    """
    if expert not in EXPERTS:
        raise HLXError(f"unknown expert {expert!r}; experts: {', '.join(EXPERTS)}")
    settings = preset if isinstance(preset, Preset) else get_preset(preset)
    if overrides:
        settings = settings.with_overrides(overrides)
    corpus_dir = corpus_dir or default_root()
    adapter_dir = (output_dir or DEFAULT_OUTPUT) / expert
    checkpoint_dir = adapter_dir / "checkpoints"
    device = _device()
    _check_preset(settings, device)
    initialized_from = _check_init_adapter(Path(init_from), settings, base) if init_from is not None else None

    import peft
    import torch
    import transformers
    from transformers import TrainingArguments

    loaded = load_base(base, settings.quantization, device, for_training=True)
    model, tokenizer = loaded.model, loaded.tokenizer
    glyph_ids = add_glyph_tokens(tokenizer, model) if settings.glyph_tokens else None
    if settings.quantization == "nf4":
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=settings.gradient_checkpointing)
    elif settings.gradient_checkpointing:
        getattr(model, "activation_checkpointing_enable", model.gradient_checkpointing_enable)()
        model.enable_input_require_grads()
    model.config.use_cache = False
    if initialized_from is None:
        lora = peft.LoraConfig(
            r=settings.lora_r,
            lora_alpha=settings.lora_alpha,
            lora_dropout=settings.lora_dropout,
            target_modules=list(settings.target_modules),
            bias="none",
            task_type="CAUSAL_LM",
            trainable_token_indices={embedding_module_name(model): glyph_ids} if glyph_ids else None,
        )
        model = peft.get_peft_model(model, lora)
    else:  # fp16 adapter weights are cast back to fp32 for training (autocast_adapter_dtype)
        gains_glyphs = bool(glyph_ids) and not initialized_from["glyph_tokens"]
        if gains_glyphs:
            model = _plain_adapter_with_glyph_tokens(model, initialized_from["adapter"], embedding_module_name(model), glyph_ids or [])
        else:
            model = peft.PeftModel.from_pretrained(model, initialized_from["adapter"], is_trainable=True)
        hex_change = initialized_from["hex_digit_tokens"] != settings.hex_digit_tokens
        log(
            f"starting from the adapter in {initialized_from['adapter']} ({initialized_from['steps']} steps)"
            + ("; the glyph tokens are new" if gains_glyphs else "")
            + (f"; it was trained with hex_digit_tokens={str(initialized_from['hex_digit_tokens']).lower()}, this run has "
               f"{str(settings.hex_digit_tokens).lower()}" if hex_change else "")
        )  # fmt: skip

    train_rows = load(corpus_dir / expert / "train.jsonl")
    phrasings = corpus_dir / "requests" / "train.jsonl"
    if settings.request_phrasings and phrasings.exists():
        train_rows += [row for row in load(phrasings) if row["expert"] == expert and not row["held_out_phrasing"]]
    validation_rows = load(corpus_dir / expert / "validation.jsonl")[: settings.eval_examples]
    train_set = tokenize_rows(train_rows, tokenizer, settings.max_length, hex_digits=settings.hex_digit_tokens)
    validation_set = tokenize_rows(validation_rows, tokenizer, settings.max_length, hex_digits=settings.hex_digit_tokens)
    log(
        f"training the {expert} expert: preset {settings.name}, base {base} ({loaded.quantization}, {device}), "
        f"{len(train_set)} training and {len(validation_set)} validation examples, "
        f"{model.get_nb_trainable_parameters()[0]:,} trainable parameters"
    )
    on_cuda = device.startswith("cuda")
    arguments = TrainingArguments(
        output_dir=str(checkpoint_dir),
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation,
        learning_rate=settings.learning_rate,
        lr_scheduler_type=settings.lr_scheduler,
        warmup_steps=settings.warmup_ratio,
        weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm,
        optim=settings.optimizer,
        fp16=settings.fp16 and on_cuda,
        bf16=settings.bf16 and on_cuda,
        **{_checkpointing_argument(): settings.gradient_checkpointing},
        train_sampling_strategy="group_by_length" if settings.length_bucketing else "random",
        logging_steps=settings.logging_steps,
        eval_strategy="steps",
        eval_steps=settings.eval_steps,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=2,
        seed=settings.seed,
        report_to="none",
        disable_tqdm=True,
        include_num_input_tokens_seen="non_padding",
        use_cpu=not on_cuda,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    progress = _progress_callback(log)
    time_limit = _time_limit_callback(settings.time_limit_s) if settings.time_limit_s > 0 else None
    trainer = _trainer_class(settings)(
        model=model,
        args=arguments,
        train_dataset=train_set,
        eval_dataset=validation_set,
        data_collator=AnswerOnlyCollator(tokenizer.pad_token_id),
        callbacks=[progress] + ([time_limit] if time_limit else []),
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # the Progress callback prints instead
    checkpoint = None
    if resume and checkpoint_dir.exists() and any(checkpoint_dir.glob("checkpoint-*")):
        checkpoint = True
        log(f"resuming from the last checkpoint in {checkpoint_dir}")
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - started
    stopped_early = time_limit is not None and time_limit.stopped
    if stopped_early:
        log(
            f"stopped at step {trainer.state.global_step} of {trainer.state.max_steps}: time_limit_s={settings.time_limit_s:g} "
            "reached (the learning rate was not annealed; --init-from this adapter to go on)"
        )
    evaluation = trainer.evaluate()
    if not trainer.is_world_process_zero():
        return {}
    if settings.adapter_dtype == "float16":  # half the size on disk; PEFT casts it back on load
        for name, parameter in model.named_parameters():
            if "lora_" in name or "trainable_tokens_delta" in name:
                parameter.data = parameter.data.to(torch.float16)
    # The embedding grew by the glyph tokens, so PEFT would save all of it: only their rows
    # (the trainable tokens) are new.
    _save_adapter(model, adapter_dir, base)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tokens_this_run = int(trainer.state.num_input_tokens_seen - progress.first_tokens)
    earlier = _earlier_report(adapter_dir, progress.first_step)
    report = {
        "expert": expert,
        "base": base,
        "base_quantization": loaded.quantization,
        "preset": settings.as_dict(),
        "corpus_sha256": corpus_hash(corpus_dir, expert),
        "request_phrasings_sha256": (
            hashlib.sha256(phrasings.read_bytes()).hexdigest() if settings.request_phrasings and phrasings.exists() else None
        ),
        "train_examples": len(train_set),
        "validation_examples": len(validation_set),
        "steps": trainer.state.global_step,
        "epochs": round(float(trainer.state.epoch or 0), 4),
        "train_seconds": round(train_seconds + float(earlier.get("train_seconds", 0.0)), 1),
        "segments": _segments(earlier, progress.first_step, trainer.state.global_step, train_seconds),
        "resumed_from_step": progress.first_step,
        **({"stopped_by_time_limit": True, "planned_steps": trainer.state.max_steps} if stopped_early else {}),
        **({"initialized_from": initialized_from} if initialized_from else {}),
        "tokens_seen": int(trainer.state.num_input_tokens_seen),
        "tokens_per_second": round(tokens_this_run / max(train_seconds, 1e-9), 1),
        "final_train_loss": round(losses[-1], 4) if losses else round(result.training_loss, 4),
        "mean_train_loss": round(result.training_loss, 4),
        "final_validation_loss": round(evaluation["eval_loss"], 4),
        "trainable_parameters": model.get_nb_trainable_parameters()[0],
        "device": device if not on_cuda else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(),
        "processes": arguments.world_size,  # > 1 under accelerate launch / torchrun
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
    }
    atomic_write_text(adapter_dir / "training_report.json", json.dumps(report, indent=2) + "\n")
    from hlx_moe.model.cards import write_model_card

    write_model_card(adapter_dir, report)
    log(
        f"wrote {adapter_dir}: {report['steps']} steps in {_duration(train_seconds)}, "
        f"{report['tokens_per_second']:,.0f} tok/s, train loss {report['final_train_loss']}, "
        f"validation loss {report['final_validation_loss']}"
    )
    return report


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


def _save_adapter(model: Any, adapter_dir: Path, base: str) -> None:
    """Save the adapter so that an interruption leaves the old one whole: PEFT writes into a
    folder beside it, and each file then replaces its old copy by a rename, the weights first
    and ``adapter_config.json`` last."""
    import shutil
    import tempfile

    adapter_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{adapter_dir.name}.save.", dir=adapter_dir.parent))
    try:
        model.save_pretrained(str(staging), safe_serialization=True, save_embedding_layers=False)
        _record_base_name(staging, base)
        for path in sorted(staging.iterdir(), key=lambda path: path.name == "adapter_config.json"):
            target = adapter_dir / path.name
            if path.is_dir():  # an adapter saved under its name (PEFT's layout for several)
                shutil.rmtree(target, ignore_errors=True)
            else:
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
            os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _record_base_name(adapter_dir: Path, base: str) -> None:
    """PEFT writes the folder the base was loaded from into ``adapter_config.json`` (for the
    embedded base, a cache folder of the training machine); write the base's name instead,
    as ``--base`` takes it, so that the shipped config names no path of ours."""
    config_path = adapter_dir / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base
    atomic_write_text(config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def _check_init_adapter(folder: Path, settings: Preset, base: str) -> dict[str, Any]:
    """What ``init_from`` is (adapter path, its steps and training time), after checking that
    it is an adapter of the same shape for the same base."""
    config_path = folder / "adapter_config.json"
    if not config_path.is_file() or not (folder / "adapter_model.safetensors").is_file():
        raise HLXError(f"--init-from {folder}: not an adapter folder (needs adapter_config.json and adapter_model.safetensors)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    wanted = {"r": settings.lora_r, "lora_alpha": settings.lora_alpha, "target_modules": sorted(settings.target_modules)}
    found = {"r": config.get("r"), "lora_alpha": config.get("lora_alpha"), "target_modules": sorted(config.get("target_modules") or [])}
    differences = [f"{key} {found[key]} (preset: {wanted[key]})" for key in wanted if found[key] != wanted[key]]
    if differences:
        raise HLXError(
            f"--init-from {folder}: the adapter has {', '.join(differences)}; "
            "train with the same shape (--set lora_r=... --set lora_alpha=...)"
        )
    glyph_tokens = bool(config.get("trainable_token_indices"))
    if glyph_tokens and not settings.glyph_tokens:  # its glyph rows would be lost
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


def _earlier_report(adapter_dir: Path, resumed_from_step: int) -> dict[str, Any]:
    """The report of the run this one resumed, when it ended where this one began; else {}."""
    if resumed_from_step == 0:
        return {}
    try:
        earlier = read_training_report(adapter_dir) or {}
    except HLXError:  # a run stopped while writing it: the segment list starts afresh
        return {}
    return earlier if earlier.get("steps") == resumed_from_step else {}


def _segments(earlier: dict[str, Any], first_step: int, last_step: int, seconds: float) -> list[dict[str, Any]]:
    """Each run that made this adapter: its steps and seconds (a run resumed N times has N+1)."""
    before = list(earlier.get("segments") or [])
    if earlier and not before:  # a report from before segments were recorded: one for all of it
        before = [{"steps": f"0-{earlier['steps']}", "seconds": earlier.get("train_seconds", 0.0)}]
    return before + [{"steps": f"{first_step}-{last_step}", "seconds": round(seconds, 1)}]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expert", required=True, choices=EXPERTS, help="which expert to train")
    parser.add_argument("--preset", default="cpu", help="hyper-parameter preset: cpu (default), gpu or original")
    parser.add_argument("--base", default=EMBEDDED_BASE, help="base model: smollm2-135m (default), a folder or a cached model id")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: corpora/)")
    parser.add_argument("--output", type=Path, default=None, help=f"adapter root (default: ./{DEFAULT_OUTPUT})")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a preset field (repeatable)")
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


def run(args: argparse.Namespace) -> int:
    train_expert(
        args.expert,
        preset=args.preset,
        base=args.base,
        corpus_dir=args.corpus,
        output_dir=args.output,
        overrides=parse_overrides(args.set),
        resume=not args.no_resume,
        init_from=args.init_from,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m hlx_moe.training`` (and of ``accelerate launch -m hlx_moe.training``)."""
    parser = argparse.ArgumentParser(
        prog="python -m hlx_moe.training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except HLXError as error:
        sys.stderr.write(f"hlx moe train: error: {error}\n")
        return 1
