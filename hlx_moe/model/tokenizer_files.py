"""Tokenizer files that reproduce an expert's tokenisation with plain ``transformers``.

The mixture adds the 17 LC-R glyphs to the base's tokenizer at load time
(:mod:`hlx_moe.model.glyph_tokens`) and, for the experts trained with ``hex_digit_tokens``,
tokenises every hex digit of a hex literal apart (:func:`hlx_moe.model.hex_digits.encode`).
:func:`standalone_tokenizer` writes both into one ``tokenizer.json``, so that
``AutoTokenizer.from_pretrained(folder)(text)`` gives the ids the expert was trained on,
without this package:

* the glyphs are words of the BPE vocabulary (ids 49152-49168 on ``smollm2-135m``, the ids
  ``add_tokens`` gives them), isolated by a ``Split`` pre-tokenizer and looked up whole
  (``ignore_merges``), rather than added tokens: an added token is cut out of the text before
  the pre-tokenizer runs, which could then not see the ``⊠`` in front of a byte string's hex;
* with ``hex_digits``, a first ``Split`` isolates each hex digit after ``0x``, ``#`` or ``⊠``
  (any number of them), after ``\\x`` (two) and ``\\u`` (four), as :data:`HEX_DIGIT_RUN` reads them.

``tests/test_cards.py`` checks both against the mixture's own tokenisation on every corpus prompt and answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_moe.model.glyph_tokens import GLYPH_TOKENS

__all__ = ["GLYPH_PATTERN", "HEX_DIGIT_PATTERN", "TRAINED_EOS", "save_standalone_tokenizer", "standalone_tokenizer"]

_HEX = "[0-9a-fA-F]"
#: One hex digit of a hex literal (Oniguruma, as ``tokenizers`` runs it): after the literal's
#: opening, or right after another such digit (``\G``: where the last match ended), except past
#: the two digits of ``\x`` and the four of ``\u``.
HEX_DIGIT_PATTERN = (
    r"(?:(?<=0x)|(?<=#)|(?<=⊠)|(?<=\\x)|(?<=\\x" + _HEX + r")|(?<=\\u)|(?<=\\u" + _HEX + r")|(?<=\\u" + _HEX + r"{2})"
    r"|(?<=\\u" + _HEX + r"{3})|\G(?<=" + _HEX + r")(?<!\\x" + _HEX + r"{2})(?<!\\u" + _HEX + r"{4}))" + _HEX
)
#: Any one glyph token, longest first.
GLYPH_PATTERN = "|".join(re.escape(glyph) for glyph in sorted(GLYPH_TOKENS, key=len, reverse=True))


def _byte_level_alphabet() -> dict[int, str]:
    """GPT-2's byte-to-character table, as ``ByteLevel`` spells a token's bytes in the vocabulary."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {byte: chr(byte) for byte in kept}
    extra = 0
    for byte in range(256):
        if byte not in table:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def _spec(tokenizer: Any, *, hex_digits: bool) -> dict[str, Any]:
    """The ``tokenizer.json`` object: the base's, with the glyphs in the vocabulary and the
    pre-tokenizer splitting them (and hex digits) out first."""
    from hlx_formats.errors import HLXError

    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    model = spec["model"]
    if model.get("type") != "BPE" or spec.get("pre_tokenizer", {}).get("type") != "ByteLevel":
        raise HLXError("a standalone tokenizer needs a byte-level BPE tokenizer (as smollm2-135m's)")
    alphabet = _byte_level_alphabet()
    vocab = model["vocab"]
    first = max(len(tokenizer), len(vocab))  # the ids add_tokens gives the glyphs
    for offset, glyph in enumerate(GLYPH_TOKENS):
        word = "".join(alphabet[byte] for byte in glyph.encode("utf-8"))
        if word in vocab:
            raise HLXError(f"the tokenizer already has the glyph {glyph!r}")
        vocab[word] = first + offset
    model["ignore_merges"] = True  # a glyph is one word of the vocabulary, never assembled by merges
    model["merges"] = [" ".join(pair) if isinstance(pair, list) else pair for pair in model["merges"]]  # the compact spelling
    splits = [{"type": "Split", "pattern": {"Regex": GLYPH_PATTERN}, "behavior": "Isolated", "invert": False}]
    if hex_digits:
        splits.insert(0, {"type": "Split", "pattern": {"Regex": HEX_DIGIT_PATTERN}, "behavior": "Isolated", "invert": False})
    spec["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [*splits, spec["pre_tokenizer"]]}
    return spec


def standalone_tokenizer(tokenizer: Any, *, hex_digits: bool) -> Any:
    """A ``PreTrainedTokenizerFast`` that tokenises as an expert of ``tokenizer``'s base was
    trained to read: the glyph tokens added and, with ``hex_digits``, hex digits apart."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer.from_str(json.dumps(_spec(tokenizer, hex_digits=hex_digits)))
    special = {name: getattr(tokenizer, name) for name in ("bos_token", "eos_token", "pad_token", "unk_token") if getattr(tokenizer, name)}
    return PreTrainedTokenizerFast(tokenizer_object=backend, **special)


#: The token the shipped experts end an answer with (the embedded base's own EOS). The files
#: name it the EOS, so that ``generate`` stops there and a grammar engine (llguidance, vLLM)
#: lets an answer end with it.
TRAINED_EOS = "<|im_end|>"


def save_standalone_tokenizer(tokenizer: Any, folder: Path, *, hex_digits: bool, eos_token: str | None = TRAINED_EOS) -> list[Path]:
    """Write ``tokenizer.json`` (compact) and ``tokenizer_config.json`` for
    :func:`standalone_tokenizer` into ``folder`` (``eos_token``: the EOS they name, by
    default :data:`TRAINED_EOS`; None: the tokenizer's); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = _spec(tokenizer, hex_digits=hex_digits)
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 8192,
        "add_bos_token": False,
        "clean_up_tokenization_spaces": False,
        **{name: getattr(tokenizer, name) for name in ("bos_token", "eos_token", "pad_token", "unk_token") if getattr(tokenizer, name)},
    }
    if eos_token is not None:
        config["eos_token"] = eos_token
    paths = [folder / "tokenizer.json", folder / "tokenizer_config.json"]
    atomic_write_text(paths[0], json.dumps(spec, ensure_ascii=False, separators=(",", ":")) + "\n")
    atomic_write_text(paths[1], json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return paths
