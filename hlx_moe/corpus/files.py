"""Building, writing, checking and reading the corpus files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hlx_formats import _atomic
from hlx_formats.errors import HLXError

from .card import dataset_card, repairs_card, requests_card, rewrites_card
from .examples import ExampleBuilder
from .phrasings import request_rows
from .repairs import repair_rows
from .rewrites import HELD_OUT_VALIDATION, rewrite_rows
from .spec import DEFAULT_SPEC, SPLITS, CorpusSpec

__all__ = ["build", "check", "default_root", "instruction_of", "load", "write"]


def build(spec: CorpusSpec = DEFAULT_SPEC, token_stats: str | None = None) -> dict[str, str]:
    """All corpus files, as ``{relative path: text}``: the JSONL splits of each expert, the
    request phrasings (``requests/``), the rewrites (``rewrites/``, with the validation split's
    held-out half in ``validation_held_out.jsonl``), the repair tasks
    (``repairs/``) and the dataset card."""
    return dict(_files(spec, token_stats))


def _files(spec: CorpusSpec, token_stats: str | None) -> Iterator[tuple[str, str]]:
    """:func:`build`'s files one group at a time, so that :func:`check` stops building at the
    first file that differs."""
    corpora = ExampleBuilder(spec).build()
    for expert, rows in corpora.items():
        for split in SPLITS:
            yield f"{expert}/{split}.jsonl", _jsonl(example.row() for example in rows[split])
    requests = request_rows(spec)
    for split in SPLITS:
        yield f"requests/{split}.jsonl", _jsonl(requests[split])
    rewrites = rewrite_rows(spec)
    for split in (*SPLITS, HELD_OUT_VALIDATION):
        yield f"rewrites/{split}.jsonl", _jsonl(rewrites[split])
    repairs = repair_rows(spec)
    for split in SPLITS:
        yield f"repairs/{split}.jsonl", _jsonl(repairs[split])
    card = dataset_card(corpora, spec, token_stats) + requests_card(requests) + rewrites_card(rewrites)
    yield "README.md", card + repairs_card(repairs)


def _jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n"


def default_root() -> Path:
    """``corpora/`` in the current directory: the corpora are project files, never package data."""
    return Path.cwd() / "corpora"


def _token_stats(root: Path) -> str | None:
    path = root / "token_lengths.md"
    return path.read_text("utf-8") if path.exists() else None


def write(root: Path | None = None, spec: CorpusSpec = DEFAULT_SPEC) -> list[Path]:
    """Build the corpora and write them under ``root``; returns the paths written."""
    root = root or default_root()
    written = []
    for relative, text in build(spec, _token_stats(root)).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic.atomic_write_bytes(path, text.encode("utf-8"))
        written.append(path)
    return written


def check(root: Path | None = None, spec: CorpusSpec = DEFAULT_SPEC) -> str | None:
    """Regenerate in memory; None when the files under ``root`` match, else the first difference."""
    root = root or default_root()
    for relative, text in _files(spec, _token_stats(root)):
        path = root / relative
        if not path.exists():
            return f"{path}: missing (run `hlx corpus build`)"
        committed = path.read_bytes().decode("utf-8", errors="replace")
        if committed == text:
            continue
        old_lines, new_lines = committed.splitlines(), text.splitlines()
        for number, (old, new) in enumerate(zip(old_lines, new_lines), start=1):
            if old != new:
                return f"{path}:{number}: differs from the generator\n  file:      {old[:200]}\n  generated: {new[:200]}"
        return f"{path}: {len(old_lines)} lines in the file, {len(new_lines)} generated"
    return None


def load(path: Path | str) -> list[dict[str, Any]]:
    """The rows of one JSONL corpus file; HLXError naming the file and line of a line that
    is not a UTF-8 JSON object (a truncated or damaged file)."""
    rows = []
    if not Path(path).is_file():
        raise HLXError(f"{path}: no such corpus file (build the corpora with `hlx corpus build --root DIR`)")
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as error:
                raise HLXError(f"{path}:{number}: not a JSON line ({error})") from None
            if not isinstance(row, dict):
                raise HLXError(f"{path}:{number}: a corpus line is a JSON object, not {type(row).__name__}")
            rows.append(row)
    return rows


def instruction_of(row: dict[str, Any]) -> str:
    """The instruction inside a row's prompt."""
    from hlx_formats.instructions import unwrap

    return unwrap(row["input"])
