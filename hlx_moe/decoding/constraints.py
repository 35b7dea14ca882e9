"""Greedy decoding or beam search, optionally constrained by an HLX answer's grammar through llguidance.

The constraint for an answer is built from the same ``grammars/*.lark`` files as the
parsers, in canonical mode: a top grammar names the prefix (``HLXL: ``, or the four labels
of an all-formats answer) and pulls each format in as a sub-grammar. What a context-free
grammar cannot say is checked by the answer's checks (:mod:`hlx_moe.decoding.state`: no
key or field index twice in one object or contract, no deeper than any value may nest and,
with the instruction's :class:`LiteralOrder`, its literals in order, the last for at most
``_ORDER_STEERS`` steps of an answer), each reading the hypothesis's :class:`AnswerState`;
a token one of them refuses is passed over for the next best. An answer that runs out of
tokens is closed by the shortest pieces the grammar allows. So every constrained answer
parses.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hlx_formats.errors import HLXError
from hlx_formats.grammar import FORMAT_TITLES, grammar_text
from hlx_formats.instructions import ALL_FORMATS_ORDER
from hlx_formats.model import MAX_DEPTH
from hlx_moe.decoding.options import check_num_beams
from hlx_moe.decoding.source_literals import LiteralOrder, SourceLiterals, restrict_literals
from hlx_moe.decoding.state import AnswerCheck, AnswerState, AnswerView, DepthLimit, InLiteralOrder, NoRepeatedKey
from hlx_moe.model.hex_digits import encode

__all__ = ["answer_grammar", "answer_end_ids", "AnswerConstraint", "Choice", "Generation", "Decoder"]

_SUBGRAMMAR = {"hlxl": "hlxl", "lc-t": "lct", "lc-r": "lcr", "lc-b": "lcb"}


def _quote(text: str) -> str:
    return json.dumps(text)


@functools.lru_cache(maxsize=256)
def answer_grammar(target: str, prefix: str = "", literals: SourceLiterals | None = None) -> str:
    """The llguidance grammar (JSON) of an answer: ``target`` is a format or ``"all"``;
    with ``literals``, every integer, float, string, byte string, handle and key is one of
    those it holds (:func:`hlx_moe.source_literals.restrict_literals`)."""
    formats: tuple[str, ...]
    if target == "all":
        parts = []
        for position, fmt in enumerate(ALL_FORMATS_ORDER):
            label = ("\n" if position else "") + f"{FORMAT_TITLES[fmt]}: "
            parts.append(f"{_quote(label)} @{_SUBGRAMMAR[fmt]}")
        top = "start: " + " ".join(parts) + "\n"
        formats = ALL_FORMATS_ORDER
    else:
        top = "start: " + (f"{_quote(prefix)} " if prefix else "") + f"@{_SUBGRAMMAR[target]}\n"
        formats = (target,)
    grammars = [{"lark_grammar": top}]
    for fmt in formats:
        grammar = grammar_text(fmt, canonical=True)
        if literals:
            grammar = restrict_literals(grammar, fmt, literals)
        grammars.append({"name": _SUBGRAMMAR[fmt], "lark_grammar": grammar})
    return json.dumps({"grammars": grammars})


@dataclass(frozen=True)
class AnswerConstraint:
    """What a constrained answer must be: ``target`` (a format, or ``"all"`` for the four
    labelled lines of an all-formats answer) after ``prefix`` (such as ``"HLXL: "``), its
    literals and keys drawn from ``literals`` where that is given, and written in the order
    of ``order`` where that is given (a decoder steers by it, beyond the grammar). ``start``:
    what the answer begins with, given (a completion's cut value): read into the grammar
    matcher and the answer state before the model chooses anything, and part of the answer."""

    target: str
    prefix: str = ""
    literals: SourceLiterals | None = None
    order: LiteralOrder | None = None
    start: str = ""

    @property
    def grammar(self) -> str:
        """The llguidance grammar (JSON)."""
        return answer_grammar(self.target, self.prefix, self.literals)

    def checks(self) -> tuple[AnswerCheck, ...]:
        """The checks beyond the grammar: no repeated key, no deeper than any value may nest,
        and (steering, where there is an order) the literals in order."""
        hard: tuple[AnswerCheck, ...] = (NoRepeatedKey(), DepthLimit())
        return hard + ((InLiteralOrder(self.order),) if self.order is not None else ())

    def state(self, token_bytes: Any) -> AnswerState:
        """A fresh answer state for a hypothesis; ``token_bytes`` gives a token's UTF-8 bytes."""
        return AnswerState(self.target, self.prefix, self.order, token_bytes)

    def read(self, text: str) -> AnswerView:
        """The answer ``text`` as the checks see it."""
        state = self.state(_no_tokens)
        state.advance_text(text)
        return state.view()

    def repeats(self, text: str) -> bool:
        """Whether the answer so far repeats a key or field index (beyond the grammar)."""
        return NoRepeatedKey().refuses(self.read(text))

    def too_deep(self, text: str) -> bool:
        """Whether the answer so far leaves more than ``MAX_DEPTH`` containers open (as
        written: an HLXL contract counts two), more than any value may nest."""
        return DepthLimit().refuses(self.read(text))

    def departs(self, text: str, *, complete: bool = False) -> bool:
        """Whether the answer so far (or the whole answer, with ``complete``) departs from
        ``order``: a literal not the next one of the instruction's value, or a value closed
        before its last literal. Always False without an order."""
        if self.order is None:
            return False
        check = InLiteralOrder(self.order)
        # A token may end inside a character's UTF-8 bytes (U+FFFD): judged on what comes before.
        return check.refuses_end(self.read(text)) if complete else check.refuses(self.read(text.rstrip("\ufffd")))


def _no_tokens(token: int) -> bytes:
    raise AssertionError("a state read from text has no tokens")


@dataclass(frozen=True)
class Choice:
    """What :meth:`Decoder.choose` chose: the text, its log-probability under the grammar,
    its tokens, the model's forward passes (choices) and the seconds it took."""

    text: str
    log_probability: float
    tokens: int
    choices: int
    seconds: float


@dataclass
class Generation:
    """What one generation produced."""

    text: str
    prompt_tokens: int
    new_tokens: int
    seconds: float
    constrained: bool
    # "eos": the model ended; "grammar": the grammar was complete; "max_tokens": an
    # unconstrained answer ran out of tokens; "budget": a constrained one did and was closed
    # by the finishing pieces; "repeat": every token the grammar allowed would have repeated
    # a key, and the finishing pieces closed the answer; "loop": free text started to repeat
    # itself (a line it wrote, or a run of tokens three times) and was cut before the repeat.
    stop_reason: str
    mask_seconds: float = 0.0  # time spent computing grammar masks and checking repeats
    # A beam search's finished answers, distinct texts, best first, each with its summed
    # log-probability (``text`` is the first; where none finished, the closed best beam
    # alone); empty for greedy decoding.
    candidates: tuple[tuple[str, float], ...] = ()


# Closing an unfinished constrained answer: at each point the first of these pieces that the
# grammar allows (and that repeats no key) is added, closers first (the newline ends a line
# of an all-formats answer), then the separators that end a key or index (else a name or
# number would grow), the shortest values and the rest (the hex letters for a hex literal drawn
# from the instruction's, which may go on only with one); where no piece fits, the last piece
# is taken back and the next one tried.
# Every open string, number, array, object or contract closes this way within a few pieces.
_FINISHING_PIECES = (
    '"',
    "]",
    "}",
    "🜄",
    "🜂",
    "◆",
    "\n",
    ": ",
    ":",
    "=",
    " ",
    "0",
    "00",
    "null",
    "NULL",
    "∅",
    "_",
    "🜁0 ",
    "🜁",
    "|0:",
    "0=",
    "@0: ",
    ",",
    "n",
    "x00",
    "u0000",
    "\\udc00",
    "udc00",
    "+0",
    "-0",
    "0x00",
    "C:0,0=0",
    "0|0:0",
    "🜊0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "[",
)
_MAX_CANDIDATES = 64  # tokens tried at one step before the answer is handed to the finisher
# Rows whose prompts a batch reads in one forward pass (the shortest first): fewer than the
# batch, so that short prompts are not padded to the longest (docs/performance.md, "Batches").
_PREFILL_ROWS = 4
# Steps at which the literal order may overrule the model's choice in one answer. A model
# that keeps leaving the order is not translating the value, and pushed on, it may open
# containers without end; past this many the order is given up.
_ORDER_STEERS = 16


_LOOP_MIN_SPAN, _LOOP_MAX_SPAN = 4, 48  # tokens of a run that free text repeats when it loops


def _check_n_best(n_best: Any, num_beams: int) -> None:
    if not isinstance(n_best, int) or isinstance(n_best, bool) or not 1 <= n_best <= num_beams:
        raise HLXError(f"n_best must be an integer from 1 to num_beams ({num_beams}), not {n_best!r}")


@dataclass
class _Beam:
    """One hypothesis of a beam search: its tokens, their summed log-probability and, under
    a constraint, the grammar state after them."""

    tokens: list[int]
    score: float
    matcher: Any
    stop_reason: str = ""
    state: AnswerState | None = None  # under a constraint: what the checks read


@dataclass
class _Row:
    """One answer of a batch: its prompt, constraint and budget, and as it is decoded its
    grammar matcher, answer state and checks, the tokens chosen and those the grammar forced
    that the model has still to read (one a step)."""

    prompt_ids: list[int]
    constraint: AnswerConstraint | None
    max_new_tokens: int
    matcher: Any = None
    state: AnswerState | None = None
    checks: tuple[AnswerCheck, ...] = ()
    steers_left: int = 0
    generated: list[int] = dataclasses.field(default_factory=list)
    queue: list[int] = dataclasses.field(default_factory=list)
    next_input: int = 0
    stop_reason: str = "max_tokens"
    mask_seconds: float = 0.0
    done: bool = False
    stop: str | None = None  # free text ends where it writes this
    decoder: Decoder | None = None  # the row's own tokenisation, grammar tokenizer and end tokens
    index: int = 0  # the row's place in the batch as given


def answer_end_ids(tokenizer: Any) -> set[int]:
    """The tokens that end an answer: the tokenizer's EOS and, in a ChatML vocabulary, the
    start of the next turn (``<|im_start|>``).

    Stopping at the start of a new turn is right for any chat model (an answer never holds
    one), and it ends the answers of an adapter trained where transformers read the embedded
    GGUF's EOS as ``<|im_start|>`` (version 5.17 did).
    """
    turn_start = tokenizer.convert_tokens_to_ids("<|im_start|>")
    if turn_start == tokenizer.unk_token_id:  # not a ChatML vocabulary
        turn_start = None
    return {token for token in (tokenizer.eos_token_id, turn_start) if isinstance(token, int)}


class Decoder:
    """Greedy generation for one model and tokenizer, with an optional answer constraint.

    The llguidance tokenizer is built once (about a second) and each grammar once.
    """

    def __init__(self, model: Any, tokenizer: Any, *, hex_digits: bool = False) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.hex_digits = hex_digits  # prompts and scored answers tokenised as the expert was trained
        self.eos_ids = answer_end_ids(tokenizer)
        # Tokens past this one are rows the model has and this tokenizer lacks (the glyph
        # tokens of another expert, or padding of the vocabulary): never chosen.
        self.tokenizer_size = len(tokenizer)
        self._ll_tokenizer: Any = None
        self._finishing: list[list[int]] | None = None
        self._bytes_of: dict[int, bytes] = {}
        forward = inspect.signature(type(getattr(model, "get_base_model", lambda: model)()).forward).parameters
        self._cache_argument = "cache" if "cache" in forward else "past_key_values"

    def matcher(self, constraint: AnswerConstraint) -> Any:
        """A fresh llguidance matcher for ``constraint``."""
        import llguidance

        matcher = llguidance.LLMatcher(self._llg_tokenizer(), constraint.grammar, log_level=0)
        if matcher.is_error():
            raise RuntimeError(f"llguidance rejected the grammar: {matcher.get_error()}")
        return matcher

    def _llg_tokenizer(self) -> Any:
        """The llguidance view of the tokenizer (built once, about a second)."""
        if self._ll_tokenizer is None:
            import llguidance.hf

            self._ll_tokenizer = llguidance.hf.from_tokenizer(self.tokenizer, n_vocab=self._vocab_size())
        return self._ll_tokenizer

    def _vocab_size(self) -> int:
        output = self.model.get_output_embeddings()
        return int(getattr(output, "out_features", output.weight.shape[0]))  # past the weight's rows: add_glyph_rows

    def encode(self, text: str) -> list[int]:
        """``text``'s tokens as this decoder's expert was trained to read them: with
        ``hex_digits``, every hex digit of a hex literal one token (:mod:`hlx_moe.hex_digits`)."""
        return encode(self.tokenizer, text, hex_digits=self.hex_digits)

    def _text(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def token_bytes(self, token: int) -> bytes:
        """A token's UTF-8 bytes as the answer's text holds them (none for a special token)."""
        found = self._bytes_of.get(token)
        if found is None:
            tokenizer = self._llg_tokenizer()
            found = self._bytes_of[token] = b"" if tokenizer.is_special_token(token) else tokenizer.decode_bytes([token])
        return found

    def _state(self, constraint: AnswerConstraint, tokens: list[int]) -> AnswerState:
        state = constraint.state(self.token_bytes)
        state.advance(tokens)
        return state

    def generate(
        self,
        prompt: str,
        *,
        constraint: AnswerConstraint | None = None,
        max_new_tokens: int = 256,
        num_beams: int = 1,
        n_best: int = 1,
        stop: str | None = None,
    ) -> Generation:
        """Greedy continuation of ``prompt``, under ``constraint`` if given; with
        ``num_beams`` > 1, the most probable answer a beam search of that width finds (and
        its ``n_best`` best, see :meth:`beam_search`). Free text (no constraint) ends before
        ``stop`` when it writes it (stop reason ``"stop"``): a one-line answer at its newline."""
        check_num_beams(num_beams)
        _check_n_best(n_best, num_beams)
        if num_beams > 1:
            return self.beam_search(prompt, constraint=constraint, max_new_tokens=max_new_tokens, num_beams=num_beams, n_best=n_best)
        import torch
        from transformers import DynamicCache

        started = time.perf_counter()
        prompt_ids = self.encode(prompt)
        device = next(self.model.parameters()).device
        matcher = self.matcher(constraint) if constraint is not None else None
        bitmask = None
        if matcher is not None:
            import llguidance.torch

            bitmask = llguidance.torch.allocate_token_bitmask(1, self._vocab_size())
        generated: list[int] = []
        stop_reason = "max_tokens"
        mask_seconds = 0.0
        steers_left = _ORDER_STEERS if constraint is not None and constraint.order is not None else 0
        cache = DynamicCache(config=self.model.config) if _accepts_config() else DynamicCache()
        pending = list(prompt_ids)  # tokens the model has not read yet
        state = constraint.state(self.token_bytes) if constraint is not None else None
        checks = constraint.checks() if constraint is not None else ()
        if matcher is not None and state is not None:
            assert constraint is not None  # a matcher comes with a constraint
            generated = self._begin(matcher, state, constraint, max_new_tokens)
            pending += generated
        with torch.inference_mode():
            while len(generated) < max_new_tokens and stop_reason == "max_tokens":
                inputs = torch.tensor([pending], device=device)
                output = self.model(input_ids=inputs, use_cache=True, logits_to_keep=1, **{self._cache_argument: cache})
                logits = output.logits[:, -1, :].float()
                logits[:, self.tokenizer_size :] = float("-inf")
                token: int | None
                if matcher is None:
                    token = int(logits.argmax(dim=-1))
                else:
                    mask_started = time.perf_counter()
                    self._apply_grammar(logits, [matcher], bitmask)
                    assert state is not None  # a matcher comes with a constraint
                    token, steers_left = self._best_allowed(logits[0], state, checks, steers_left)
                    mask_seconds += time.perf_counter() - mask_started
                    if token is None:
                        stop_reason = "repeat"
                        break
                if token in self.eos_ids:
                    stop_reason = "eos"
                    break
                generated.append(token)
                pending = [token]
                if matcher is None and stop is not None and self._writes(stop, generated, token):
                    stop_reason = "stop"
                    break
                if matcher is None:
                    loop = self._loop_start(generated)
                    if loop is not None:
                        generated, stop_reason = generated[:loop], "loop"
                        break
                if matcher is not None and state is not None:
                    mask_started = time.perf_counter()
                    matcher.consume_token(token)
                    state.advance([token])
                    if not (matcher.is_stopped() or matcher.is_error()):
                        forced = self._forced(matcher, state, max_new_tokens)
                        pending += forced
                        generated += forced
                    mask_seconds += time.perf_counter() - mask_started
                    if matcher.is_stopped() or matcher.is_error():
                        stop_reason = "grammar"
        if matcher is not None and stop_reason in ("max_tokens", "repeat") and not matcher.is_accepting():
            finish_started = time.perf_counter()
            generated = self.finish(matcher, generated, constraint, state=state)  # type: ignore[arg-type]  # constraint is set whenever a matcher is
            mask_seconds += time.perf_counter() - finish_started
            stop_reason = "budget" if stop_reason == "max_tokens" else stop_reason
        text = self._text(generated)
        if stop_reason == "stop":
            assert stop is not None  # the reason is set only with a stop
            text = text[: text.index(stop)]
        return Generation(
            text, len(prompt_ids), len(generated), time.perf_counter() - started, matcher is not None, stop_reason, mask_seconds
        )

    def generate_batch(
        self,
        prompts: list[str],
        constraints: list[AnswerConstraint | None],
        max_new_tokens: list[int],
        stops: list[str | None] | None = None,
        *,
        decoders: list[Decoder] | None = None,
        on_rows: Callable[[list[int]], None] | None = None,
    ) -> list[Generation]:
        """Greedy answers to several prompts in one batch: the prompts left-padded, one KV
        cache, and for each row its own grammar matcher, answer state, checks and budget;
        rows finish independently and leave the batch. The choices of :meth:`generate` row by
        row, except that tokens the grammar forces are read one a step (so that every row
        reads one token a step), and that a near tie may go the other way (padding changes
        the order of float sums). The prompts are read a few rows at a time, shortest first
        (:meth:`_prefill`); each step the rows' grammar masks are filled into one bitmask and
        applied in one operation. Each answer's ``seconds`` is the batch's time;
        ``stops`` are the rows' ``stop`` (see :meth:`generate`).

        ``decoders`` (default: this one for every row) give each row its own decoder of the
        same model: how its prompt is tokenised, its grammar's tokenizer, its end tokens and
        the tokens it may choose (a batch that mixes experts). ``on_rows``, where given, is
        called before every forward pass with the rows it reads, as their indices in
        ``prompts`` in batch order (what a model that runs each row with its own adapter needs)."""
        import torch

        started = time.perf_counter()
        stops = stops or [None] * len(prompts)
        decoders = decoders or [self] * len(prompts)
        rows = [
            _Row(decoder.encode(prompt), constraint, budget, stop=stop, decoder=decoder, index=index)
            for index, (prompt, constraint, budget, stop, decoder) in enumerate(zip(prompts, constraints, max_new_tokens, stops, decoders))
        ]
        for row in rows:
            if row.constraint is not None:
                decoder = row.decoder
                assert decoder is not None  # every row has one
                row.matcher, row.state, row.checks = (
                    decoder.matcher(row.constraint),
                    row.constraint.state(decoder.token_bytes),
                    row.constraint.checks(),
                )
                row.steers_left = _ORDER_STEERS if row.constraint.order is not None else 0
                row.generated = decoder._begin(row.matcher, row.state, row.constraint, row.max_new_tokens)
        device = next(self.model.parameters()).device
        bitmask = None
        if any(row.matcher is not None for row in rows):
            import llguidance.torch

            bitmask = llguidance.torch.allocate_token_bitmask(len(rows), self._vocab_size())
        for row in rows:
            row.done = len(row.generated) >= row.max_new_tokens
        live = [row for row in rows if not row.done]
        with torch.inference_mode():
            if live:
                live, logits, cache, mask = self._prefill(live, on_rows)
            while live:
                limits = {row.decoder.tokenizer_size for row in live if row.decoder is not None}
                if len(limits) == 1:
                    logits[:, limits.pop() :] = float("-inf")
                else:
                    for index, row in enumerate(live):
                        assert row.decoder is not None  # every row has one
                        logits[index, row.decoder.tokenizer_size :] = float("-inf")
                choosing = []
                for index, row in enumerate(live):
                    if row.queue:
                        row.next_input = row.queue.pop(0)
                    else:
                        choosing.append(index)
                if bitmask is not None:
                    self._mask_rows(logits, live, [index for index in choosing if live[index].matcher is not None], bitmask)
                for index in choosing:
                    self._choose(live[index], logits[index])
                keep = [index for index, row in enumerate(live) if not row.done]
                if not keep:
                    break
                if len(keep) < len(live):
                    cache.reorder_cache(torch.tensor(keep, device=device))
                    mask = mask[keep]
                live = [live[index] for index in keep]
                mask = torch.cat([mask, torch.ones((len(live), 1), dtype=mask.dtype, device=device)], dim=-1)
                if on_rows is not None:
                    on_rows([row.index for row in live])
                output = self.model(
                    input_ids=torch.tensor([[row.next_input] for row in live], device=device), attention_mask=mask,
                    position_ids=mask.sum(-1, keepdim=True) - 1, use_cache=True, logits_to_keep=1, **{self._cache_argument: cache},
                )  # fmt: skip
                logits = output.logits[:, -1, :].float()
        seconds = time.perf_counter() - started
        return [self._finished_row(row, seconds) for row in rows]

    def _prefill(
        self, rows: list[_Row], on_rows: Callable[[list[int]], None] | None, group_rows: int = _PREFILL_ROWS
    ) -> tuple[list[_Row], Any, Any, Any]:
        """Read the rows' prompts (and the tokens forced before their answers): the rows in
        order of length, ``group_rows`` at a time, each group left-padded only to its
        longest, and the groups' caches joined into one (left-padded to the longest of all).
        Returns the rows in that order, the logits after each one's last token, the cache and
        the attention mask."""
        import torch
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        device = next(self.model.parameters()).device
        pad = next(iter(self.eos_ids), 0)
        ordered = sorted(rows, key=lambda row: len(row.prompt_ids) + len(row.generated))
        caches: list[Any] = []
        logits: list[Any] = []
        groups = [ordered[first : first + group_rows] for first in range(0, len(ordered), group_rows)]
        for group in groups:
            width = max(len(row.prompt_ids) + len(row.generated) for row in group)
            padding = [width - len(row.prompt_ids) - len(row.generated) for row in group]
            mask = torch.tensor([[0] * gap + [1] * (width - gap) for gap in padding], device=device)
            cache = DynamicCache(config=self.model.config) if _accepts_config() else DynamicCache()
            if on_rows is not None:
                on_rows([row.index for row in group])
            output = self.model(
                input_ids=torch.tensor([[pad] * gap + row.prompt_ids + row.generated for gap, row in zip(padding, group)], device=device),
                attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0), use_cache=True, logits_to_keep=1,
                **{self._cache_argument: cache},
            )  # fmt: skip
            logits.append(output.logits[:, -1, :].float())
            caches.append((cache, width))
            if len(groups) > 1 and not all(type(layer) is DynamicLayer for layer in getattr(cache, "layers", [None])):
                return self._prefill(rows, on_rows, len(rows))  # a cache whose layers cannot be joined this way: one group
        cache, width = caches[-1]  # the longest prompts: its width is the batch's
        if len(caches) > 1:
            for number, layer in enumerate(cache.layers):
                for name in ("keys", "values"):
                    parts = [
                        torch.nn.functional.pad(getattr(other.layers[number], name), (0, 0, width - other_width, 0))
                        for other, other_width in caches
                    ]
                    setattr(layer, name, torch.cat(parts))
        lengths = [len(row.prompt_ids) + len(row.generated) for row in ordered]
        mask = torch.tensor([[0] * (width - length) + [1] * length for length in lengths], device=device)
        return ordered, torch.cat(logits), cache, mask

    def _mask_rows(self, logits: Any, live: list[_Row], masked: list[int], bitmask: Any) -> None:
        """Mask the rows ``masked`` of ``logits`` (those of ``live``) to what their grammars
        allow, in one operation (:meth:`_apply_grammar`); each row is charged its share of the time."""
        if not masked:
            return
        mask_started = time.perf_counter()
        rows = [live[index] for index in masked]
        end_ids = [(row.decoder or self).eos_ids for row in rows]
        self._apply_grammar(logits, [row.matcher for row in rows], bitmask, rows=masked, end_ids=end_ids)
        share = (time.perf_counter() - mask_started) / len(masked)
        for row in rows:
            row.mask_seconds += share

    def _choose(self, row: _Row, logits: Any) -> None:
        """One greedy step of ``row`` (what :meth:`generate`'s loop does for its one row), from
        its logits already masked by its grammar (:meth:`_mask_rows`)."""
        decoder = row.decoder or self
        token: int | None
        if row.matcher is None:
            token = int(logits.argmax(dim=-1))
        else:
            mask_started = time.perf_counter()
            assert row.state is not None  # a matcher comes with a constraint
            token, row.steers_left = decoder._best_allowed(logits, row.state, row.checks, row.steers_left)
            row.mask_seconds += time.perf_counter() - mask_started
            if token is None:
                row.stop_reason, row.done = "repeat", True
                return
        if token in decoder.eos_ids:
            row.stop_reason, row.done = "eos", True
            return
        row.generated.append(token)
        row.next_input = token
        if row.matcher is None and row.stop is not None and decoder._writes(row.stop, row.generated, token):
            row.stop_reason, row.done = "stop", True
            return
        if row.matcher is None:
            loop = decoder._loop_start(row.generated)
            if loop is not None:
                row.generated, row.stop_reason, row.done = row.generated[:loop], "loop", True
                return
        else:
            assert row.state is not None
            mask_started = time.perf_counter()
            row.matcher.consume_token(token)
            row.state.advance([token])
            if not (row.matcher.is_stopped() or row.matcher.is_error()):
                forced = decoder._forced(row.matcher, row.state, row.max_new_tokens)
                row.generated += forced
                row.queue += forced
            row.mask_seconds += time.perf_counter() - mask_started
            if row.matcher.is_stopped() or row.matcher.is_error():
                row.stop_reason, row.done = "grammar", True
                return
        if len(row.generated) >= row.max_new_tokens:
            row.done = True

    def _finished_row(self, row: _Row, seconds: float) -> Generation:
        decoder = row.decoder or self
        if row.matcher is not None and row.stop_reason in ("max_tokens", "repeat") and not row.matcher.is_accepting():
            finish_started = time.perf_counter()
            row.generated = decoder.finish(row.matcher, row.generated, row.constraint, state=row.state)  # type: ignore[arg-type]  # constraint is set whenever a matcher is
            row.mask_seconds += time.perf_counter() - finish_started
            row.stop_reason = "budget" if row.stop_reason == "max_tokens" else row.stop_reason
        text = decoder._text(row.generated)
        if row.stop_reason == "stop":
            assert row.stop is not None  # the reason is set only with a stop
            text = text[: text.index(row.stop)]
        return Generation(
            text, len(row.prompt_ids), len(row.generated), seconds, row.matcher is not None, row.stop_reason, row.mask_seconds
        )

    def _writes(self, stop: str, tokens: list[int], token: int) -> bool:
        """Whether free text, with ``token`` just written, now holds ``stop`` (a text is decoded
        only when the token's bytes could end it)."""
        if stop.encode("utf-8")[-1:] not in self.token_bytes(token):
            return False
        return stop in self._text(tokens)

    def _loop_start(self, tokens: list[int]) -> int | None:
        """Where free text that has started to loop should end: before a line it already
        wrote, or after the first copy of a run of at least ``_LOOP_MIN_SPAN`` tokens written
        three times in a row; None while it does not loop. (A grammar bounds a format answer;
        free text has only this, the end of the answer and the token budget.)"""
        count = len(tokens)
        for span in range(_LOOP_MIN_SPAN, min(_LOOP_MAX_SPAN, count // 3) + 1):
            last = tokens[count - span :]
            if tokens[count - 2 * span : count - span] == last and tokens[count - 3 * span : count - 2 * span] == last:
                return count - 2 * span
        text = self._text(tokens)
        if not text.endswith("\n"):
            return None
        lines = text.split("\n")[:-1]
        if len(lines) < 2 or not lines[-1].strip() or lines[-1] not in lines[:-1]:
            return None
        keep = "\n".join(lines[:-1])
        for cut in range(count, -1, -1):  # the longest token prefix that decodes to what is kept
            if self._text(tokens[:cut]).rstrip("\n") == keep:
                return cut
        return None

    def beam_search(
        self,
        prompt: str,
        *,
        constraint: AnswerConstraint | None = None,
        max_new_tokens: int = 256,
        num_beams: int = 4,
        n_best: int = 1,
    ) -> Generation:
        """The answer with the highest sum of token log-probabilities (under the constraint's
        mask, where it has one) that a beam search of width ``num_beams`` finds.

        The beams run as one batch, each with its own grammar state. Each step the best
        ``2 * num_beams`` tokens of every live beam, less those that would repeat a key, are
        candidates; a candidate that ends the answer (an end token where the grammar is
        complete, or the grammar's last token) is a finished answer, the best others the
        next beams. The search stops as soon as no live beam can beat the best finished
        answer (a sum of log-probabilities only falls), or at the budget, where the best
        finished answer wins, or if none has finished the best beam is closed by the
        finishing pieces. Tokens the grammar forces at the start are read in one step;
        later ones cost a step each, as every beam has its own.
        """
        import torch
        from transformers import DynamicCache

        check_num_beams(num_beams)
        _check_n_best(n_best, num_beams)
        started = time.perf_counter()
        prompt_ids = self.encode(prompt)
        device = next(self.model.parameters()).device
        root = self.matcher(constraint) if constraint is not None else None
        bitmask = None
        if root is not None:
            import llguidance.torch

            bitmask = llguidance.torch.allocate_token_bitmask(num_beams, self._vocab_size())
        mask_seconds = 0.0
        steers_left = _ORDER_STEERS if constraint is not None and constraint.order is not None else 0
        state = constraint.state(self.token_bytes) if constraint is not None else None
        checks = constraint.checks() if constraint is not None else ()
        start = self._begin(root, state, constraint, max_new_tokens) if root is not None and state is not None and constraint else []
        cache = DynamicCache(config=self.model.config) if _accepts_config() else DynamicCache()
        beams: list[_Beam] = [_Beam(start, 0.0, root, state=state)]
        finished: list[_Beam] = []
        pending = torch.tensor([prompt_ids + start], device=device)
        with torch.inference_mode():
            while beams and len(beams[0].tokens) < max_new_tokens:
                output = self.model(input_ids=pending, use_cache=True, logits_to_keep=1, **{self._cache_argument: cache})
                mask_started = time.perf_counter()
                log_probs = self._beam_log_probs(output.logits[:, -1, :].float(), beams, bitmask)
                candidates = self._beam_candidates(beams, log_probs, checks, 2 * num_beams)
                if steers_left and candidates:
                    ordered = [
                        candidate
                        for candidate in candidates
                        if not self._refused(beams[candidate[1]].state, candidate[2], checks, steering=True)  # type: ignore[arg-type]  # steers_left > 0 needs a constraint, so a state
                    ]
                    if not ordered:  # no beam can keep to the order: it is given up
                        steers_left = 0
                    else:
                        steers_left -= ordered[0] != candidates[0]  # the order overruled the best choice
                        candidates = ordered
                mask_seconds += time.perf_counter() - mask_started
                next_beams, parents = self._next_beams(beams, candidates, finished, num_beams)
                if not next_beams and not finished:  # every allowed token would repeat a key
                    break
                enough = len(finished) >= n_best
                if finished and (not next_beams or (enough and finished[n_best - 1].score >= next_beams[0].score)):
                    next_beams = []  # a sum of log-probabilities only falls: no live beam can enter the n best
                beams = next_beams
                if beams:
                    cache.reorder_cache(torch.tensor(parents, device=device))
                    pending = torch.tensor([[beam.tokens[-1]] for beam in beams], device=device)
        best_texts: tuple[tuple[str, float], ...] = ()
        if finished:
            best, stop_reason = finished[0], finished[0].stop_reason
            texts: dict[str, float] = {}
            for beam in finished:  # best first; one text may come of two tokenisations
                texts.setdefault(self._text(beam.tokens), beam.score)
            best_texts = tuple(texts.items())[:n_best]
        else:  # the budget, or repeats, ended every beam: the best one is closed so that it parses
            best = max(beams, key=lambda beam: beam.score)
            stop_reason = "max_tokens" if len(best.tokens) >= max_new_tokens else "repeat"
            if best.matcher is not None and not best.matcher.is_accepting():
                finish_started = time.perf_counter()
                best = _Beam(self.finish(best.matcher, best.tokens, constraint, state=best.state), best.score, best.matcher)  # type: ignore[arg-type]  # constraint is set whenever a matcher is
                mask_seconds += time.perf_counter() - finish_started
                stop_reason = "budget" if stop_reason == "max_tokens" else stop_reason
        text = self._text(best.tokens)
        return Generation(
            text, len(prompt_ids), len(best.tokens), time.perf_counter() - started,
            root is not None, stop_reason, mask_seconds, best_texts or ((text, best.score),),
        )  # fmt: skip

    def score(self, prompt: str, answer: str) -> float:
        """The log-probability, without a constraint, that the model answers ``prompt`` with
        ``answer`` and then ends: the sum of the answer's token log-probabilities (prompt and
        answer tokenised apart, as in training) and the log of the probability of any end
        token after it (:func:`answer_end_ids`). One forward pass."""
        import torch

        prompt_ids = self.encode(prompt)
        answer_ids = self.encode(answer)
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            # the logits after the prompt's last token and each answer token: the next token
            # after each prefix of the answer (the output layer skips the rest of the prompt)
            output = self.model(input_ids=torch.tensor([prompt_ids + answer_ids], device=device), logits_to_keep=len(answer_ids) + 1)
            logits = output.logits[0, -(len(answer_ids) + 1) :].float()
            logits[:, self.tokenizer_size :] = float("-inf")
            log_probs = torch.log_softmax(logits, dim=-1)
            answer_part = log_probs[torch.arange(len(answer_ids)), torch.tensor(answer_ids, dtype=torch.long, device=device)].sum()
            end_part = torch.logsumexp(log_probs[-1, sorted(self.eos_ids)], dim=0)
        return float(answer_part + end_part)

    def choose(self, prompt: str, grammar: str, *, max_new_tokens: int = 256) -> Choice:
        """Greedy decoding of ``prompt`` under ``grammar`` (a Lark grammar, read by
        llguidance): at each step the most probable token the grammar allows, the tokens it
        forces read in one step. ``Choice.log_probability`` is the answer's log-probability
        under the grammar (each choice's probability among the tokens the grammar allowed
        there, a forced token 1, the end included): 0 when the grammar left one answer."""
        import llguidance.torch
        import torch
        from transformers import DynamicCache

        started = time.perf_counter()
        matcher = llguidance.LLMatcher(self._llg_tokenizer(), json.dumps({"grammars": [{"lark_grammar": grammar}]}), log_level=0)
        if matcher.is_error():
            raise HLXError(f"llguidance rejected the grammar: {matcher.get_error()}")
        prompt_ids = self.encode(prompt)
        device = next(self.model.parameters()).device
        bitmask = llguidance.torch.allocate_token_bitmask(1, self._vocab_size())
        cache = DynamicCache(config=self.model.config) if _accepts_config() else DynamicCache()
        pending, generated = list(prompt_ids), list[int]()
        log_probability, steps = 0.0, 0
        with torch.inference_mode():
            while len(generated) < max_new_tokens and not matcher.is_stopped():
                forced = matcher.compute_ff_tokens()
                if forced and matcher.consume_tokens(forced):
                    generated += forced
                    pending += forced
                    if matcher.is_stopped():
                        break
                output = self.model(
                    input_ids=torch.tensor([pending], device=device), use_cache=True, logits_to_keep=1, **{self._cache_argument: cache}
                )
                logits = output.logits[:, -1, :].float()
                logits[:, self.tokenizer_size :] = float("-inf")
                self._apply_grammar(logits, [matcher], bitmask)
                log_probs = torch.log_softmax(logits[0], dim=-1)
                token = int(log_probs.argmax())
                steps += 1
                if token in self.eos_ids:  # the answer ends: every end token's probability
                    log_probability += float(torch.logsumexp(log_probs[sorted(self.eos_ids)], dim=0))
                    break
                log_probability += float(log_probs[token])
                matcher.consume_token(token)
                generated.append(token)
                pending = [token]
        return Choice(self._text(generated), min(0.0, log_probability), len(generated), steps, time.perf_counter() - started)

    def _apply_grammar(
        self, logits: Any, matchers: list[Any], bitmask: Any, *, rows: list[int] | None = None, end_ids: list[set[int]] | None = None
    ) -> None:
        """Mask row ``rows[i]`` (default ``i``) of ``logits`` to what ``matchers[i]`` allows, the
        other rows not at all; where an answer is complete, every end token (``end_ids[i]``,
        default this decoder's) stays allowed (the grammar knows only the tokenizer's EOS).
        Several rows' masks are filled in parallel where llguidance can."""
        import llguidance.torch

        rows = rows if rows is not None else list(range(len(matchers)))
        end_ids = end_ids if end_ids is not None else [self.eos_ids] * len(matchers)
        ends = [
            (row, {token: logits[row, token].item() for token in ids})
            for row, matcher, ids in zip(rows, matchers, end_ids)
            if matcher.is_accepting()
        ]
        for row in set(range(logits.shape[0])) - set(rows):
            bitmask[row].fill_(-1)  # nothing masked
        executor = _executor()
        if executor is not None and len(matchers) > 1:
            llguidance.torch.fill_next_token_bitmask_par(executor, list(zip(matchers, rows)), bitmask)
        else:
            for row, matcher in zip(rows, matchers):
                llguidance.torch.fill_next_token_bitmask(matcher, bitmask, row)
        llguidance.torch.apply_token_bitmask_inplace(logits, bitmask[: logits.shape[0]].to(logits.device))
        for row, row_ends in ends:
            for token, logit in row_ends.items():
                logits[row, token] = logit

    def _beam_log_probs(self, logits: Any, beams: list[_Beam], bitmask: Any) -> Any:
        """Each beam's next-token log-probabilities, under its grammar state if it has one."""
        import torch

        logits[:, self.tokenizer_size :] = float("-inf")
        if bitmask is not None:
            self._apply_grammar(logits, [beam.matcher for beam in beams], bitmask)
        return torch.log_softmax(logits, dim=-1)

    def _beam_candidates(
        self, beams: list[_Beam], log_probs: Any, checks: tuple[AnswerCheck, ...], per_beam: int
    ) -> list[tuple[float, int, int]]:
        """(score, beam, token) for each beam's best tokens that repeat no key (nor nest too
        deep), best first."""
        candidates = []
        top = log_probs.topk(min(per_beam, log_probs.shape[-1]), dim=-1)
        for row, beam in enumerate(beams):
            for log_prob, token in zip(top.values[row].tolist(), top.indices[row].tolist()):
                if log_prob == float("-inf"):
                    break
                if beam.state is None or not self._refused(beam.state, token, checks, steering=False):
                    candidates.append((beam.score + log_prob, row, token))
        return sorted(candidates, key=lambda candidate: -candidate[0])

    def _next_beams(
        self, beams: list[_Beam], candidates: list[tuple[float, int, int]], finished: list[_Beam], num_beams: int
    ) -> tuple[list[_Beam], list[int]]:
        """The best ``num_beams`` candidates that go on, with the row of each one's parent;
        candidates that end an answer join ``finished`` (kept best first, ``num_beams`` long)."""
        next_beams: list[_Beam] = []
        parents: list[int] = []
        for score, row, token in candidates:
            parent = beams[row]
            if token in self.eos_ids:
                finished.append(_Beam(parent.tokens, score, parent.matcher, "eos", parent.state))
                continue
            if len(next_beams) == num_beams:
                continue
            matcher = state = None
            if parent.matcher is not None and parent.state is not None:
                matcher = parent.matcher.deep_copy()
                matcher.consume_token(token)
                state = parent.state.copy()
                state.advance([token])
                if matcher.is_stopped():  # the grammar's last token: nothing can follow
                    finished.append(_Beam(parent.tokens + [token], score, matcher, "grammar", state))
                    continue
            next_beams.append(_Beam(parent.tokens + [token], score, matcher, state=state))
            parents.append(row)
        best_of: dict[tuple[int, ...], _Beam] = {}  # one answer ended by two end tokens counts once
        for beam in finished:
            if tuple(beam.tokens) not in best_of or beam.score > best_of[tuple(beam.tokens)].score:
                best_of[tuple(beam.tokens)] = beam
        finished[:] = sorted(best_of.values(), key=lambda beam: -beam.score)[:num_beams]
        return next_beams, parents

    def check_start(self, constraint: AnswerConstraint) -> None:
        """HLXError unless ``constraint.start`` can begin an answer: it must be the beginning of
        a value in the canonical spelling of the constraint's format."""
        tokens = self.encode(constraint.start) if constraint.start else []
        if not tokens:
            return
        matcher = self.matcher(constraint)  # validate_tokens reads without consuming: one matcher serves
        valid = matcher.validate_tokens(tokens)
        if valid == len(tokens):
            return
        # the longest beginning that is valid, to the character: within the first token refused
        at = len(self._text(tokens[:valid]))
        while at < len(constraint.start):
            beginning = self.encode(constraint.start[: at + 1])
            if matcher.validate_tokens(beginning) < len(beginning):
                break
            at += 1
        title = FORMAT_TITLES.get(constraint.target, constraint.target)
        raise HLXError(
            f"{constraint.start[:60]!r} is not the beginning of a canonical {title} value: "
            f"it goes wrong at character {at + 1} ({constraint.start[at : at + 1]!r})"
        )

    def _begin(self, matcher: Any, state: AnswerState, constraint: AnswerConstraint, max_new_tokens: int) -> list[int]:
        """The tokens an answer starts with: its given beginning (``constraint.start``), then
        those the grammar forces, consumed by ``matcher`` and ``state``."""
        given = self.encode(constraint.start) if constraint.start else []
        if given:
            if not matcher.consume_tokens(given):
                self.check_start(constraint)  # says why
                raise HLXError(f"the answer cannot start with {constraint.start[:60]!r}")
            state.advance(given)
        return given + self._forced(matcher, state, max_new_tokens)

    def _forced(self, matcher: Any, state: AnswerState, max_new_tokens: int) -> list[int]:
        """The tokens the grammar now forces (a prefix such as ``HLXL: ``, the rest of a
        glyph), consumed by ``matcher`` and ``state``: the model reads them in one step
        instead of choosing them one by one. None are taken if they would repeat a key or pass
        the budget; the usual step then meets the same choice."""
        forced = matcher.compute_ff_tokens()
        if not forced or len(state.tokens) + len(forced) > max_new_tokens:
            return []
        if NoRepeatedKey().refuses(state.view(forced)) or not matcher.consume_tokens(forced):
            return []
        state.advance(forced)
        return list(forced)

    def _best_allowed(self, logits: Any, state: AnswerState, checks: tuple[AnswerCheck, ...], steers_left: int) -> tuple[int | None, int]:
        """The best token the mask left that no check refuses (the steering ones only while
        ``steers_left``), None if there is none; and the steers left: one fewer where a
        steering check overruled the model's choice, none where no token satisfies it (the
        answer has left the order, and every literal from here on would be refused)."""
        free = self._best_token(logits.clone(), state, checks, steering=False)
        if steers_left and free is not None and not self._refused(state, free, checks, steering=True):
            return free, steers_left
        if steers_left:
            token = self._best_token(logits, state, checks, steering=True)
            if token is not None:
                return token, steers_left - 1
        return free, 0

    def _best_token(self, logits: Any, state: AnswerState, checks: tuple[AnswerCheck, ...], *, steering: bool) -> int | None:
        for _ in range(_MAX_CANDIDATES):
            token = int(logits.argmax())
            if logits[token] == float("-inf"):
                return None
            if not self._refused(state, token, checks, steering=steering):
                return token
            logits[token] = float("-inf")
        return None

    def _refused(self, state: AnswerState, token: int, checks: tuple[AnswerCheck, ...], *, steering: bool) -> bool:
        """Whether a check refuses ``token`` after the answer so far (the steering checks only
        with ``steering``); an end token, whether a check refuses the answer ending there."""
        active = [check for check in checks if steering or not check.steers]
        if token in self.eos_ids:
            view = state.view()
            return any(check.refuses_end(view) for check in active)
        view = state.view([token])
        return any(check.refuses(view) for check in active)

    def _finishing_candidates(self) -> list[list[int]]:
        """Token sequences for the finishing pieces, and for the tail bytes of each glyph (a
        forced prefix may already have consumed a glyph's first bytes)."""
        if self._finishing is None:
            candidates: list[list[int]] = []
            for piece in _FINISHING_PIECES:
                encoded = piece.encode("utf-8")
                candidates.append(self._ll_tokenizer.tokenize_bytes(encoded))
                if len(piece) == 1 and len(encoded) > 1:
                    candidates += [self._ll_tokenizer.tokenize_bytes(encoded[cut:]) for cut in range(1, len(encoded))]
            self._finishing = candidates
        return self._finishing

    def finish(
        self,
        matcher: Any,
        tokens: list[int],
        constraint: AnswerConstraint,
        limit: int = MAX_DEPTH + 64,
        *,
        state: AnswerState | None = None,
    ) -> list[int]:
        """``tokens`` (already consumed by ``matcher``) completed so that the answer parses.

        A depth-first search over the finishing pieces: forced tokens when the grammar allows
        nothing else, else the first piece that the grammar allows and that repeats no key;
        at a dead end the last piece -- or the model's last token -- is taken back and the next
        piece tried. At most ``limit`` tokens are added; past that the answer is left as it is
        (and will not parse). ``state`` is the answer state after ``tokens``, where the
        caller has it.
        """
        tokens = list(tokens)
        # The pieces are judged on the state after the model's tokens (read again only where
        # the search takes one of those back) plus the pieces added since.
        base = state if state is not None and state.tokens == tokens else None
        if base is None:
            base = self._state(constraint, tokens)
        repeats = NoRepeatedKey()
        # Each step taken: (tokens it added, index of the option taken); -1 for the model's
        # tokens, whose alternatives are all the pieces.
        steps: list[tuple[int, int]] = [(1, -1)] * len(tokens)
        model_tokens = len(tokens)
        first_option = 0
        for _ in range(20 * limit):  # bounds the search
            if matcher.is_accepting() or matcher.is_error():
                break
            forced = matcher.compute_ff_tokens()
            options = [forced] if forced else self._finishing_candidates()
            for index in range(first_option, len(options)):
                option = options[index]
                fits = len(tokens) + len(option) <= model_tokens + limit
                if (
                    fits
                    and matcher.validate_tokens(option) == len(option)
                    and not repeats.refuses(base.view(tokens[len(base.tokens) :] + option))
                ):
                    matcher.consume_tokens(option)
                    tokens += option
                    steps.append((len(option), index))
                    first_option = 0
                    break
            else:  # dead end: take the last step back and try its next option
                if not steps:
                    break
                count, index = steps.pop()
                matcher.rollback(count)
                del tokens[len(tokens) - count :]
                model_tokens = min(model_tokens, len(tokens))
                if len(tokens) < len(base.tokens):
                    base = self._state(constraint, tokens)
                first_option = index + 1
        return tokens


@functools.cache
def _executor() -> Any:
    """llguidance's executor that fills a batch's grammar masks in parallel (one for the
    process), or None where this llguidance has none."""
    import llguidance

    make = getattr(llguidance, "LLExecutor", None)
    return make() if make is not None else None


@functools.cache
def _accepts_config() -> bool:
    from transformers import DynamicCache

    return "config" in inspect.signature(DynamicCache.__init__).parameters
