"""The mixture: one base model carrying three LoRA adapters, a router, constrained decoding.

    from hlx_moe import HLXMoE
    moe = HLXMoE.load()                       # the embedded base and the shipped adapters
    result = moe.query("Convert to LC-R: [1, 2, 3]")
    result.answer, result.expert, result.matches_reference, result.latency_seconds

A request the request description reads goes, as its canonical instruction, to its expert:
one generation, under the grammar of the answer's format. Any other request is first
rewritten by the coordinator into a canonical instruction (:mod:`hlx_moe.serving.rewrite`),
or refused with ``NotUnderstood`` when that rewrite is not confident enough.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import resource
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hlx_formats.errors import BackendUnavailable, HLXError, NotUnderstood, ParseError
from hlx_formats.instructions import REPAIR_TASKS, Instruction, instruction_for, match_instruction
from hlx_formats.repairs import one_edit_fixes
from hlx_formats.requests import parse_request
from hlx_formats.rewrites import RewriteSpace, choice_grammar, rewrite_prompt, rewrite_space
from hlx_moe.corpus import EXPERTS, prompt_of
from hlx_moe.decoding.choices import choice_distribution
from hlx_moe.decoding.constraints import AnswerConstraint, Decoder, Generation
from hlx_moe.decoding.options import DecodingOptions
from hlx_moe.decoding.round_trip import reverse_queries
from hlx_moe.decoding.source_literals import literals_in, literals_in_order
from hlx_moe.evaluation.grading import checked_answer, grade
from hlx_moe.model.base import EMBEDDED_BASE, LoadedBase, _require, load_base, logger, quiet_dependencies, shipped_adapters_dir
from hlx_moe.model.cards import read_training_report
from hlx_moe.model.glyph_tokens import RowBlocks, adapter_config, add_glyph_rows, glyph_rows, row_blocks
from hlx_moe.serving.rewrite import Rewrite, rewrite_from, rewrite_threshold
from hlx_moe.serving.router import LEARNED_TASKS, Route, route_instruction
from hlx_moe.serving.text_answers import answer_choices

__all__ = [
    "HLXMoE",
    "QueryResult",
    "RowAdapters",
    "MAX_REQUEST_CHARS",
    "TEXT_ANSWER_TOKENS",
    "check_request",
    "shipped_adapters_dir",
    "adapters_dir_from_env",
    "adapter_metadata",
    "translate_with_moe",
]


def adapters_dir_from_env() -> Path:
    """``$HLX_MOE_ADAPTERS`` if set, else the shipped adapters."""
    value = os.environ.get("HLX_MOE_ADAPTERS")
    return Path(value) if value else shipped_adapters_dir()


@dataclass
class QueryResult:
    """One answered query."""

    instruction: str
    answer: str
    expert: str
    route_reason: str
    constrained: bool
    parses: bool | None  # None for free-text answers
    matches_reference: bool | None  # None when the instruction has no reference answer
    same_value: bool | None
    same_shape: bool | None  # right structure, maybe wrong scalars (see grading.Grade)
    wrong_scalars: tuple[str, ...]  # the kinds of those wrong scalars
    reference: str | None
    prompt_tokens: int
    new_tokens: int
    latency_seconds: float
    stop_reason: str
    # True when round-trip reranking chose the answer among the beam search's best (it ran,
    # and at least two answers had a way back; see hlx_moe.round_trip); beam_answer is then
    # the beam search's own best answer, which the round trip kept or overruled.
    round_trip: bool = False
    beam_answer: str | None = None
    # How the request reached its expert: "direct" (the request description read it),
    # "rewrite" (the coordinator rewrote it into ``instruction``: ``rewrite`` holds that
    # rewrite's log-probability and confidence), with "+hops" when it was answered in two
    # steps through HLXL (a pair of formats no single instruction converts between) and
    # "+reference" when its task is one no expert learned and the reference answered it
    # (``expert`` "reference").
    request: str = ""
    route: str = "direct"
    rewrite: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _resident_bytes() -> int:
    """Resident memory of this process now (Linux /proc), else its peak (getrusage)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RowAdapters:
    """Which adapter each row of the next forward pass runs, for a batch that mixes experts:
    ``groups`` pairs an adapter name with its rows (a slice or an index tensor along the
    batch) and ``rows`` counts them. While it is None, every row runs the active adapters.
    One object is shared by every LoRA layer given :func:`_lean_lora_forward`."""

    def __init__(self) -> None:
        self.groups: list[tuple[str, Any]] | None = None
        self.rows = 0
        self._masks: dict[Any, tuple[Any, Any]] = {}

    def assign(self, groups: list[tuple[str, Any]] | None, rows: int = 0) -> None:
        self.groups, self.rows = groups, rows
        self._masks.clear()

    def masks(self, columns: tuple[tuple[str, int, int], ...], scaling: dict[str, float], like: Any, dims: int) -> tuple[Any, Any]:
        """For a layer whose adapters' ranks lie side by side at ``columns`` (name, first,
        end): which of them each row keeps (1 or 0, one per rank column) and the scaling of
        its own adapter (0 where the layer has none), shaped to multiply ``dims``-dimensional
        activations; computed once a forward pass for all the layers alike."""
        import torch

        assert self.groups is not None  # only a mixed batch asks
        key = (columns, tuple(scaling[name] for name, _, _ in columns), dims)
        found = self._masks.get(key)
        if found is None:
            shape = (self.rows,) + (1,) * (dims - 2)
            keep = torch.zeros(*shape, columns[-1][2], dtype=like.dtype, device=like.device)
            scale = torch.zeros(*shape, 1, dtype=like.dtype, device=like.device)
            spans = {name: (first, end) for name, first, end in columns}
            for name, rows in self.groups:
                if name in spans:
                    keep[rows, ..., spans[name][0] : spans[name][1]] = 1
                    scale[rows] = scaling[name]
            found = self._masks[key] = (keep, scale)
        return found


