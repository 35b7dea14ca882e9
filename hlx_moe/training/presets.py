"""Named training presets: every hyper-parameter of an expert's training, as data.

A preset is values for the fields of the argument dataclasses (:mod:`hlx_moe.training.arguments`:
the adapter's, the data's, the run's and ``TrainingArguments``), over :data:`COMMON`, the values the
three presets share (written once). ``original`` reproduces the original report's QLoRA
settings for a CUDA machine exactly. ``cpu`` is tuned for the project's 2-core CPU machine,
``gpu`` for one CUDA GPU; what those two share is :data:`ONE_DEVICE`. Any field can be
overridden (``hlx moe train --set learning_rate=1e-3 --set epochs=2``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hlx_formats.errors import HLXError
from hlx_moe.training.arguments import CURRICULA, SEVEN_PROJECTIONS, TrainingSettings, parse_settings

__all__ = ["Preset", "PRESETS", "CURRICULA", "COMMON", "ONE_DEVICE", "TRAINER_FIXED", "get_preset"]

#: The values of every preset (the original report's): a preset lists what it changes.
COMMON: dict[str, Any] = {
    # LoRA adapter
    "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": SEVEN_PROJECTIONS,
    "glyph_tokens": False, "hex_digit_tokens": False,
    # Schedule
    "epochs": 50.0, "max_steps": -1, "time_limit_s": 0.0, "batch_size": 4, "gradient_accumulation": 4,
    "learning_rate": 2e-4, "lr_scheduler": "cosine", "warmup_ratio": 0.1, "weight_decay": 0.01, "max_grad_norm": 0.3,
    # Numerics and memory
    "optimizer": "paged_adamw_8bit", "fp16": True, "bf16": False, "gradient_checkpointing": True,
    "quantization": "nf4", "adapter_dtype": "float32",
    # Data
    "max_length": 512, "length_bucketing": True, "curriculum": "none", "request_phrasings": True,
    "rewrites": True, "own_examples": 0, "rewrite_examples": 0,
    # Bookkeeping
    "logging_steps": 10, "eval_steps": 200, "save_steps": 200, "eval_examples": 360, "seed": 42,
}  # fmt: skip

#: What ``cpu`` and ``gpu`` share: the embedded 135M base unquantised, one pass's schedule
#: cut by max_steps, lr 1e-3 cosine with 5% warm-up, adapters saved in float16.
ONE_DEVICE: dict[str, Any] = {
    "adapter_dtype": "float16", "epochs": 1.0, "gradient_accumulation": 1, "learning_rate": 1e-3, "warmup_ratio": 0.05,
    "fp16": False, "gradient_checkpointing": False, "quantization": "none",
}  # fmt: skip

#: The Trainer's settings that no preset changes: evaluation and checkpoints every few steps,
#: no reporting service, no progress bar (the training's own log lines instead), the examples'
#: ``depth`` column kept for the curriculum.
TRAINER_FIXED: dict[str, Any] = {
    "eval_strategy": "steps", "save_strategy": "steps", "save_total_limit": 2, "report_to": "none", "disable_tqdm": True,
    "include_num_input_tokens_seen": "non_padding", "dataloader_num_workers": 0, "remove_unused_columns": False,
}  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A named set of values (report names, as in ``training_report.json``, or field names)."""

    name: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)

    def settings(
        self, overrides: dict[str, str] | None = None, *, output_dir: Path | str = "hlx-runs", use_cpu: bool = True
    ) -> TrainingSettings:
        """The preset over :data:`COMMON`, with ``overrides`` (``FIELD=VALUE`` strings), parsed
        into the argument dataclasses; the Trainer writes its checkpoints to ``output_dir``."""
        values = {**COMMON, **self.values, **TRAINER_FIXED, "output_dir": str(output_dir), "use_cpu": use_cpu}
        return parse_settings(self.name, self.description, values, overrides)

    def __getattr__(self, key: str) -> Any:
        """A value of the preset by its report name (``PRESETS["cpu"].batch_size``)."""
        if key.startswith("__"):
            raise AttributeError(key)
        values = {**COMMON, **self.values}
        if key not in values:
            raise AttributeError(key)
        return values[key]


_CPU = {
    **ONE_DEVICE, "max_steps": 450, "batch_size": 8, "optimizer": "adamw_torch", "max_length": 256,
    "eval_steps": 150, "save_steps": 50, "eval_examples": 120,
}  # fmt: skip
_GPU = {
    **ONE_DEVICE, "max_steps": 1550, "batch_size": 32, "optimizer": "adamw_torch_fused", "bf16": True,
    "logging_steps": 50, "eval_steps": 500, "save_steps": 500,
}  # fmt: skip

PRESETS: dict[str, Preset] = {
    "original": Preset(
        name="original",
        description="The original report's QLoRA settings (for a CUDA GPU): NF4 base with double "
        "quantisation, LoRA r=16 alpha=32 dropout 0.05 on the seven projections, 50 epochs, batch 4 x "
        "accumulation 4, lr 2e-4 cosine with 10% warm-up, paged 8-bit AdamW, fp16, gradient "
        "checkpointing, max grad norm 0.3, weight decay 0.01.",
    ),
    "cpu": Preset(
        name="cpu",
        description="For a 2-core CPU: the embedded 135M base unquantised (no k-bit preparation, no "
        "paged optimiser), length-bucketed batches of 8, plain AdamW, a higher learning rate, 450 steps "
        "(about 40 minutes per expert here), adapters saved in float16 (10 MB each).",
        values=_CPU,
    ),
    "gpu": Preset(
        name="gpu",
        description="For one CUDA GPU (measured on an NVIDIA H200): the embedded 135M base unquantised "
        "(float32 weights, bf16 autocast), LoRA r=16 alpha=32 on the seven projections (r=16 in float16 "
        "keeps the three adapters inside the 30 MB shipping budget), batches of 32 up to 512 tokens, "
        "fused AdamW, lr 1e-3 cosine with 5% warm-up, 1,550 steps (the shipped adapters: one run each, "
        "with glyph_tokens, and hex_digit_tokens for ascii and runic; `make gpu-train`, docs/moe.md).",
        values=_GPU,
    ),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise HLXError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name]
