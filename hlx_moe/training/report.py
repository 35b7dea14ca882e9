"""The last step of an expert's training: the adapter folder, its ``training_report.json`` and model card."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_formats.errors import HLXError
from hlx_moe.model.cards import read_training_report

__all__ = ["corpus_hash", "save_adapter", "earlier_report", "segments"]


def corpus_hash(corpus_dir: Path, expert: str) -> str:
    """SHA-256 of the expert's train and validation files: which data an adapter saw."""
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        digest.update((corpus_dir / expert / f"{split}.jsonl").read_bytes())
    return digest.hexdigest()


def save_adapter(model: Any, adapter_dir: Path, base: str) -> None:
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
    embedded base, a cache folder of the training machine); write the base's hub id instead
    (``smollm2-135m``: ``HuggingFaceTB/SmolLM2-135M-Instruct``), else its name as ``--base``
    takes it, so that the config names no path of ours and plain PEFT finds the base."""
    from hlx_moe.model.cards import base_hub_id

    config_path = adapter_dir / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base_hub_id(base)
    atomic_write_text(config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")


def earlier_report(adapter_dir: Path, resumed_from_step: int) -> dict[str, Any]:
    """The report of the run this one resumed, when it ended where this one began; else {}."""
    if resumed_from_step == 0:
        return {}
    try:
        earlier = read_training_report(adapter_dir) or {}
    except HLXError:  # a run stopped while writing it: the segment list starts afresh
        return {}
    return earlier if earlier.get("steps") == resumed_from_step else {}


def segments(earlier: dict[str, Any], first_step: int, last_step: int, seconds: float) -> list[dict[str, Any]]:
    """Each run that made this adapter: its steps and seconds (a run resumed N times has N+1)."""
    before = list(earlier.get("segments") or [])
    if earlier and not before:  # a report from before segments were recorded: one for all of it
        before = [{"steps": f"0-{earlier['steps']}", "seconds": earlier.get("train_seconds", 0.0)}]
    return before + [{"steps": f"{first_step}-{last_step}", "seconds": round(seconds, 1)}]
