"""Greedy decoding, optionally constrained by an HLX grammar through llguidance.

The constraint for an answer is built from the same ``grammars/*.lark`` files as the
parsers, in canonical mode: a top grammar names the prefix (``HLXL: ``, or the four labels
of an all-formats answer) and pulls each format in as a sub-grammar, so every constrained
output parses.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
from dataclasses import dataclass
from typing import Any

from hlx_formats.grammar import FORMAT_TITLES, grammar_text

__all__ = ["answer_grammar", "Generation", "Decoder"]

_SUBGRAMMAR = {"hlxl": "hlxl", "lc-t": "lct", "lc-r": "lcr", "lc-b": "lcb"}


def _quote(text: str) -> str:
    return json.dumps(text)


@functools.cache
def answer_grammar(target: str, prefix: str = "") -> str:
    """The llguidance grammar (JSON) of an answer: ``target`` is a format or ``"all"``."""
    if target == "all":
        parts = []
        for position, fmt in enumerate(("hlxl", "lc-r", "lc-t", "lc-b")):
            label = ("\n" if position else "") + f"{FORMAT_TITLES[fmt]}: "
            parts.append(f"{_quote(label)} @{_SUBGRAMMAR[fmt]}")
        top = "start: " + " ".join(parts) + "\n"
        formats = ("hlxl", "lc-r", "lc-t", "lc-b")
    else:
        top = "start: " + (f"{_quote(prefix)} " if prefix else "") + f"@{_SUBGRAMMAR[target]}\n"
        formats = (target,)
    grammars = [{"lark_grammar": top}]
    grammars += [{"name": _SUBGRAMMAR[fmt], "lark_grammar": grammar_text(fmt, canonical=True)} for fmt in formats]
    return json.dumps({"grammars": grammars})


@dataclass
class Generation:
    """What one generation produced."""

    text: str
    prompt_tokens: int
    new_tokens: int
    seconds: float
    constrained: bool
    stop_reason: str  # "eos", "grammar", "max_tokens"
    mask_seconds: float = 0.0  # time spent computing grammar masks


# When the token budget runs out inside a constrained answer, the answer is completed by
# the first of these pieces that the grammar allows, again and again: closers first, then
# the shortest values and separators. Every open string, array, object or contract closes
# this way within a few pieces, so a constrained answer always parses.
_FINISHING_PIECES = (
    '"', "]", "}", "🜄", "🜂", "◆", "0", "00", "null", "NULL", "∅", "_", "🜁0 ", "🜁", "|0:", "0=", "@0: ",
    ": ", ":", " ", ",", "n", "x00", "u0000", "C:0,0=0", "0|0:0", "🜊0", "[",
)


class Decoder:
    """Greedy generation for one model and tokenizer, with an optional grammar constraint.

    The llguidance tokenizer is built once (about a second) and each grammar once. With a
    grammar, an answer that reaches ``max_new_tokens`` unfinished is closed by the shortest
    pieces the grammar allows (stop reason ``"budget"``), so it still parses.
    """

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.eos_ids = {tokenizer.eos_token_id}
        self._ll_tokenizer: Any = None
        forward = inspect.signature(type(getattr(model, "get_base_model", lambda: model)()).forward).parameters
        self._cache_argument = "cache" if "cache" in forward else "past_key_values"

    def _matcher(self, grammar: str) -> Any:
        import llguidance
        import llguidance.hf

        if self._ll_tokenizer is None:
            self._ll_tokenizer = llguidance.hf.from_tokenizer(self.tokenizer, n_vocab=self._vocab_size())
        matcher = llguidance.LLMatcher(self._ll_tokenizer, grammar, log_level=0)
        if matcher.is_error():
            raise RuntimeError(f"llguidance rejected the grammar: {matcher.get_error()}")
        return matcher

    def _vocab_size(self) -> int:
        return int(self.model.get_output_embeddings().weight.shape[0])

    def generate(self, prompt: str, *, grammar: str | None = None, max_new_tokens: int = 256) -> Generation:
        """Greedy continuation of ``prompt``; constrained by ``grammar`` (llguidance JSON) if given."""
        import torch
        from transformers import DynamicCache

        started = time.perf_counter()
        prompt_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        device = next(self.model.parameters()).device
        matcher = self._matcher(grammar) if grammar else None
        bitmask = None
        if matcher is not None:
            import llguidance.torch

            bitmask = llguidance.torch.allocate_token_bitmask(1, self._vocab_size())
        generated: list[int] = []
        stop_reason = "max_tokens"
        mask_seconds = 0.0
        cache = DynamicCache(config=self.model.config) if _accepts_config() else DynamicCache()
        inputs = torch.tensor([prompt_ids], device=device)
        with torch.inference_mode():
            for _ in range(max_new_tokens):
                output = self.model(input_ids=inputs, use_cache=True, logits_to_keep=1, **{self._cache_argument: cache})
                logits = output.logits[:, -1, :].float()
                if matcher is not None:
                    mask_started = time.perf_counter()
                    llguidance.torch.fill_next_token_bitmask(matcher, bitmask, 0)
                    llguidance.torch.apply_token_bitmask_inplace(logits, bitmask.to(logits.device))
                    mask_seconds += time.perf_counter() - mask_started
                token = int(logits.argmax(dim=-1))
                if token in self.eos_ids:
                    stop_reason = "eos"
                    break
                generated.append(token)
                if matcher is not None:
                    matcher.consume_token(token)
                    if matcher.is_stopped() or matcher.is_error():
                        stop_reason = "grammar"
                        break
                inputs = torch.tensor([[token]], device=device)
        if matcher is not None and stop_reason == "max_tokens" and not matcher.is_accepting():
            generated += self._finish(matcher)
            stop_reason = "budget"
        text = self.tokenizer.decode(generated, skip_special_tokens=True)
        return Generation(
            text, len(prompt_ids), len(generated), time.perf_counter() - started, matcher is not None, stop_reason, mask_seconds
        )


    def _finishing_candidates(self) -> list[list[int]]:
        """Token sequences for the finishing pieces, and for the tail bytes of each glyph (a
        forced prefix may already have consumed a glyph's first bytes)."""
        if not hasattr(self, "_finishing"):
            candidates: list[list[int]] = []
            for piece in _FINISHING_PIECES:
                encoded = piece.encode("utf-8")
                candidates.append(self._ll_tokenizer.tokenize_bytes(encoded))
                if len(piece) == 1 and len(encoded) > 1:
                    candidates += [self._ll_tokenizer.tokenize_bytes(encoded[cut:]) for cut in range(1, len(encoded))]
            self._finishing = candidates
        return self._finishing

    def _finish(self, matcher: Any, limit: int = 200) -> list[int]:
        added: list[int] = []
        while len(added) < limit and not matcher.is_accepting() and not matcher.is_error():
            forced = matcher.compute_ff_tokens()  # text the grammar allows no choice about
            if forced:
                matcher.consume_tokens(forced)
                added += forced
                continue
            for tokens in self._finishing_candidates():
                if matcher.validate_tokens(tokens) == len(tokens):
                    matcher.consume_tokens(tokens)
                    added += tokens
                    break
            else:
                break  # nothing short fits: leave the answer unfinished (it will not parse)
        return added


@functools.cache
def _accepts_config() -> bool:
    from transformers import DynamicCache

    return "config" in inspect.signature(DynamicCache.__init__).parameters
