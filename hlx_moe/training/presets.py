"""Named training presets: every hyper-parameter of an expert's training, in one place.

``original`` reproduces the original report's QLoRA settings for a CUDA machine exactly.
``cpu`` is tuned for the project's 2-core CPU machine, ``gpu`` for one CUDA GPU. Any field can be overridden
(``hlx moe train --set learning_rate=1e-3 --set epochs=2``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hlx_formats.errors import HLXError

__all__ = ["Preset", "PRESETS", "CURRICULA", "get_preset"]

CURRICULA = ("none", "depth")  # hlx_moe.curriculum: the order of the training examples
SEVEN_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    # LoRA adapter
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = SEVEN_PROJECTIONS
    glyph_tokens: bool = False  # the LC-R glyphs as new single tokens with trained embedding rows
    hex_digit_tokens: bool = False  # every hex digit of a hex literal one token (hlx_moe.hex_digits)
    # Schedule
    epochs: float = 50.0
    max_steps: int = -1  # > 0 overrides epochs
    time_limit_s: float = 0.0  # > 0: stop after this many seconds of training and save the adapter reached
    batch_size: int = 4
    gradient_accumulation: int = 4
    learning_rate: float = 2e-4
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 0.3
    # Numerics and memory
    optimizer: str = "paged_adamw_8bit"
    fp16: bool = True
    bf16: bool = False
    gradient_checkpointing: bool = True
    quantization: str = "nf4"  # of the base during training: "nf4" or "none"
    adapter_dtype: str = "float32"  # dtype of the saved adapter weights: "float32" or "float16"
    # Data
    max_length: int = 512  # tokens of prompt plus answer; longer examples are dropped
    length_bucketing: bool = True  # batches of similar length: little padding
    curriculum: str = "none"  # "depth": each pass from shallow to deep values (hlx_moe.curriculum)
    # the expert's rows of corpora/requests/train.jsonl (request phrasings answered directly)
    # added to its training split, when that file exists
    request_phrasings: bool = True
    # Bookkeeping
    logging_steps: int = 10
    eval_steps: int = 200
    save_steps: int = 200
    eval_examples: int = 360  # of the validation split, evaluated every eval_steps
    seed: int = 42
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, overrides: dict[str, str]) -> Preset:
        """A copy with fields replaced from ``name=value`` strings (typed as the field)."""
        values: dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(self)}
        for key, text in overrides.items():
            if key not in fields or key in ("name", "extra"):
                raise HLXError(f"unknown preset field {key!r}; fields: {', '.join(sorted(set(fields) - {'name', 'extra'}))}")
            current = getattr(self, key)
            values[key] = _parse_like(current, text, key)
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data


def _parse_like(current: Any, text: str, key: str) -> Any:
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, tuple):
            return tuple(part.strip() for part in text.split(",") if part.strip())
    except ValueError:
        raise HLXError(f"preset field {key}: {text!r} is not a {type(current).__name__}") from None
    return text


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
        lora_r=16,
        lora_alpha=32,
        lora_dropout=0.05,
        adapter_dtype="float16",
        epochs=1.0,
        max_steps=450,
        batch_size=8,
        gradient_accumulation=1,
        learning_rate=1e-3,
        warmup_ratio=0.05,
        optimizer="adamw_torch",
        fp16=False,
        gradient_checkpointing=False,
        quantization="none",
        max_length=256,
        logging_steps=10,
        eval_steps=150,
        save_steps=50,
        eval_examples=120,
    ),
    "gpu": Preset(
        name="gpu",
        description="For one CUDA GPU (measured on an NVIDIA H200): the embedded 135M base unquantised "
        "(float32 weights, bf16 autocast), LoRA r=16 alpha=32 on the seven projections (r=16 in float16 "
        "keeps the three adapters inside the 30 MB shipping budget), batches of 32 up to 512 tokens, "
        "fused AdamW, lr 1e-3 cosine with 5% warm-up, 1,550 steps (the shipped adapters: one run each, "
        "with glyph_tokens, and hex_digit_tokens for ascii and runic; `make gpu-train`, docs/moe.md).",
        lora_r=16,
        lora_alpha=32,
        lora_dropout=0.05,
        adapter_dtype="float16",
        epochs=1.0,
        max_steps=1550,
        batch_size=32,
        gradient_accumulation=1,
        learning_rate=1e-3,
        warmup_ratio=0.05,
        optimizer="adamw_torch_fused",
        fp16=False,
        bf16=True,
        gradient_checkpointing=False,
        quantization="none",
        max_length=512,
        logging_steps=50,
        eval_steps=500,
        save_steps=500,
        eval_examples=360,
    ),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise HLXError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name]
