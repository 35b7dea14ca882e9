"""The settings of an expert's training, as argument dataclasses for ``HfArgumentParser``.

As in transformers' ``run_clm.py``: the settings of the adapter (:class:`AdapterArguments`),
of the data (:class:`DataArguments`) and of the run's time limit (:class:`RunArguments`) beside
the Trainer's own ``TrainingArguments``. A preset (:mod:`hlx_moe.training.presets`) is values
for their fields; :func:`parse_settings` turns a preset and ``FIELD=VALUE`` overrides into the
four dataclasses, typed by ``HfArgumentParser``.

The presets and the reports (``training_report.json``, ``preset``) name some Trainer fields
shorter (:data:`ALIASES`: ``epochs``, ``batch_size``, ``optimizer`` ...); ``--set`` takes either
name.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hlx_formats.errors import HLXError

__all__ = [
    "CURRICULA",
    "SEVEN_PROJECTIONS",
    "AdapterArguments",
    "DataArguments",
    "RunArguments",
    "ALIASES",
    "REPORT_FIELDS",
    "TrainingSettings",
    "training_arguments_class",
    "parse_settings",
]

CURRICULA = ("none", "depth")  # hlx_moe.training.curriculum: the order of the training examples
SEVEN_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class AdapterArguments:
    """The LoRA adapter, the tokens added to the base, and how the base is prepared."""

    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(SEVEN_PROJECTIONS))
    glyph_tokens: bool = field(default=False, metadata={"help": "the LC-R glyphs as new single tokens with trained embedding rows"})
    hex_digit_tokens: bool = field(
        default=False, metadata={"help": "every hex digit of a hex literal one token (hlx_moe.model.hex_digits)"}
    )
    quantization: str = field(default="nf4", metadata={"help": "of the base during training: nf4 or none"})
    adapter_dtype: str = field(default="float32", metadata={"help": "dtype of the saved adapter weights: float32 or float16"})


@dataclass
class DataArguments:
    """Which examples, and in which order."""

    max_length: int = field(default=512, metadata={"help": "tokens of prompt plus answer; longer examples are dropped"})
    length_bucketing: bool = field(default=True, metadata={"help": "batches of similar length: little padding"})
    curriculum: str = field(default="none", metadata={"help": "depth: each pass from shallow to deep values (hlx_moe.training.curriculum)"})
    request_phrasings: bool = field(
        default=True, metadata={"help": "add the expert's rows of corpora/requests/train.jsonl to its training split"}
    )
    rewrites: bool = field(
        default=True, metadata={"help": "add corpora/rewrites/train.jsonl (the rewrite task) to the coordinator's training split"}
    )
    own_examples: int = field(
        default=0,
        metadata={"help": "> 0: a seeded sample of this many of the expert's own training rows, as many of each task as the "
                  "others (a run --init-from an adapter keeps its earlier tasks in the mix without a whole pass over them)"},
    )  # fmt: skip
    rewrite_examples: int = field(default=0, metadata={"help": "> 0: a seeded sample of this many rewrite rows (0: all)"})
    repairs: bool = field(
        default=False,
        metadata={"help": "add the expert's rows of corpora/repairs/train.jsonl (completing and fixing values) to its training split"},
    )
    repair_examples: int = field(default=0, metadata={"help": "> 0: a seeded sample of this many of the expert's repair rows (0: all)"})
    eval_examples: int = field(default=360, metadata={"help": "of the validation split, evaluated every eval_steps"})


#: The presets' and reports' names of Trainer fields (``batch_size`` sets the evaluation's too).
ALIASES: dict[str, tuple[str, ...]] = {
    "epochs": ("num_train_epochs",),
    "batch_size": ("per_device_train_batch_size", "per_device_eval_batch_size"),
    "gradient_accumulation": ("gradient_accumulation_steps",),
    "lr_scheduler": ("lr_scheduler_type",),
    "warmup_ratio": ("warmup_steps",),  # below 1, a share of the steps
    "optimizer": ("optim",),
    # ``activation_checkpointing`` in newer transformers (where ``gradient_checkpointing`` is its deprecated alias)
    "gradient_checkpointing": ("gradient_checkpointing",),
}

#: The fields of the report's ``preset`` record, in its order (besides ``name``, ``description``, ``extra``).
REPORT_FIELDS = (
    "lora_r", "lora_alpha", "lora_dropout", "target_modules", "glyph_tokens", "hex_digit_tokens",
    "epochs", "max_steps", "time_limit_s", "batch_size", "gradient_accumulation", "learning_rate", "lr_scheduler",
    "warmup_ratio", "weight_decay", "max_grad_norm", "optimizer", "fp16", "bf16", "gradient_checkpointing",
    "quantization", "adapter_dtype", "max_length", "length_bucketing", "curriculum", "request_phrasings",
    "rewrites", "own_examples", "rewrite_examples", "repairs", "repair_examples", "logging_steps", "eval_steps", "save_steps", "eval_examples", "seed",
)  # fmt: skip


@dataclass
class RunArguments:
    """How long the run may take (beside the Trainer's own ``max_steps`` and ``num_train_epochs``)."""

    time_limit_s: float = field(
        default=0.0, metadata={"help": "> 0: stop after this many seconds of training and save the adapter reached"}
    )


@cache
def training_arguments_class() -> type:
    """``TrainingArguments`` (imported on first use: transformers is heavy); settles
    ``ALIASES["gradient_checkpointing"]`` for the installed version."""
    from transformers import TrainingArguments

    if "activation_checkpointing" in {f.name for f in dataclasses.fields(TrainingArguments)}:
        ALIASES["gradient_checkpointing"] = ("activation_checkpointing",)
    return TrainingArguments


@dataclass
class TrainingSettings:
    """A preset with its overrides, parsed: the four argument dataclasses."""

    name: str
    description: str
    adapter: AdapterArguments
    data: DataArguments
    run: RunArguments
    training: Any  # TrainingArguments

    def get(self, key: str) -> Any:
        """A setting by its report name (``batch_size``) or its field name (``per_device_train_batch_size``)."""
        training_arguments_class()  # settles ALIASES["gradient_checkpointing"]
        name = ALIASES.get(key, (key,))[0]
        for arguments in (self.adapter, self.data, self.run, self.training):
            if name in {f.name for f in dataclasses.fields(arguments)}:
                value = getattr(arguments, name)
                return getattr(value, "value", value)  # the Trainer's enums by their names
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """The report's ``preset`` record (the same fields as before the argument dataclasses)."""
        record: dict[str, Any] = {"name": self.name, "description": self.description}
        record.update({key: self.get(key) for key in REPORT_FIELDS})
        record["target_modules"] = list(record["target_modules"])
        record["extra"] = {}
        return record


class _Parser:
    """``HfArgumentParser`` over the four dataclasses, its errors as :class:`HLXError`."""

    def __init__(self) -> None:
        from transformers import HfArgumentParser

        class Parser(HfArgumentParser):
            def error(self, message: str) -> Any:  # "argument --x/--x: invalid ..." -> "preset field x: invalid ..."
                raise HLXError("preset field " + re.sub(r"^argument --([\w]+)(/--[\w-]+)*: ", r"\1: ", message))

        self.parser = Parser((AdapterArguments, DataArguments, RunArguments, training_arguments_class()), add_help=False)
        self.fields = {
            action.dest: action for action in self.parser._actions if action.option_strings and not action.dest.startswith("no_")
        }

    def parse(self, defaults: dict[str, Any], overrides: dict[str, str]) -> tuple[Any, ...]:
        """The dataclasses of ``defaults`` (typed values) with ``overrides`` (strings, typed here as
        on a command line)."""
        arguments: list[str] = []
        given: list[str] = []
        for key, text in overrides.items():
            names = ALIASES.get(key, (key,))
            if names[0] not in self.fields:
                raise HLXError(f"unknown preset field {key!r}; fields: {', '.join(REPORT_FIELDS)} or a TrainingArguments field")
            for name in names:
                listed = self.fields[name].nargs == "+"
                words = [part.strip() for part in text.split(",") if part.strip()] if listed else [text]
                arguments += [f"--{name}", *words]
                given.append(name)
        parsed = vars(self.parser.parse_args(arguments))
        unknown = sorted(set(defaults) - set(self.fields))
        if unknown:
            raise HLXError(f"unknown preset field {unknown[0]!r}")
        values = {**defaults, **{name: parsed[name] for name in given}}
        if "train_sampling_strategy" not in given:  # the data's length_bucketing, as the Trainer's sampling
            values["train_sampling_strategy"] = "group_by_length" if values.get("length_bucketing", True) else "random"
        try:
            return tuple(self.parser.parse_dict(values))
        except ValueError as error:  # a dataclass's own check (TrainingArguments.__post_init__)
            raise HLXError(f"training settings: {error}") from None


def parse_settings(name: str, description: str, values: dict[str, Any], overrides: dict[str, str] | None = None) -> TrainingSettings:
    """The preset ``values`` (report names or field names) with ``overrides`` (``FIELD=VALUE``
    strings, typed as the field), parsed into the argument dataclasses."""
    training_arguments_class()  # settles ALIASES["gradient_checkpointing"]
    defaults: dict[str, Any] = {}
    for key, value in values.items():
        for field_name in ALIASES.get(key, (key,)):
            defaults[field_name] = list(value) if isinstance(value, tuple) else value
    adapter, data, run, training = _Parser().parse(defaults, overrides or {})
    if data.curriculum not in CURRICULA:
        raise HLXError(f"preset field curriculum: {data.curriculum!r} is not one of {', '.join(CURRICULA)}")
    return TrainingSettings(name, description, adapter, data, run, training)
