"""Model cards (``README.md``) for trained adapters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_formats.errors import HLXError

__all__ = ["read_training_report", "write_model_card"]

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


def write_model_card(adapter_dir: Path, report: dict[str, Any], evaluation_table: str | None = None) -> Path:
    """Write ``README.md`` for an adapter from its training report (and evaluation, if any)."""
    preset = report["preset"]
    base_id = "HuggingFaceTB/SmolLM2-135M-Instruct" if report["base"] == "smollm2-135m" else report["base"]
    lines = [
        "---",
        f"base_model: {base_id}",
        "library_name: peft",
        "tags: [lora, hlx, text-generation]",
        "---",
        "",
        f"# HLX {report['expert']} expert",
        "",
        f"A LoRA adapter for `{report['base']}` ({base_id}) that answers HLX instructions of the",
        f"{report['expert']} expert: {_OWNS.get(report['expert'], '')}. It is one of the three experts",
        "of the HLX mixture (`hlx_moe.HLXMoE`), and a standard PEFT adapter"
        + (" for the base with the 17 LC-R glyphs added as tokens, as in its training:" if preset.get("glyph_tokens") else ":"),
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        f'base_model = AutoModelForCausalLM.from_pretrained("{base_id}")',
        f'tokenizer = AutoTokenizer.from_pretrained("{base_id}")',
        *(
            [
                "from hlx_moe.model.glyph_tokens import add_glyph_tokens",
                "add_glyph_tokens(tokenizer, base_model)  # the glyph rows the adapter was trained with",
            ]
            if preset.get("glyph_tokens")
            else []
        ),
        f'model = PeftModel.from_pretrained(base_model, "{adapter_dir.name}")',
        "```",
        "",
        *(
            [
                "Prompts are tokenised with every hex digit one token (`hlx_moe.model.hex_digits.encode(tokenizer, prompt, hex_digits=True)`).",
                "",
            ]
            if preset.get("hex_digit_tokens")
            else []
        ),
        "Prompt: `### Instruction:\\n<instruction>\\n\\n### Response:\\n`; the answer ends with EOS.",
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
    path = adapter_dir / "README.md"
    atomic_write_text(path, "\n".join(lines))
    return path