def _lean_lora_forward(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    """A LoRA layer's forward for inference: the base layer plus ``B(A(x)) * scaling`` of the
    active adapters, without PEFT's per-call checks, dropout and copies (about 20% of a decoding
    step on CPU, where the 210 LoRA layers of the embedded base are called once per token).

    While the shared :class:`RowAdapters` has groups, each row gets its own adapter's term
    instead: where the layer's adapters lie side by side (:func:`_stack_adapters`), in two
    products for all the rows, ``B_all((A_all x) * keep) * scale`` (the other adapters' rank
    columns zeroed row by row), else adapter by adapter on its rows."""
    import torch.nn.functional as F

    result = self.base_layer(x, *args, **kwargs)
    if self.disable_adapters or self.merged:
        return result
    row_adapters = self.hlx_row_adapters
    if row_adapters.groups is not None:
        stack = self.hlx_stack
        if stack is not None:
            down, up, columns = stack
            keep, scale = row_adapters.masks(columns, self.scaling, down, x.dim())
            lora_input = x if x.dtype == down.dtype else x.to(down.dtype)
            return result + (F.linear(F.linear(lora_input, down) * keep, up) * scale).to(result.dtype)
        for name, rows in row_adapters.groups:
            if name not in self.lora_A:
                continue
            down, up = self.lora_A[name].weight, self.lora_B[name].weight
            part = x[rows]
            lora_input = part if part.dtype == down.dtype else part.to(down.dtype)
            result[rows] += (F.linear(F.linear(lora_input, down), up) * self.scaling[name]).to(result.dtype)
        return result
    for name in self.active_adapters:
        if name not in self.lora_A:
            continue
        down, up = self.lora_A[name].weight, self.lora_B[name].weight
        lora_input = x if x.dtype == down.dtype else x.to(down.dtype)
        result = result + (F.linear(F.linear(lora_input, down), up) * self.scaling[name]).to(result.dtype)
    return result


def _stack_adapters(module: Any) -> Any:
    """Lay a LoRA layer's adapters side by side without copying them twice: one tensor of
    every ``A`` (rank rows one after another) and one of every ``B`` (rank columns), each
    adapter's own weights becoming views of them, so the single-adapter forward reads the
    same numbers. Returns (A_all, B_all, columns) with ``columns`` (name, first, end) of each
    adapter, or None for fewer than two adapters, or weights of different dtypes or devices."""
    import torch

    names = list(module.lora_A)
    downs = [module.lora_A[name].weight for name in names]
    ups = [module.lora_B[name].weight for name in names]
    if len(names) < 2 or len({(w.dtype, w.device) for w in downs + ups}) != 1:
        return None
    down_all = torch.cat([w.data for w in downs])
    up_all = torch.cat([w.data for w in ups], dim=1)
    columns, first = [], 0
    for name, down, up in zip(names, downs, ups):
        end = first + down.shape[0]
        down.data, up.data = down_all[first:end], up_all[:, first:end]
        columns.append((name, first, end))
        first = end
    return down_all, up_all, tuple(columns)


def install_lean_lora_forward(model: Any, rows: RowAdapters | None = None) -> int:
    """Give every plain LoRA layer of an inference model :func:`_lean_lora_forward`, reading
    ``rows`` (default: a new :class:`RowAdapters` with no groups), and lay its adapters side
    by side (:func:`_stack_adapters`); returns how many. Layers with a LoRA variant (DoRA and
    the like), a LoRA bias or in training mode keep PEFT's own forward, as does the whole model
    when any layer needs it."""
    import types

    from peft.tuners.lora.layer import LoraLayer

    layers = [module for module in model.modules() if isinstance(module, LoraLayer)]
    plain = all(
        not module.training and not getattr(module, "lora_variant", None)
        and all(getattr(up, "bias", None) is None for up in module.lora_B.values())
        for module in layers
    )  # fmt: skip
    if not plain:
        return 0
    rows = rows if rows is not None else RowAdapters()
    for module in layers:
        module.hlx_row_adapters = rows
        module.hlx_stack = _stack_adapters(module)
        module.forward = types.MethodType(_lean_lora_forward, module)
    return len(layers)


#: Tokens a one-line text answer may take, by task: the longest answer of the task in the
#: corpora, in the base tokenizer's tokens (tests/test_rewrite_mixture.py holds the table to the
#: committed corpora); the budget is a quarter more, plus 4. Any other text answer: 80.
TEXT_ANSWER_TOKENS = {"glyph_meaning": 39, "glyph_for": 22, "contract_info": 59, "format_info": 49, "expert_info": 35, "routing": 13}  # fmt: skip
#: Tasks answered in two steps through HLXL: the value to HLXL, then HLXL to the target(s).
TWO_HOP_TASKS = ("translate_pair", "all_formats_from")


def text_answer_budget(task: str) -> int:
    """The token budget of a one-line text answer of ``task`` (see :data:`TEXT_ANSWER_TOKENS`)."""
    longest = TEXT_ANSWER_TOKENS.get(task)
    return 80 if longest is None else math.ceil(1.25 * longest) + 4


@dataclass(frozen=True)
class _Plan:
    """How one request is answered, before decoding."""

    expert: str
    route_reason: str
    parsed: Any  # the canonical Instruction
    constraint: AnswerConstraint | None
    max_new_tokens: int
    request: str = ""
    rewrite: Rewrite | None = None
    stop: str | None = None  # where free text ends: a text answer is one line
    first_hop: Instruction | None = None  # a two-step answer: this instruction's answer (HLXL) first
    choices: tuple[str, ...] = ()  # a fix or a question: the answers to choose from (none: decode as usual)
    by_reference: bool = False  # a task no expert learned (Validate, Explain, when to use an expert): the reference answers

    @property
    def route(self) -> str:
        hop = "+hops" if self.first_hop is not None else "+reference" if self.by_reference else ""
        return ("rewrite" if self.rewrite is not None else "direct") + hop

    def result(self, generation: Generation, *, round_trip: bool = False, beam_answer: str | None = None) -> QueryResult:
        """The answer, graded against the reference."""
        graded = grade(self.parsed, generation.text)
        known = graded.reference is not None
        return QueryResult(
            instruction=self.parsed.text,
            answer=generation.text,
            expert=self.expert,
            route_reason=self.route_reason,
            constrained=self.constraint is not None,
            parses=graded.parses,
            matches_reference=graded.exact if known else None,
            same_value=graded.same_value if known else None,
            same_shape=graded.same_shape if known else None,
            wrong_scalars=graded.wrong_scalars,
            reference=graded.reference,
            prompt_tokens=generation.prompt_tokens,
            new_tokens=generation.new_tokens,
            latency_seconds=generation.seconds,
            stop_reason=generation.stop_reason,
            round_trip=round_trip,
            beam_answer=beam_answer,
            request=self.request,
            route=self.route,
            rewrite=self.rewrite.as_dict() if self.rewrite is not None else None,
        )


class HLXMoE:
    """One base model with the coordinator, ascii and runic LoRA adapters (PEFT multi-adapter)."""

    def __init__(
        self,
        loaded: LoadedBase,
        model: Any,
        adapters: dict[str, Path],
        memory: dict[str, int],
        glyphs: GlyphTokens | None = None,
        hex_digit_experts: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        self.base = loaded
        self.model = model
        self.tokenizer = loaded.tokenizer  # the base's own; an expert trained with glyph tokens has its own
        self.adapters = adapters
        self.memory = memory
        self.glyphs = glyphs
        self.hex_digit_experts = set(hex_digit_experts)
        self.decoder = Decoder(model, loaded.tokenizer)
        # one decoder for each way of tokenising the experts use (tokenizer, hex digits apart or not)
        by_tokenisation = {(id(loaded.tokenizer), False): self.decoder}
        self.decoders: dict[str, Decoder] = {}
        for expert in adapters:
            tokenizer = glyphs.tokenizer if glyphs and expert in glyphs.rows else loaded.tokenizer
            key = (id(tokenizer), expert in self.hex_digit_experts)
            if key not in by_tokenisation:
                by_tokenisation[key] = Decoder(model, tokenizer, hex_digits=key[1])
            self.decoders[expert] = by_tokenisation[key]
        self.lean_lora_layers = 0  # LoRA layers running the lean inference forward
        self.row_adapters: RowAdapters | None = None  # what those layers read to run each row of a batch with its own adapter
        self.options = DecodingOptions()  # query()'s defaults
        # the confidence below which a rewrite is refused (the coordinator adapter's, chosen on the validation split)
        self.rewrite_threshold = rewrite_threshold(adapters["coordinator"]) if "coordinator" in adapters else 1.0
        # the experts that learned to complete and fix damaged values (trained with repair rows; set by load)
        self.repair_experts: frozenset[str] = frozenset()
        self._lock = threading.Lock()  # one query at a time: the active adapter is shared state

    @classmethod
    def load(
        cls,
        adapters: str | Path | dict[str, str | Path] | None = None,
        *,
        base: str | None = None,
        quantization: str = "auto",
        device: str | None = None,
        options: DecodingOptions | None = None,
        num_beams: int | None = None,
        round_trip: bool | None = None,
        source_literals: bool | None = None,
        literal_order: bool | None = None,
    ) -> HLXMoE:
        """Load the base once and the three adapters onto it.

        ``adapters``: a folder holding ``coordinator/``, ``ascii/`` and ``runic/`` (default:
        ``$HLX_MOE_ADAPTERS``, else the adapters shipped in the package), or a mapping from
        expert to adapter folder. ``base`` defaults to the base the adapters were trained on
        (their ``adapter_config.json``), else the embedded ``smollm2-135m``. ``options``
        are ``query``'s default :class:`DecodingOptions` (default: greedy, constrained,
        literals from the instruction's value in its order); ``num_beams``,
        ``round_trip``, ``source_literals`` and ``literal_order`` change single fields of them.
        """
        options = (options or DecodingOptions()).replace(
            num_beams=num_beams, round_trip=round_trip, source_literals=source_literals, literal_order=literal_order
        )
        for module in ("torch", "transformers", "peft", "llguidance"):
            _require(module, "the mixture")
        folders = cls._adapter_folders(adapters)
        reports = _training_reports(folders)
        before = _resident_bytes()
        base = base or cls._trained_base(reports)
        with quiet_dependencies():
            loaded = load_base(base, quantization, device)
            base_bytes = _resident_bytes() - before
            glyphs = GlyphTokens.for_adapters(loaded, folders)
            modules = dict(loaded.model.named_modules())
            for expert in EXPERTS:
                check_adapter_shapes(modules, folders[expert], loaded.name)
            model = None
            for expert in EXPERTS:
                model = _load_adapter(model or loaded.model, folders[expert], expert)
        assert model is not None  # EXPERTS is not empty
        model.eval()
        row_adapters = RowAdapters()
        lean_layers = install_lean_lora_forward(model, row_adapters)
        memory = {
            "process_before_bytes": before,
            "base_resident_bytes": base_bytes,
            "mixture_resident_bytes": _resident_bytes() - before,
            "base_parameter_bytes": sum(p.numel() * p.element_size() for p in loaded.model.parameters() if "lora_" not in str(p)),
            "adapter_parameter_bytes": sum(p.numel() * p.element_size() for name, p in model.named_parameters() if "lora_" in name),
        }
        mixture = cls(loaded, model, folders, memory, glyphs, _hex_digit_experts(reports))
        mixture.lean_lora_layers = lean_layers
        mixture.repair_experts = frozenset(_repair_experts(reports))
        mixture.row_adapters = row_adapters if lean_layers else None
        mixture.options = options
        logger.info(
            "loaded the mixture: base %s (%s, %s), adapters %s from %s, in %.1f s",
            loaded.name, loaded.quantization, loaded.device, ", ".join(EXPERTS),
            os.path.commonpath([str(path) for path in folders.values()]), loaded.load_seconds,
        )  # fmt: skip
        return mixture

    @staticmethod
    def _adapter_folders(adapters: str | Path | dict[str, str | Path] | None) -> dict[str, Path]:
        if isinstance(adapters, dict):
            folders = {expert: Path(path) for expert, path in adapters.items()}
        else:
            root = Path(adapters) if adapters is not None else adapters_dir_from_env()
            folders = {expert: root / expert for expert in EXPERTS}
        missing = [f"{expert} ({path})" for expert, path in folders.items() if not (path / "adapter_config.json").exists()]
        if set(folders) != set(EXPERTS) or missing:
            raise BackendUnavailable(
                "the mixture needs three trained adapters (coordinator, ascii, runic); missing: "
                f"{', '.join(missing) or ', '.join(sorted(set(EXPERTS) - set(folders)))}. Train them with "
                "`hlx moe train --expert NAME`, or point HLX_MOE_ADAPTERS at a folder that holds them."
            )
        return folders

    @staticmethod
    def _trained_base(reports: dict[str, dict[str, Any]]) -> str:
        names = {report.get("base", EMBEDDED_BASE) for report in reports.values()}
        if len(names) > 1:
            raise HLXError(f"the adapters were trained on different bases: {sorted(names)}")
        return names.pop() if names else EMBEDDED_BASE

    @property
    def num_beams(self) -> int:
        """The default beam width of :meth:`query` (``options.num_beams``)."""
        return self.options.num_beams

    @property
    def round_trip(self) -> bool:
        """Whether :meth:`query` reranks by the way back by default (``options.round_trip``)."""
        return self.options.round_trip

    @property
    def source_literals(self) -> bool:
        """Whether :meth:`query` draws literals from the instruction by default (``options.source_literals``)."""
        return self.options.source_literals

    @property
    def literal_order(self) -> bool:
        """Whether :meth:`query` keeps the literals' order by default (``options.literal_order``)."""
        return self.options.literal_order

    def footprint(self) -> dict[str, Any]:
        """Memory of the mixture: base and adapter parameters, and resident memory measured at load."""
        return {
            **self.memory,
            "mixture_over_base": round(self.memory["mixture_resident_bytes"] / max(1, self.memory["base_resident_bytes"]), 3),
            "base": self.base.name,
            "quantization": self.base.quantization,
            "device": self.base.device,
            "lean_lora_layers": self.lean_lora_layers,
            "num_beams": self.num_beams,
            "round_trip": self.round_trip,
            "source_literals": self.source_literals,
            "literal_order": self.literal_order,
            "glyph_token_experts": sorted(self.glyphs.rows) if self.glyphs else [],
            "hex_digit_token_experts": sorted(self.hex_digit_experts),
            "adapters": {expert: str(path) for expert, path in self.adapters.items()},
        }

    def query(
        self,
        instruction: str,
        options: DecodingOptions | None = None,
        *,
        constrained: bool | None = None,
        max_new_tokens: int | None = None,
        num_beams: int | None = None,
        round_trip: bool | None = None,
        source_literals: bool | None = None,
        literal_order: bool | None = None,
    ) -> QueryResult:
        """Route, generate once with the chosen adapter (under the answer's grammar when the
        answer is a format and constrained), and grade against the reference.

        ``options`` (default: the mixture's ``options``) say how to decode
        (:class:`~hlx_moe.decoding.options.DecodingOptions`: greedy or a beam search, round-trip
        reranking, literals from the instruction's value and their order, the token budget);
        the keyword arguments change single fields of them.

        A request is read with ``hlx_formats.parse_request``: one it does not read (or reads
        two ways), or whose task the experts were not trained on, raises ``NotUnderstood``
        (an HLXError that says why); one whose value does not parse raises its ParseError."""
        options = (options or self.options).replace(
            constrained=constrained, max_new_tokens=max_new_tokens, num_beams=num_beams,
            round_trip=round_trip, source_literals=source_literals, literal_order=literal_order,
        )  # fmt: skip
        plan = self._plan(instruction, options)
        if plan.by_reference:
            return self._answer_by_reference(plan)
        if plan.first_hop is not None:
            return self._answer_in_two_hops(plan, options)
        return self._answer(plan, options)

    @staticmethod
    def _answer_by_reference(plan: _Plan) -> QueryResult:
        """The reference's answer to an instruction whose task no expert learned (stop reason
        ``"reference"``): the rewrite step understood the request, nothing was learned to answer it."""
        from hlx_formats import translate

        started = time.perf_counter()
        answer = translate(plan.parsed.text)
        return plan.result(Generation(answer, 0, 0, time.perf_counter() - started, False, "reference"))

    def _answer(self, plan: _Plan, options: DecodingOptions) -> QueryResult:
        """Decode and grade the answer ``plan`` describes (one generation, reranked by round
        trip when ``options`` say so)."""
        decoder = self.decoders[plan.expert]
        if plan.choices:
            return plan.result(self._choose_answer(plan))
        with self._lock, quiet_dependencies():
            self.activate(plan.expert)
            generation = decoder.generate(
                prompt_of(plan.parsed.text), constraint=plan.constraint, max_new_tokens=plan.max_new_tokens,
                num_beams=options.num_beams, n_best=options.num_beams if options.round_trip else 1, stop=plan.stop,
            )  # fmt: skip
            reranked, beam_answer = None, generation.text
            if options.round_trip:
                reranked = self._rerank_by_round_trip(plan.parsed, generation, decoder)
                generation = reranked or generation
        return plan.result(generation, round_trip=reranked is not None, beam_answer=beam_answer if reranked is not None else None)

    def _choose_answer(self, plan: _Plan) -> Generation:
        """The expert's choice among ``plan.choices`` (:meth:`Decoder.choose` under a grammar of
        those texts), as a generation (stop reason ``"choice"``)."""
        grammar = choice_grammar(plan.choices)
        with self._lock, quiet_dependencies():
            self.activate(plan.expert)
            choice = self.decoders[plan.expert].choose(prompt_of(plan.parsed.text), grammar, max_new_tokens=plan.max_new_tokens)
        prompt_tokens = len(self.decoders[plan.expert].encode(prompt_of(plan.parsed.text)))
        return Generation(choice.text, prompt_tokens, choice.tokens, choice.seconds, True, "choice")

    def _answer_in_two_hops(self, plan: _Plan, options: DecodingOptions) -> QueryResult:
        """A conversion no single instruction makes (LC-B to LC-R, LC-T to all formats):
        the value to HLXL first, then that HLXL to the target, each by its expert; the
        answer is graded as the answer of the whole instruction."""
        assert plan.first_hop is not None  # only two-step plans come here
        first = self._answer(self._plan_for(plan.first_hop, route_instruction(plan.first_hop.text), options), options)
        hlxl = first.answer.removeprefix(plan.first_hop.prefix)
        if not first.parses:
            raise HLXError(
                f"the first step of {plan.parsed.text[:60]!r} ({plan.first_hop.text[:60]!r}) answered {hlxl[:60]!r}, which does not parse"
            )
        second_text = _second_hop(plan.parsed, hlxl)
        second_plan = self._plan_for(parse_request(second_text).instruction, route_instruction(second_text), options)
        second = self._answer(second_plan, options)
        generation = Generation(
            second.answer, second.prompt_tokens, first.new_tokens + second.new_tokens, first.latency_seconds + second.latency_seconds,
            plan.constraint is not None, second.stop_reason,
        )  # fmt: skip
        return plan.result(generation)

    def rewrite(self, request: str) -> Rewrite:
        """The coordinator's rewrite of ``request`` into a canonical instruction: the most
        probable reading among the rewrites :func:`hlx_formats.rewrites.rewrite_space` allows,
        with its confidence (:mod:`hlx_moe.serving.rewrite`). A request with a value that
        parses in no format is rewritten among the completions and fixes of that value and
        ``Not an HLX request.`` (``Rewrite.broken`` holds the value's error: :meth:`query`
        raises it unless a repair is chosen surely); a request over
        ``hlx_formats.rewrites.MAX_REWRITE_CHARS`` raises HLXError."""
        return self._rewrite_in(rewrite_space(check_request(request)))

    def _rewrite_in(self, space: RewriteSpace) -> Rewrite:
        """:meth:`rewrite` of the request whose rewrites ``space`` lists."""
        decoder = self.decoders["coordinator"]
        with self._lock, quiet_dependencies():
            self.activate("coordinator")
            distribution = choice_distribution(decoder, prompt_of(rewrite_prompt(space.request)), space.candidates)
        return rewrite_from(space, distribution, lambda text: len(decoder.encode(text)))

    def query_batch(
        self, instructions: list[str], options: DecodingOptions | None = None, *, batch_size: int = 32, mix_experts: bool = True
    ) -> list[QueryResult]:
        """:meth:`query` for several requests, answered in batches of ``batch_size``
        (:meth:`Decoder.generate_batch`: left padding, one KV cache, one grammar matcher and
        set of checks per row, rows finishing apart). The requests are taken in their order,
        requests for different experts in one batch: each LoRA layer adds each expert's term
        to that expert's rows, and each row reads its own expert's glyph rows
        (:class:`RowAdapters`, :class:`~hlx_moe.model.glyph_tokens.RowBlocks`), so a batch is
        one forward pass a step whatever its experts. With ``mix_experts=False``, or where the
        experts cannot share a forward pass (PEFT's own LoRA forward, glyph rows within the
        embedding for more than one expert), the requests are grouped by expert instead and
        each group decoded in batches (slower: ``docs/performance.md``, "Batches").

        The results come in the order of ``instructions``, each the answer greedy
        :meth:`query` gives but where a near tie goes the other way (a padded batch sums in
        another order). Every request is read first, so a bad one raises before any decoding;
        a request answered in two steps through HLXL, and every request when ``options`` ask
        for a beam search or round-trip reranking, is answered one at a time.
        ``latency_seconds`` is the time of the batch an answer was in."""
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise HLXError(f"batch_size must be a positive integer, not {batch_size!r}")
        options = options or self.options
        if options.num_beams > 1:
            return [self.query(instruction, options) for instruction in instructions]
        plans = [self._plan(instruction, options) for instruction in instructions]
        results: list[QueryResult | None] = [None] * len(plans)
        for index, plan in enumerate(plans):
            if plan.by_reference:
                results[index] = self._answer_by_reference(plan)
            elif plan.first_hop is not None:
                results[index] = self._answer_in_two_hops(plan, options)
            elif plan.choices:
                results[index] = plan.result(self._choose_answer(plan))
        waiting = [index for index, plan in enumerate(plans) if results[index] is None]
        if mix_experts and self._mixes({plans[index].expert for index in waiting}):
            by_expert = lambda index: EXPERTS.index(plans[index].expert)  # each expert's rows together
            batches = [sorted(waiting[first : first + batch_size], key=by_expert) for first in range(0, len(waiting), batch_size)]
        else:
            batches = []
            for expert in EXPERTS:
                indices = [index for index in waiting if plans[index].expert == expert]
                batches += [indices[first : first + batch_size] for first in range(0, len(indices), batch_size)]
        for batch in batches:
            for index, generation in zip(batch, self._decode_batch([plans[index] for index in batch])):
                results[index] = plans[index].result(generation)
        return [result for result in results if result is not None]

    def _mixes(self, experts: set[str]) -> bool:
        """Whether requests for ``experts`` can share one forward pass (see :meth:`query_batch`)."""
        if len(experts) < 2:
            return True
        return self.row_adapters is not None and (self.glyphs is None or self.glyphs.mixes(experts))

    def _decode_batch(self, plans: list[_Plan]) -> list[Generation]:
        """One batch of :meth:`query_batch`: one expert's requests with its adapter and glyph
        rows active, or requests of several, each row with its own."""
        experts = [plan.expert for plan in plans]
        decoders = [self.decoders[expert] for expert in experts]
        arguments = (
            [prompt_of(plan.parsed.text) for plan in plans], [plan.constraint for plan in plans],
            [plan.max_new_tokens for plan in plans], [plan.stop for plan in plans],
        )  # fmt: skip
        with self._lock, quiet_dependencies():
            if len(set(experts)) == 1:
                self.activate(experts[0])
                return decoders[0].generate_batch(*arguments)
            if self.glyphs is not None and self.glyphs.blocks is None:  # at most one of them has glyph rows
                for expert in set(experts) & set(self.glyphs.rows):
                    self.glyphs.activate(expert)
            try:
                return decoders[0].generate_batch(
                    *arguments, decoders=decoders, on_rows=lambda live: self._assign_rows([experts[index] for index in live])
                )
            finally:
                self._assign_rows(None)

    def _assign_rows(self, experts: list[str] | None) -> None:
        """Run each row of the next forward pass with its expert's adapter and glyph rows
        (``experts``: one per row, each expert's rows best together), or (None) every row with
        the active ones again."""
        import torch

        assert self.row_adapters is not None  # only a mixture whose experts can share a pass mixes them
        groups = None
        if experts is not None:
            groups = []
            for expert in dict.fromkeys(experts):
                positions = [position for position, name in enumerate(experts) if name == expert]
                together = positions[-1] - positions[0] + 1 == len(positions)
                groups.append((expert, slice(positions[0], positions[-1] + 1) if together else torch.tensor(positions)))
        self.row_adapters.assign(groups, len(experts or ()))
        if self.glyphs is not None:
            self.glyphs.assign(experts)

    def understand(self, request: str) -> tuple[Route, Rewrite | None]:
        """How the mixture reads ``request``, before any threshold: the router's decision when
        the request description reads it, else the coordinator's rewrite and the router's
        decision on that (on the request itself when the rewrite is ``NOT_A_REQUEST``). A value
        that parses in no format in a request the description reads raises its ParseError,
        unless the description read words as (part of) the value (``what is contrct 14``, ``put
        [1] over to lc t``: rewritten) or the request asks to validate it (the reference
        answers); in a request it does not read, the rewrite chooses among its repairs
        (``Rewrite.broken``)."""
        check_request(request)
        space = None  # the request's rewrites, when finding its values already listed them
        try:
            decision = route_instruction(request)
        except ParseError as error:
            if not _words_read_as_value(error):
                space = _space_with_values(request)
            if _words_read_as_value(error) or space is not None:
                decision = Route("coordinator", "words were read as part of the value", None, read=False)
            elif parse_request(request).instruction.form.task.startswith("validate"):
                decision = Route("reference", "a validate request: the reference reports what is wrong", None)
            else:
                raise  # a value that does not parse is refused, as the reference refuses it
        if decision.read:
            return decision, None
        rewrite = self._rewrite_in(space) if space is not None else self.rewrite(request)
        return (route_instruction(rewrite.instruction) if rewrite.is_request else decision), rewrite

    def _plan(self, instruction: str, options: DecodingOptions) -> _Plan:
        """How ``instruction`` is answered: its expert, canonical instruction, constraint and
        token budget, through the rewrite step when the request description does not read
        it; NotUnderstood or the value's ParseError where it cannot be answered."""
        decision, rewrite = self.understand(instruction)
        if rewrite is not None:
            threshold = options.rewrite_threshold if options.rewrite_threshold is not None else self.rewrite_threshold
            shown = instruction.strip()[:60]
            if rewrite.broken is not None and (not rewrite.is_request or rewrite.confidence < threshold):
                raise rewrite.broken  # no repair asked (surely): refused with the value's error, as the reference refuses it
            if not rewrite.is_request:
                raise NotUnderstood(
                    f"{shown!r} reads as no HLX request (confidence {rewrite.confidence:.2f})",
                    rewrite=rewrite.instruction, confidence=rewrite.confidence,
                )  # fmt: skip
            if rewrite.confidence < threshold:
                raise NotUnderstood(
                    f"not sure what {shown!r} asks: the best reading, {rewrite.instruction!r}, has confidence "
                    f"{rewrite.confidence:.2f}, below the threshold {threshold:.2f}; write it as that instruction if it is what you mean",
                    rewrite=rewrite.instruction, confidence=rewrite.confidence,
                )  # fmt: skip
        parsed = decision.instruction
        if parsed is None:
            read = _read(rewrite.instruction if rewrite else instruction)
            task = read.form.task if read is not None else None
            if read is not None and task in TWO_HOP_TASKS:
                plan = self._plan_for(read, Route("coordinator", "two steps through HLXL", read), options)
                return dataclasses.replace(
                    plan, request=instruction, rewrite=rewrite, first_hop=parse_request(_first_hop(read)).instruction
                )
            if read is not None and task not in LEARNED_TASKS and task not in REPAIR_TASKS:  # the reference answers it
                return _Plan("reference", decision.reason, read, None, 0, request=instruction, rewrite=rewrite, by_reference=True)
            # Nothing to answer it with that could be checked: say so rather than free text.
            understood = f" (understood as {rewrite.instruction!r})" if rewrite else ""
            raise NotUnderstood(
                f"the mixture does not answer {instruction.strip()[:60]!r}{understood}: {decision.reason}",
                rewrite=rewrite.instruction if rewrite else None, confidence=rewrite.confidence if rewrite else None,
            )  # fmt: skip
        return dataclasses.replace(self._plan_for(parsed, decision, options), request=instruction, rewrite=rewrite)

    def answers(self, instruction: str) -> bool:
        """Whether the mixture answers ``instruction`` (a canonical instruction): its task is
        one the experts learned, a conversion it makes in two steps, a task the reference
        answers for it, or a completion or fix its expert learned."""
        parsed = match_instruction(instruction)
        if parsed is None:
            return False
        if parsed.form.task in REPAIR_TASKS:
            return route_instruction(instruction).expert in self.repair_experts
        return True

    def _plan_for(self, parsed: Instruction, decision: Route, options: DecodingOptions) -> _Plan:
        """The constraint (a format answer) or stop and budget (a text answer) of ``parsed``."""
        if parsed.form.task in REPAIR_TASKS:
            return self._repair_plan(parsed, decision, options)
        constraint = None
        if options.constrained and parsed.answers_in_format:
            literals = order = None
            if options.source_literals and parsed.value_text is not None and parsed.source_format is not None:
                literals = literals_in(parsed.value_text, parsed.source_format)
            if options.literal_order and parsed.value_text is not None and parsed.source_format is not None:
                order = literals_in_order(parsed.value_text, parsed.source_format)
            constraint = AnswerConstraint(parsed.target_format, parsed.prefix, literals, order)
        if not parsed.answers_in_format:
            budget = options.max_new_tokens or text_answer_budget(parsed.form.task)
            choices = (answer_choices(parsed) if options.constrained else None) or ()
            if choices:  # a choice is never cut short
                budget = max(budget, max(len(self.decoders[decision.expert].encode(choice)) for choice in choices) + 1)
            return _Plan(decision.expert, decision.reason, parsed, None, budget, stop="\n", choices=choices)
        budget = options.max_new_tokens or self._token_budget(parsed, self.decoders[decision.expert])
        return _Plan(decision.expert, decision.reason, parsed, constraint, budget)

    def _repair_plan(self, parsed: Instruction, decision: Route, options: DecodingOptions) -> _Plan:
        """A completion or fix: a whole value of the named format, decoded under its grammar (no
        literals restricted: the given text is damaged, and the answer needs what it lacks); a
        completion starts with the given text. A fix is chosen by the expert among the canonical
        texts one edit (deletion, insertion, neighbour swap: the task's typo) from the given one
        that parse, and decoded under the grammar where there is none. NotUnderstood where the
        expert did not learn the task; HLXError where the given text cannot begin a value."""
        task = "complete" if parsed.form.task == "complete" else "fix"
        if decision.expert not in self.repair_experts:
            raise NotUnderstood(
                f"the {decision.expert} expert was not trained to {task} values ({parsed.text[:60]!r}): "
                "its adapter's training had no repair rows (hlx moe train --set repairs=true)"
            )
        constraint, choices = None, list[str]()
        if options.constrained:
            given = parsed.value_text or ""
            constraint = AnswerConstraint(parsed.target_format, start=given if task == "complete" else "")
            self.decoders[decision.expert].check_start(constraint)
            if task == "fix":
                choices = one_edit_fixes(given, parsed.target_format, canonical=True)
        budget = options.max_new_tokens or self._token_budget(parsed, self.decoders[decision.expert])
        return _Plan(decision.expert, decision.reason, parsed, constraint, budget, choices=tuple(choices))

    def _rerank_by_round_trip(self, parsed: Any, generation: Generation, decoder: Decoder) -> Generation | None:
        """``generation`` with the text of the candidate with the highest sum of its own
        log-probability and its ways back's (``round_trip.reverse_queries``, each scored by
        the expert the way back is routed to) and the time this took added; None (nothing to
        rerank) unless at least two candidates have a way back."""
        started = time.perf_counter()
        scored = []
        for text, log_probability in generation.candidates:
            ways_back = reverse_queries(parsed, text)
            for back, expected in ways_back:
                route = route_instruction(back)
                assert route.instruction is not None  # a way back is a well-formed instruction
                self.activate(route.expert)
                log_probability += self.decoders[route.expert].score(prompt_of(route.instruction.text), expected)
            if ways_back:
                scored.append((log_probability, text))
        if len(scored) < 2:
            return None
        best = max(scored, key=lambda candidate: candidate[0])[1]  # the first of equals: the beams' order
        new_tokens = generation.new_tokens
        if best != generation.text:
            new_tokens = len(decoder.encode(best))
        return dataclasses.replace(generation, text=best, new_tokens=new_tokens, seconds=generation.seconds + time.perf_counter() - started)

    def activate(self, expert: str) -> None:
        """Make ``expert``'s adapter (and glyph rows, if it has them) the active one."""
        self.model.set_adapter(expert)
        if self.glyphs is not None:
            self.glyphs.activate(expert)

    def _token_budget(self, parsed: Any, decoder: Decoder | None = None) -> int:
        """A cap on new tokens from the value's length in the instruction (in tokens): twice
        it plus 16, at least 32, for one format (one plus the tokens of a glyph times it for
        an LC-R answer: four times where the glyphs are byte-level pieces, twice where they are
        tokens), and five times it plus 64, at least 128, for an all-formats answer (four
        values and their labels). Every answer of the corpora fits (the longest all-formats
        answer needs 4.1 times plus 64, the LC-R answer of a deep value of small scalars 3.2
        times plus 16 with the glyphs in pieces); a cap much above that only lets an answer
        that runs away run longer. The value is tokenised as ``decoder`` (default: the
        base's) reads it."""
        if parsed is None or parsed.value_text is None:
            return 128
        decoder = decoder or self.decoder
        estimate = len(decoder.encode(parsed.value_text))
        if parsed.target_format == "all":
            return max(128, 5 * estimate + 64)
        glyph_tokens = len(decoder.encode("🜃"))  # the array start: 3 byte-level pieces, or 1 token
        scale = 1 + glyph_tokens if parsed.target_format == "lc-r" else 2
        return max(32, scale * estimate + 16)

    def translate(self, text: str, to: str | None = None) -> str:
        """``hlx_formats.translate(..., backend="moe")``: the answer through the mixture, unless
        its own grading rejects it (:func:`checked_answer`: ``WrongAnswer``)."""
        check_request(text)
        if to is not None:
            from hlx_formats import detect_format
            from hlx_formats.instructions import instruction_for

            instruction = instruction_for(detect_format(text), to, text)
            if instruction is None:  # no single instruction goes there: through HLXL, as two queries
                return self.translate(self.translate(text, "hlxl"), to)
            return checked_answer(self.query(instruction)).removeprefix("HLXL: ")
        return checked_answer(self.query(text))

    def translate_many(self, texts: list[str], to: str | None = None, *, batch_size: int = 32) -> list[str]:
        """:meth:`translate` for several texts, answered in batches (:meth:`query_batch`)."""
        if to is None:
            return [checked_answer(result) for result in self.query_batch(texts, batch_size=batch_size)]
        from hlx_formats import detect_format
        from hlx_formats.instructions import instruction_for

        instructions = [instruction_for(detect_format(check_request(text)), to, text) for text in texts]
        if any(instruction is None for instruction in instructions):  # no single instruction goes there: through HLXL
            return self.translate_many(self.translate_many(texts, "hlxl", batch_size=batch_size), to, batch_size=batch_size)
        results = self.query_batch([instruction for instruction in instructions if instruction is not None], batch_size=batch_size)
        return [checked_answer(result).removeprefix("HLXL: ") for result in results]


def _words_read_as_value(error: ParseError) -> bool:
    """Whether the request description read words as the value (``what is contrct 14``:
    "contrct 14"): the value fails at its first character, a letter that starts no literal.
    Such a request goes to the rewrite step; any other value that does not parse is refused."""
    written = error.excerpt.split("\n")[0].strip()
    return error.offset == 0 and written[:1].isalpha() and re.match(r'(?:null|true|false|NULL|TRUE|FALSE|b")', written) is None


def _read(text: str) -> Instruction | None:
    """The instruction the request description reads in ``text`` (None where it reads none)."""
    try:
        return parse_request(text).instruction
    except HLXError:
        return None


def _space_with_values(request: str) -> RewriteSpace | None:
    """The rewrites of ``request`` when it writes values and no broken one
    (:func:`~hlx_formats.rewrites.values_in`), else None: where the request description's
    reading of it failed, words around a value were read as part of it (``put [1] over to lc
    t``), and the rewrite step reads it instead."""
    try:
        space = rewrite_space(request)
    except HLXError:
        return None
    return space if space.broken is None and space.values else None


def _first_hop(parsed: Instruction) -> str:
    """The first step of a two-step conversion: the value to HLXL."""
    assert parsed.source_format is not None and parsed.value_text is not None  # a conversion has a value
    found = instruction_for(parsed.source_format, "hlxl", parsed.value_text)
    assert found is not None  # every format has a "Parse F:" instruction
    return found


def _second_hop(parsed: Instruction, hlxl: str) -> str:
    """The second step of a two-step conversion: the first step's HLXL to the target(s)."""
    if parsed.target_format == "all":
        return f"Translate HLXL to all formats: {hlxl}"
    found = instruction_for("hlxl", parsed.target_format, hlxl)
    assert found is not None  # from HLXL, every format has one instruction
    return found


#: Longest request (characters) that the mixture reads; it is checked before any routing or
#: tokenisation. The experts were trained on requests of a few hundred characters, and the
#: base's context holds 8,192 tokens, prompt and answer together.
MAX_REQUEST_CHARS = 8192

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_request(text: Any) -> str:
    """``text`` if the mixture can read it: a non-empty ``str`` of at most MAX_REQUEST_CHARS
    characters without lone surrogates (which no tokenizer encodes); else an HLXError."""
    if not isinstance(text, str):
        raise HLXError(f"an instruction must be str, not {type(text).__name__}")
    if len(text) > MAX_REQUEST_CHARS:
        raise HLXError(f"the request has {len(text)} characters; the mixture reads at most {MAX_REQUEST_CHARS}")
    if not text.strip():
        raise HLXError("the request is empty")
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found:
            raise HLXError(f"the request has a lone surrogate U+{ord(found.group()):04X} at index {found.start()}")
    return text


def adapter_metadata(adapters: str | Path | dict[str, str | Path] | None = None) -> dict[str, Any]:
    """What the mixture's adapters say of themselves (the base they name, and for each
    expert its folder, LoRA rank and alpha, target modules, weight file size, training steps,
    token additions, final validation loss and corpus hash), read from their files without
    loading any weights; ``adapters`` is found as :meth:`HLXMoE.load` finds it."""
    folders = HLXMoE._adapter_folders(adapters)
    reports = _training_reports(folders)
    experts: dict[str, Any] = {}
    for expert, folder in folders.items():
        try:
            config = json.loads((folder / "adapter_config.json").read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise HLXError(f"{folder / 'adapter_config.json'}: unreadable ({error})") from None
        report = reports.get(expert, {})
        preset = report.get("preset") or {}
        weights = folder / "adapter_model.safetensors"
        experts[expert] = {
            "folder": str(folder),
            "r": config.get("r"),
            "lora_alpha": config.get("lora_alpha"),
            "target_modules": sorted(config.get("target_modules") or []),
            "weights_bytes": weights.stat().st_size if weights.exists() else None,
            "steps": report.get("steps"),
            "glyph_tokens": bool(preset.get("glyph_tokens")),
            "hex_digit_tokens": bool(preset.get("hex_digit_tokens")),
            "final_validation_loss": report.get("final_validation_loss"),
            "corpus_sha256": report.get("corpus_sha256"),
        }
    return {"base": HLXMoE._trained_base(reports), "adapters": experts}


def _training_reports(folders: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Each expert's ``training_report.json``, for the adapters that have one (an unreadable
    one is an HLXError naming the file)."""
    reports = {expert: read_training_report(folder) for expert, folder in folders.items()}
    return {expert: report for expert, report in reports.items() if report is not None}


def _repair_experts(reports: dict[str, dict[str, Any]]) -> set[str]:
    """The experts whose adapter's last training run had repair rows (``repairs`` in the
    preset of its training report): those answer ``Complete this``/``Fix this``."""
    return {expert for expert, report in reports.items() if report.get("preset", {}).get("repairs")}


def _hex_digit_experts(reports: dict[str, dict[str, Any]]) -> set[str]:
    """The experts whose adapter was trained with hex digits as single tokens (the
    ``hex_digit_tokens`` field of the preset in its training report)."""
    return {expert for expert, report in reports.items() if report.get("preset", {}).get("hex_digit_tokens")}


def check_adapter_shapes(modules: dict[str, Any], folder: Path, base_name: str) -> None:
    """An HLXError unless every tensor of the adapter in ``folder`` fits the base whose
    modules are ``modules`` (its ``named_modules()``): each LoRA matrix its layer's
    input and output sizes, each added token row the embedding width. The base an adapter
    loads onto is named by its own files, so a wrong one is told apart here, by name and
    tensor, before any adapter weight is loaded."""
    from safetensors import SafetensorError, safe_open

    path = folder / "adapter_model.safetensors"
    try:
        weights = safe_open(str(path), framework="pt")
        shapes = {key: list(weights.get_slice(key).get_shape()) for key in weights.keys()}
    except (OSError, SafetensorError) as error:
        raise HLXError(f"{path}: not a readable adapter ({error})") from None
    for key, shape in shapes.items():
        name = key.removeprefix("base_model.model.")
        module_name, _, kind = name.rpartition(".")[0].rpartition(".")
        if kind not in ("lora_A", "lora_B") and not name.endswith("trainable_tokens_delta"):
            continue
        if name.endswith("trainable_tokens_delta"):
            module_name, kind = name.split(".token_adapter.")[0], "tokens"
        module = modules.get(module_name)
        expected = _expected_shape(module, kind, shape)
        if expected is None or expected != shape:
            found = "no such module" if module is None else f"expected {expected}"
            raise HLXError(
                f"{folder}: the adapter does not fit the base {base_name}: {key} has shape {shape}, {found} "
                "(the adapter was trained on another base; pass --base or fix its training_report.json)"
            )


def _expected_shape(module: Any, kind: str, shape: list[int]) -> list[int] | None:
    """The shape ``module`` of the base gives a LoRA matrix (``lora_A``: rank x input,
    ``lora_B``: output x rank) or the added token rows (rows x embedding width)."""
    if module is None or len(shape) != 2:
        return None
    if kind == "tokens":
        width = getattr(module, "embedding_dim", None)
        return [shape[0], width] if isinstance(width, int) else None
    inputs, outputs = getattr(module, "in_features", None), getattr(module, "out_features", None)
    if not isinstance(inputs, int) or not isinstance(outputs, int):
        return None
    return [shape[0], inputs] if kind == "lora_A" else [outputs, shape[1]]


def _load_adapter(model: Any, folder: Path, expert: str) -> Any:
    """``model`` (a base, or the PEFT model of the experts loaded so far) with the adapter in
    ``folder`` loaded as ``expert``. The LoRA weights only: an adapter's glyph rows are the
    mixture's to swap (:class:`GlyphTokens`), since PEFT cannot hold trainable tokens for some
    adapters of one model and not for others."""
    import peft

    config = adapter_config(folder, trainable_token_indices=None, inference_mode=True)
    if not isinstance(model, peft.PeftModel):
        return peft.PeftModel.from_pretrained(model, str(folder), adapter_name=expert, config=config)
    model.add_adapter(expert, config)
    model.load_adapter(str(folder), adapter_name=expert)
    return model


@dataclass
class GlyphTokens:
    """The glyph tokens of a mixture in which some experts were trained with them
    (``hlx_moe.glyph_tokens``): the base's tokenizer with the glyphs added, and each such
    expert's trained rows, written into the shared embedding when it is chosen."""

    tokenizer: Any
    ids: list[int]
    rows: dict[str, Any]  # expert -> one row per glyph id
    table: Any  # the tensor the model reads the glyph rows from (hlx_moe.glyph_tokens.add_glyph_rows)
    first_id: int  # the token id of the table's first row
    # Where the rows of a batch that mixes experts read each its own expert's glyph rows (a
    # block per expert with them); None where the glyph rows are within the embedding.
    blocks: RowBlocks | None = None
    offsets: dict[str, int] = dataclasses.field(default_factory=dict)  # expert -> its block's first row

    @classmethod
    def for_adapters(cls, loaded: LoadedBase, folders: dict[str, Path]) -> GlyphTokens | None:
        """None when no adapter has glyph rows; else the base grows the glyph tokens' rows."""
        import copy

        found = {expert: glyph_rows(folder) for expert, folder in folders.items()}
        trained = {expert: rows for expert, rows in found.items() if rows is not None}
        if not trained:
            return None
        tokenizer = copy.deepcopy(loaded.tokenizer)
        ids, table, first_id = add_glyph_rows(tokenizer, loaded.model)
        for expert, (saved_ids, _) in trained.items():
            if saved_ids != ids:
                raise HLXError(
                    f"the {expert} adapter's glyph tokens have ids {saved_ids}, but adding the glyphs to "
                    f"the base's tokenizer gives {ids}: it was trained on another tokenizer"
                )
        glyphs = cls(tokenizer, ids, {expert: rows for expert, (_, rows) in trained.items()}, table, first_id)
        glyphs.blocks = row_blocks(loaded.model)
        if glyphs.blocks is not None:
            import torch

            glyphs.offsets = {expert: position * len(ids) for position, expert in enumerate(glyphs.rows)}
            glyphs.blocks.table = torch.cat([rows.to(device=table.device, dtype=table.dtype) for rows in glyphs.rows.values()])
        return glyphs

    def mixes(self, experts: set[str]) -> bool:
        """Whether rows of ``experts`` can share one forward pass: each reads its own block of
        glyph rows, or at most one of them has glyph rows."""
        return self.blocks is not None or len(experts & set(self.rows)) <= 1

    def assign(self, experts: list[str] | None) -> None:
        """Let each row of the next forward pass read the glyph rows of its expert
        (``experts``, one per row), or (None) every row the active ones. An expert without
        glyph rows never reads the glyph tokens (its rows read the first block)."""
        if self.blocks is None:
            return
        if experts is None:
            self.blocks.offsets = None
            return
        import torch

        self.blocks.offsets = torch.tensor([self.offsets.get(expert, 0) for expert in experts], device=self.table.device)

    def activate(self, expert: str) -> None:
        """Write ``expert``'s glyph rows where the embedding and the tied output layer read
        them. An expert without them uses the base's tokenizer, which never reads the glyph
        tokens, and its decoder never writes them."""
        import torch

        rows = self.rows.get(expert)
        if rows is None:
            return
        with torch.no_grad():
            self.table[[token - self.first_id for token in self.ids]] = rows.to(device=self.table.device, dtype=self.table.dtype)


_SHARED: HLXMoE | None = None
_SHARED_LOCK = threading.Lock()


def shared_mixture() -> HLXMoE:
    """The process-wide mixture used by ``translate(..., backend="moe")``, built on first use."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = HLXMoE.load()
        return _SHARED


class _MoEBackend:
    """The ``moe`` backend of ``hlx_formats.translate`` (entry point ``hlx.backends``): a call
    answers one text, ``many`` several in batches (``hlx_formats.translate_many``)."""

    def __call__(self, text: str, to: str | None = None) -> str:
        return shared_mixture().translate(text, to)

    def many(self, texts: list[str], to: str | None = None) -> list[str]:
        return shared_mixture().translate_many(texts, to)


translate_with_moe = _MoEBackend()
