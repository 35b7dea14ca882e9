"""Token statistics of the corpora (needs the ``[moe]`` extra for the tokenizer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hlx_formats import _atomic, to_hlxl
from hlx_formats.lcr import GLYPHS

from .card import percentiles
from .files import default_root, load, write
from .spec import EXPERTS, SPLITS

__all__ = ["glyph_tokens_report", "token_lengths_report", "write_token_stats"]


def token_lengths_report(root: Path | None = None, base: str = "smollm2-135m") -> str:
    """Token lengths (prompt plus answer) of the committed corpus files, as Markdown.

    Needs the ``[moe]`` extra (the tokenizer of ``base``).
    """
    from ..model.base import load_tokenizer

    root = root or default_root()
    tokenizer = load_tokenizer(base)
    lines = [
        f"Tokens of prompt plus answer, for the tokenizer of `{base}` (written by `hlx corpus stats`):",
        "",
        "| expert | split | p50 | p90 | p99 | max | share under 256 |",
        "|---|---|---|---|---|---|---|",
    ]
    for expert in EXPERTS:
        for split in SPLITS:
            rows = load(root / expert / f"{split}.jsonl")
            texts = [row["input"] + row["output"] for row in rows]
            lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
            stats = percentiles(lengths)
            under = sum(length < 256 for length in lengths) / len(lengths)
            lines.append(f"| {expert} | {split} | {stats['p50']} | {stats['p90']} | {stats['p99']} | {stats['max']} | {under:.2%} |")
    return "\n".join(lines) + "\n\n" + glyph_tokens_report(root, tokenizer)


def glyph_tokens_report(root: Path, tokenizer: Any) -> str:
    """How the tokenizer splits the LC-R glyphs, and what that costs an answer, as Markdown.

    The cost is measured on the same values: every LC-R answer of the runic training split,
    re-encoded as LC-T and HLXL by the reference encoders.
    """
    from hlx_formats import from_lcr, to_lct

    def tokens(text: str) -> list[str]:
        return tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False)["input_ids"])

    lines = [
        "Tokens per LC-R glyph on its own (byte-level pieces; glyphs that share their first pieces",
        "differ only in the last one):",
        "",
        "| glyph | meaning | tokens | pieces |",
        "|---|---|---|---|",
    ]
    for glyph, meaning in GLYPHS.items():
        pieces = tokens(glyph)
        lines.append(f"| {glyph} | {meaning} | {len(pieces)} | {' '.join(f'`{piece}`' for piece in pieces)} |")
    answers = [row["output"] for row in load(root / "runic" / "train.jsonl") if row["target_format"] == "lc-r"]
    values = [from_lcr(text) for text in answers]
    totals = {
        "LC-R": sum(len(tokens(text)) for text in answers),
        "LC-T": sum(len(tokens(to_lct(value))) for value in values),
        "HLXL": sum(len(tokens(to_hlxl(value))) for value in values),
    }
    lines += [
        "",
        f"Tokens for the same values ({len(values)} LC-R answers of the runic training split, re-encoded):",
        "",
        "| format | tokens | per answer | relative to LC-T |",
        "|---|---|---|---|",
    ]
    for name, total in totals.items():
        lines.append(f"| {name} | {total} | {total / len(values):.1f} | {total / totals['LC-T']:.2f} |")
    return "\n".join(lines) + "\n"


def write_token_stats(root: Path | None = None, base: str = "smollm2-135m") -> Path:
    """Measure token lengths (needs the ``[moe]`` extra), save them, and refresh the card."""
    root = root or default_root()
    path = root / "token_lengths.md"
    _atomic.atomic_write_text(path, token_lengths_report(root, base))
    write(root)
    return path
