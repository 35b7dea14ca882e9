"""``hlx moe export OUT [--merged]``: the mixture as folders a serving engine loads.

Without ``merged``::

    OUT/base/                      the embedded base with the 17 glyph tokens in its vocabulary
                                   (rows: GLYPH_ROWS_DEFAULT's), safetensors, tokenizer
    OUT/adapters/<expert>/         plain LoRA adapters (no trainable-token delta), each with the
                                   tokenizer its expert reads prompts with
    OUT/grammars/                  the canonical grammars, one Lark file per answer, tasks.json
    OUT/README.md

which vLLM's multi-LoRA serves (``--enable-lora --lora-modules coordinator=OUT/adapters/coordinator
...``). Each expert trained its own 17 glyph rows; one base vocabulary holds one set, so the
export writes one expert's rows (``glyph_rows``) and the others read and write the glyphs
with them (docs/moe.md, "Serving", says what that costs). With ``merged``, ``OUT/<expert>/``
is one full model per expert, LoRA merged into the weights and its own glyph rows.

:func:`greedy_answer` decodes as a server does: plain ``transformers``, the prompt tokenised
by the folder's tokenizer, each token masked by llguidance under an exported Lark grammar.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hlx_formats._atomic import atomic_write_text
from hlx_formats.errors import HLXError
from hlx_formats.grammar import FORMAT_TITLES, grammar_text
from hlx_formats.instructions import ALL_FORMATS_ORDER
from hlx_moe.corpus import prompt_of
from hlx_moe.decoding.constraints import answer_end_ids
from hlx_moe.model.base import EMBEDDED_BASE, load_base, logger, quiet_dependencies
from hlx_moe.model.cards import read_training_report
from hlx_moe.model.glyph_tokens import GLYPH_TOKENS, adapter_config, glyph_rows
from hlx_moe.model.tokenizer_files import TRAINED_EOS, save_standalone_tokenizer

__all__ = [
    "GLYPH_ROWS_DEFAULT",
    "GRAMMAR_FILES",
    "answer_lark",
    "task_grammars",
    "write_grammars",
    "export",
    "greedy_answer",
    "ServedAnswer",
]

#: Whose glyph rows the shared base of a non-merged export holds (measured: docs/moe.md, "Serving").
GLYPH_ROWS_DEFAULT = "runic"
#: The file of each answer grammar: its target format (or ``all``) and prefix.
GRAMMAR_FILES = {
    ("hlxl", ""): "answer-hlxl.lark",
    ("hlxl", "HLXL: "): "answer-parse.lark",
    ("lc-t", ""): "answer-lct.lark",
    ("lc-r", ""): "answer-lcr.lark",
    ("lc-b", ""): "answer-lcb.lark",
    ("all", ""): "answer-all.lark",
}
_NAMESPACE = {"hlxl": "hlxl", "lc-t": "lct", "lc-r": "lcr", "lc-b": "lcb"}
# Lark text, piece by piece: comments, strings, regexes, names, anything else.
_LARK_PIECE = re.compile(r'//[^\n]*|"(?:\\.|[^"\\\n])*"i?|/(?:\\.|[^/\\\n])+/[imslux]*|[A-Za-z_][A-Za-z0-9_]*|.', re.DOTALL)


def _namespaced(grammar: str, namespace: str) -> str:
    """``grammar`` with every rule and terminal name prefixed (``value`` -> ``lct_value``,
    ``INT`` -> ``LCT_INT``), comments dropped, so that several formats share one Lark file."""
    pieces = []
    for match in _LARK_PIECE.finditer(grammar):
        piece = match.group()
        if piece.startswith("//"):
            continue
        if piece[0].isalpha() or piece[0] == "_":
            piece = f"{namespace.upper()}_{piece}" if piece.isupper() or piece.lstrip("_")[:1].isupper() else f"{namespace}_{piece}"
        pieces.append(piece)
    return re.sub(r"\n\s*\n+", "\n", "".join(pieces)).strip() + "\n"


def answer_lark(target: str, prefix: str = "") -> str:
    """One self-contained Lark grammar (as vLLM's ``structured_outputs.grammar`` takes it) of
    an answer: ``prefix`` then a canonical ``target`` value, or the four labelled lines of an
    all-formats answer. The same language as the mixture's constraint without its literal checks
    (:func:`hlx_moe.decoding.constraints.answer_grammar` with no literals)."""
    if target == "all":
        labels = [("\n" if position else "") + FORMAT_TITLES[fmt] + ": " for position, fmt in enumerate(ALL_FORMATS_ORDER)]
        parts = [f"{json.dumps(label)} {_NAMESPACE[fmt]}_start" for label, fmt in zip(labels, ALL_FORMATS_ORDER)]
        formats: tuple[str, ...] = tuple(ALL_FORMATS_ORDER)
    else:
        parts = [*([json.dumps(prefix)] if prefix else []), f"{_NAMESPACE[target]}_start"]
        formats = (target,)
    body = [_namespaced(grammar_text(fmt, canonical=True), _NAMESPACE[fmt]) for fmt in formats]
    return "start: " + " ".join(parts) + "\n" + "".join(body)


# One request of each answer form the experts learned (the router names its task and expert).
_FORMS = (
    "Convert to LC-R: [1]", "Convert to LC-T: [1]", "Convert to LC-B: [1]",
    "Translate HLXL to LC-R: [1]", "Translate HLXL to LC-T: [1]", "Translate HLXL to LC-B: [1]",
    "Translate HLXL to all formats: [1]", "Parse LC-R: 🜃1🜄", "Parse LC-T: [1]", "Parse LC-B: [[0x01]]",
    "Convert this to Runic glyphs: [1]", "Convert this to text-safe format: 🜃1🜄",
    "Encode a transform operation on cache in LC-R", "Encode a transform operation on cache in LC-T",
    "Encode a transform operation on cache in LC-B", "Encode a transform operation on cache in HLXL", "If ast then x",
    "What is contract 1000?", "Describe the LC-B format.", "What does 🜄 mean in LC-R?",
    "What is the LC-R glyph for bytes prefix?", "Which expert handles LC-R?", "Which expert answers: Convert to LC-B: [1]",
)  # fmt: skip


def task_grammars() -> dict[str, Any]:
    """What ``grammars/tasks.json`` holds: the prompt template, and for each task the router
    knows (and source and target format) its expert, answer prefix and grammar file (None:
    a free-text answer, decoded without a grammar)."""
    from hlx_moe.serving.router import route_instruction

    tasks = []
    for request in _FORMS:
        route = route_instruction(request)
        parsed = route.instruction
        if parsed is None:
            raise HLXError(f"export: the router does not answer {request!r}: {route.reason}")
        grammar = GRAMMAR_FILES[(parsed.target_format, parsed.prefix)] if parsed.answers_in_format else None
        entry = {
            "task": parsed.form.task,
            "source_format": parsed.source_format,
            "target_format": parsed.target_format if parsed.answers_in_format else "text",
            "expert": route.expert,
            "prefix": parsed.prefix,
            "grammar": grammar,
            "example": request,
        }
        if entry not in tasks:
            tasks.append(entry)
    return {
        "prompt": prompt_of("{instruction}"),
        "canonical_instruction": "hlx_formats.parse_request(text).instruction.text (the router's reading of a request)",
        "tasks": tasks,
    }


def write_grammars(folder: Path) -> list[Path]:
    """Write the canonical format grammars (``hlxl.lark``, ``lct.lark``, ``lcr.lark``,
    ``lcb.lark``), one self-contained Lark file per answer (:data:`GRAMMAR_FILES`) and
    ``tasks.json`` (:func:`task_grammars`) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, name in _NAMESPACE.items():
        paths.append(folder / f"{name}.lark")
        atomic_write_text(paths[-1], grammar_text(fmt, canonical=True))
    for (target, prefix), name in GRAMMAR_FILES.items():
        paths.append(folder / name)
        atomic_write_text(paths[-1], answer_lark(target, prefix))
    paths.append(folder / "tasks.json")
    atomic_write_text(paths[-1], json.dumps(task_grammars(), indent=2, ensure_ascii=False) + "\n")
    return paths


def _adapter_folders(adapters: Path | None) -> dict[str, Path]:
    from hlx_moe.serving.mixture import HLXMoE

    return HLXMoE._adapter_folders(adapters)


def _hex_digit_experts(folders: dict[str, Path]) -> set[str]:
    return {
        expert for expert, folder in folders.items() if ((read_training_report(folder) or {}).get("preset") or {}).get("hex_digit_tokens")
    }


def _base_with_glyph_rows(base: str, rows: Any | None) -> Any:
    """The base (float32, CPU) with rows for the glyph tokens, written from ``rows``
    (None: the base has no glyph tokens), and the answer's end tokens in its generation config."""
    import torch

    loaded = load_base(base, "none", "cpu")
    model = loaded.model
    if rows is not None:
        ids, values = rows
        first = model.get_input_embeddings().weight.shape[0]
        if list(ids) != list(range(first, first + len(GLYPH_TOKENS))):
            raise HLXError(f"export: the glyph tokens have ids {ids[0]}..{ids[-1]}, not the ones after the base's {first} rows")
        model.resize_token_embeddings(first + len(ids), mean_resizing=False)
        with torch.no_grad():
            model.get_input_embeddings().weight[ids] = values.to(torch.float32)
    end = loaded.tokenizer.convert_tokens_to_ids(TRAINED_EOS)
    ends = [end, *sorted(answer_end_ids(loaded.tokenizer) - {end})]  # and the next turn's start, as the mixture stops
    model.generation_config.eos_token_id = ends
    model.generation_config.pad_token_id = loaded.tokenizer.eos_token_id
    model.config.eos_token_id = ends[0]
    return loaded


def _shared_rows(found: dict[str, Any], glyph_rows_from: str) -> Any | None:
    """The glyph rows of the shared base: one expert's, or their mean (``mean``)."""
    trained = {expert: rows for expert, rows in found.items() if rows is not None}
    if not trained:
        return None
    if glyph_rows_from == "mean":
        import torch

        ids = next(iter(trained.values()))[0]
        return ids, torch.stack([rows.float() for _, rows in trained.values()]).mean(dim=0)
    if glyph_rows_from not in trained:
        raise HLXError(f"export: --glyph-rows {glyph_rows_from!r}: expected mean or one of {', '.join(sorted(trained))}")
    return trained[glyph_rows_from]


def export(
    out: Path,
    adapters: Path | None = None,
    *,
    merged: bool = False,
    glyph_rows_from: str = GLYPH_ROWS_DEFAULT,
    base: str | None = None,
) -> dict[str, Any]:
    """Write the export (module docstring) into ``out`` and return what was written (also
    ``out/export.json``). ``adapters``: as :meth:`HLXMoE.load` finds them; ``base``: the
    base they were trained on (default: their reports')."""
    import peft
    from safetensors.torch import load_file, save_file

    folders = _adapter_folders(adapters)
    reports = {expert: read_training_report(folder) or {} for expert, folder in folders.items()}
    base = base or next(iter({report.get("base", EMBEDDED_BASE) for report in reports.values()}))
    hex_experts = _hex_digit_experts(folders)
    found = {expert: glyph_rows(folder) for expert, folder in folders.items()}
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    written: dict[str, Any] = {"merged": merged, "base": base, "hex_digit_experts": sorted(hex_experts), "experts": {}}
    with quiet_dependencies():
        if merged:
            for expert, folder in folders.items():
                loaded = _base_with_glyph_rows(base, found[expert])
                config = adapter_config(folder, trainable_token_indices=None, inference_mode=True)
                model = peft.PeftModel.from_pretrained(loaded.model, str(folder), config=config).merge_and_unload()
                target = out / expert
                model.save_pretrained(str(target), safe_serialization=True)
                save_standalone_tokenizer(loaded.tokenizer, target, hex_digits=expert in hex_experts)
                written["experts"][expert] = {"folder": expert, "glyph_rows": expert if found[expert] is not None else None}
                logger.info("export: %s merged into %s", expert, target)
        else:
            shared = _shared_rows(found, glyph_rows_from)
            loaded = _base_with_glyph_rows(base, shared)
            loaded.model.save_pretrained(str(out / "base"), safe_serialization=True)
            save_standalone_tokenizer(loaded.tokenizer, out / "base", hex_digits=False)
            written["glyph_rows"] = glyph_rows_from if shared is not None else None
            for expert, folder in folders.items():
                target = out / "adapters" / expert
                target.mkdir(parents=True, exist_ok=True)
                config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
                config["trainable_token_indices"] = None
                config["base_model_name_or_path"] = "../../base"  # relative to the adapter folder: OUT/base
                atomic_write_text(target / "adapter_config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
                tensors = {
                    name: tensor for name, tensor in load_file(str(folder / "adapter_model.safetensors")).items() if ".lora_" in name
                }
                save_file(tensors, str(target / "adapter_model.safetensors"), metadata={"format": "pt"})
                save_standalone_tokenizer(loaded.tokenizer, target, hex_digits=expert in hex_experts)
                written["experts"][expert] = {"folder": f"adapters/{expert}", "lora_tensors": len(tensors)}
            logger.info("export: base and adapters written to %s", out)
    grammars = out / "grammars"
    if grammars.exists():
        shutil.rmtree(grammars)
    write_grammars(grammars)
    written["seconds"] = round(time.perf_counter() - started, 1)
    atomic_write_text(out / "export.json", json.dumps(written, indent=2) + "\n")
    atomic_write_text(out / "README.md", _readme(written))
    return written


def _readme(written: dict[str, Any]) -> str:
    experts = list(written["experts"])
    if written["merged"]:
        layout = "\n".join(
            f"* `{expert}/`: {expert} merged into the base (full model, its own glyph rows, tokenizer)" for expert in experts
        )
        serve = "\n".join(f"vllm serve ./{expert} --served-model-name {expert} --port {8000 + i}" for i, expert in enumerate(experts))
    else:
        layout = f"* `base/`: the base with the 17 LC-R glyph tokens (their rows: {written['glyph_rows']}'s)\n" + "\n".join(
            f"* `adapters/{expert}/`: a plain LoRA adapter and the tokenizer its prompts are read with" for expert in experts
        )
        modules = " ".join(f"{expert}=./adapters/{expert}" for expert in experts)
        serve = f"vllm serve ./base --enable-lora --max-lora-rank 16 --lora-modules {modules}"
    hex_note = ", ".join(written["hex_digit_experts"]) or "none"
    return f"""# HLX mixture, exported by `hlx moe export`

{layout}
* `grammars/`: canonical grammars; `answer-*.lark` one Lark grammar per answer; `tasks.json` the task -> expert, prefix and grammar

```sh
{serve}
```

A request: route it (`tasks.json`: LC-R in or out to runic, LC-T to ascii, the rest to the
coordinator), send `{json.dumps(prompt_of("<instruction>"))}` to that model with its
`answer-*.lark` grammar as `structured_outputs.grammar`, greedy (`temperature=0`), backend `guidance`.
Experts that read hex digits one token each ({hex_note}): send the prompt as token ids from
their folder's tokenizer. See docs/moe.md, "Serving".
"""


@dataclass
class ServedAnswer:
    """An answer decoded as a server does (:func:`greedy_answer`)."""

    text: str
    new_tokens: int
    seconds: float
    stop_reason: str  # eos, grammar (the grammar ended), max_tokens


def greedy_answer(
    model: Any,
    tokenizer: Any,
    instruction: str,
    *,
    grammar: str | None = None,
    max_new_tokens: int = 256,
    ll_tokenizer: Any = None,
) -> ServedAnswer:
    """Greedy decoding with plain ``transformers``: the prompt of ``instruction`` tokenised by
    ``tokenizer`` (its own pre-tokenizer: the expert's hex digits), each step masked by
    llguidance under the Lark ``grammar`` (None: free text), ending at the tokenizer's EOS or
    the model's generation-config end tokens. ``ll_tokenizer``: a prebuilt
    ``llguidance.hf.from_tokenizer`` of ``tokenizer`` (built here otherwise, about a second)."""
    import llguidance
    import llguidance.hf
    import llguidance.torch
    import torch

    started = time.perf_counter()
    vocabulary = model.get_output_embeddings().weight.shape[0]
    ends = model.generation_config.eos_token_id
    stops = {tokenizer.eos_token_id, *(ends if isinstance(ends, list) else [ends])} - {None}
    matcher = bitmask = None
    if grammar is not None:
        ll_tokenizer = ll_tokenizer or llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocabulary)
        matcher = llguidance.LLMatcher(ll_tokenizer, llguidance.LLMatcher.grammar_from_lark(grammar), log_level=0)
        if matcher.is_error():
            raise HLXError(f"llguidance rejected the grammar: {matcher.get_error()}")
        bitmask = llguidance.torch.allocate_token_bitmask(1, vocabulary)
    pending = tokenizer(prompt_of(instruction), add_special_tokens=False)["input_ids"]
    generated: list[int] = []
    cache = None
    forward = inspect.signature(type(getattr(model, "get_base_model", lambda: model)()).forward).parameters
    cache_argument = "cache" if "cache" in forward else "past_key_values"  # renamed in transformers 5.25
    stop_reason = "max_tokens"
    with torch.inference_mode():
        while len(generated) < max_new_tokens:
            output = model(input_ids=torch.tensor([pending]), use_cache=True, **{cache_argument: cache})
            cache = output.past_key_values if getattr(output, "cache", None) is None else output.cache
            logits = output.logits[:, -1, :].float()
            if matcher is not None:
                llguidance.torch.fill_next_token_bitmask(matcher, bitmask, 0)
                llguidance.torch.apply_token_bitmask_inplace(logits, bitmask)
            token = int(logits.argmax(dim=-1))
            if token in stops:
                stop_reason = "eos"
                break
            generated.append(token)
            pending = [token]
            if matcher is not None:
                matcher.consume_token(token)
                if matcher.is_stopped():
                    stop_reason = "grammar"
                    break
    text = tokenizer.decode(generated, skip_special_tokens=True)
    return ServedAnswer(text, len(generated), time.perf_counter() - started, stop_reason)
