"""The rewrite step in the mixture, on the tiny stand-in experts (tests/moe_fixtures.py) and
scripted stand-in models: the rewrite is one of the allowed ones, so it copies the request's
value; a rewrite below the threshold is refused with what it was; free text ends at its line;
a format answer that does not parse is never returned as an answer."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("llguidance")

from test_moe import ScriptedModel  # noqa: E402 - after the importorskips above

from hlx_formats import HLXError, NotUnderstood, ParseError, WrongAnswer  # noqa: E402 - after the importorskips above
from hlx_formats import translate as hlx_translate  # noqa: E402 - after the importorskips above
from hlx_formats.instructions import match_instruction  # noqa: E402 - after the importorskips above
from hlx_formats.rewrites import NOT_A_REQUEST, rewrite_space  # noqa: E402 - after the importorskips above
from hlx_moe import HLXMoE  # noqa: E402 - after the importorskips above
from hlx_moe.corpus import prompt_of  # noqa: E402 - after the importorskips above
from hlx_moe.decoding.constraints import Decoder  # noqa: E402 - after the importorskips above
from hlx_moe.serving.mixture import TEXT_ANSWER_TOKENS, text_answer_budget  # noqa: E402 - after the importorskips above
from hlx_moe.serving.rewrite import Rewrite  # noqa: E402 - after the importorskips above

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
UNREAD = ["gimme [1,2,3] as runes thx", "pls {a: 1} -> runic", "gimme 🜃1, 2🜄 in lct", "what is contrct 14"]


@pytest.fixture(scope="module")
def moe(adapters: Path) -> HLXMoE:
    return HLXMoE.load(adapters)


def _fixed(instruction: str, confidence: float):
    def rewrite(request: str) -> Rewrite:
        return Rewrite(request, instruction, -1.0, -0.1, confidence, 2)

    return rewrite


def test_choosing_under_a_grammar(moe: HLXMoE) -> None:
    from hlx_formats.rewrites import rewrite_grammar

    decoder = moe.decoders["coordinator"]
    moe.activate("coordinator")
    prompt = prompt_of("Rewrite as an instruction: what is lct")
    space = rewrite_space("what is lct")
    choice = decoder.choose(prompt, rewrite_grammar(space))
    assert choice.text in space.candidates and choice.log_probability <= 0 and choice.tokens > 0
    only = decoder.choose(prompt, 'start: "What is LC-T?"')
    assert only.text == "What is LC-T?" and only.log_probability == 0.0 and only.choices == 0  # the grammar chose alone
    two = decoder.choose(prompt, 'start: "What is LC-T?" | "What is LC-R?"')
    assert two.text in ("What is LC-T?", "What is LC-R?") and math.log(0.5) <= two.log_probability < 0  # the likelier of two
    with pytest.raises(HLXError, match="llguidance rejected"):
        decoder.choose(prompt, "start: (")


def _share(model, token: int, others: list[int]) -> float:
    """``token``'s share among ``others`` (itself included) under the stand-in's fixed logits."""
    weights = {other: math.exp(float(model.noise[other])) for other in others}
    return weights[token] / sum(weights.values())


def test_the_distribution_over_choices_is_the_product_of_shares_where_they_part(tokenizer) -> None:
    from hlx_moe.decoding.choices import choice_distribution

    model = ScriptedModel(tokenizer)  # fixed logits: the same at every step
    decoder = Decoder(model, tokenizer)
    texts = ["What is LC-T?", "What is LC-R?", "What is HLXL?", NOT_A_REQUEST]
    found = choice_distribution(decoder, "Q", texts, floor=0.0)
    assert set(found.probabilities) == set(texts) and found.unexplored == 0.0
    assert sum(found.probabilities.values()) == pytest.approx(1.0)
    assert list(found.probabilities.values()) == sorted(found.probabilities.values(), reverse=True) and found.best in texts
    tokens = {text: decoder.encode(text) for text in texts}
    first = [tokens[text][0] for text in texts]
    assert len(set(first)) == 2  # "What" opens three of them, which part later
    share_what = _share(model, tokens["What is LC-T?"][0], sorted(set(first)))
    opened = found.probabilities["What is LC-T?"] + found.probabilities["What is LC-R?"] + found.probabilities["What is HLXL?"]
    assert opened == pytest.approx(share_what)
    only = choice_distribution(decoder, "Q", ["What is LC-T?"])
    assert only.probabilities == {"What is LC-T?": 1.0} and only.passes == 1  # forced all the way: the prompt's pass alone
    ends = choice_distribution(decoder, "Q", ["What is LC", "What is LC-T?"], floor=0.0)  # one text ends where the other goes on
    assert sum(ends.probabilities.values()) == pytest.approx(1.0) and len(ends.probabilities) == 2
    pruned = choice_distribution(decoder, "Q", texts, floor=0.999)
    assert pruned.probabilities == {} or max(pruned.probabilities.values()) >= 0.999
    assert sum(pruned.probabilities.values()) + pruned.unexplored == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no texts"):
        choice_distribution(decoder, "Q", [])


def test_the_distribution_follows_what_the_model_prefers(tokenizer) -> None:
    from hlx_moe.decoding.choices import choice_distribution

    decoder = Decoder(ScriptedModel(tokenizer, "Convert to LC-R: [1]"), tokenizer)  # the script spells one of them
    texts = ["Convert to LC-R: [1]", "Convert to LC-T: [1]", "Parse LC-B: [1]", NOT_A_REQUEST]
    found = choice_distribution(decoder, "Q", texts)
    assert found.best == "Convert to LC-R: [1]" and found.probabilities[found.best] > 0.99


@pytest.mark.parametrize("request_text", UNREAD)
def test_the_rewrite_is_an_allowed_one_and_copies_the_value(moe: HLXMoE, request_text: str) -> None:
    rewrite = moe.rewrite(request_text)
    space = rewrite_space(request_text)
    assert rewrite.instruction in space.candidates and rewrite.candidates == len(space.candidates)
    assert 0.0 < rewrite.confidence <= 1.0 and rewrite.log_probability < 0
    parsed = match_instruction(rewrite.instruction)
    if parsed is not None and parsed.value_text is not None:
        assert parsed.value_text in request_text


def test_a_confident_rewrite_is_answered_and_recorded(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moe, "rewrite", _fixed("Convert this to Runic glyphs: [1,2,3]", 0.9))
    result = moe.query("gimme [1,2,3] as runes thx")
    assert result.route == "rewrite" and result.instruction == "Convert this to Runic glyphs: [1,2,3]"
    assert result.rewrite is not None and result.rewrite["confidence"] == 0.9 and result.request == "gimme [1,2,3] as runes thx"
    monkeypatch.setattr(moe, "rewrite", _fixed("What is contract 14?", 0.9))
    assert moe.query("what is contrct 14").route == "rewrite"  # words read as a value: rewritten, not refused
    assert result.parses is True  # a format answer is always constrained
    direct = moe.query("Convert to LC-R: [1, 2, 3]")
    assert direct.route == "direct" and direct.rewrite is None


def test_a_rewrite_below_the_threshold_is_refused_with_what_it_was(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moe, "rewrite", _fixed("Convert to LC-T: [1,2,3]", 0.3))
    with pytest.raises(NotUnderstood, match=r"'Convert to LC-T: \[1,2,3\]', has confidence 0.30, below the threshold") as refused:
        moe.query("[1,2,3] into the ascii one")
    assert refused.value.rewrite == "Convert to LC-T: [1,2,3]" and refused.value.confidence == 0.3
    lower = dataclasses.replace(moe.options, rewrite_threshold=0.2)
    assert moe.query("[1,2,3] into the ascii one", lower).route == "rewrite"
    monkeypatch.setattr(moe, "rewrite", _fixed(NOT_A_REQUEST, 0.99))
    with pytest.raises(NotUnderstood, match="reads as no HLX request"):
        moe.query("what's the weather in Paris")


def test_a_task_no_expert_learned_is_answered_by_the_reference(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    from hlx_formats import translate

    direct = moe.query("Validate HLXL: [1, 2]")
    assert direct.route == "direct+reference" and direct.expert == "reference" and direct.stop_reason == "reference"
    assert direct.answer == translate("Validate HLXL: [1, 2]") and direct.matches_reference is True
    monkeypatch.setattr(moe, "rewrite", _fixed("Explain HLXL: [1,2,3]", 0.9))
    rewritten = moe.query("wat is [1,2,3] pls")
    assert rewritten.route == "rewrite+reference" and rewritten.answer == translate("Explain HLXL: [1,2,3]")
    assert [result.route for result in moe.query_batch(["wat is [1,2,3] pls", "Convert to LC-R: [1]"])] == ["rewrite+reference", "direct"]
    assert moe.answers("Validate LC-T: [1]") and moe.answers("Convert to LC-R: 1") and not moe.answers("hello")
    broken = moe.query("Validate LC-T: [1, 2")  # a value to validate that does not parse: the reference says what is wrong
    assert broken.route == "direct+reference" and broken.answer == translate("Validate LC-T: [1, 2")
    monkeypatch.setattr(moe, "rewrite", _fixed("Validate LC-B: [1]", 0.9))
    decision, rewrite = moe.understand("What's wrong with lkb: [1]")  # read as "Validate: lkb: [1]": words as the value
    assert rewrite is not None and rewrite.instruction == "Validate LC-B: [1]" and decision.instruction is None
    assert moe.query("What's wrong with lkb: [1]").route == "rewrite+reference"
    _decision, rewrite = moe.understand("put the readable [[31], &h_images] over to lc t")  # read with words after the value
    assert rewrite is not None
    with pytest.raises(ParseError):
        moe.understand("Convert to LC-R: [1, 2")  # a broken value is refused with its error


def test_a_request_with_a_broken_value_is_refused_with_its_parse_error(moe: HLXMoE) -> None:
    with pytest.raises(ParseError, match="not valid HLXL, LC-T, LC-R or LC-B"):
        moe.query("turn [1, 2, into runes")


def test_a_conversion_no_single_instruction_makes_goes_through_hlxl(moe: HLXMoE) -> None:
    result = moe.query("Translate LC-B to LC-R: [[0x01,0x02]]")
    assert result.route == "direct+hops" and result.parses is True
    assert result.instruction == "Translate LC-B to LC-R: [[0x01,0x02]]"


def test_translate_never_returns_a_format_answer_that_does_not_parse(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    real = moe.query("Convert to LC-T: [1, 2]", constrained=False)
    broken = dataclasses.replace(real, answer="{C:", parses=False)
    monkeypatch.setattr(moe, "query", lambda *args, **kwargs: broken)
    with pytest.raises(HLXError, match="does not parse"):
        moe.translate("Convert to LC-T: [1, 2]")
    monkeypatch.setattr(moe, "query_batch", lambda *args, **kwargs: [broken])
    with pytest.raises(HLXError, match="does not parse"):
        moe.translate_many(["Convert to LC-T: [1, 2]"])


def test_translate_never_returns_an_answer_that_differs_from_the_reference(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    from hlx_moe.evaluation.grading import grade

    real, question = moe.query("Convert to LC-T: [1, 2]"), moe.query("What is LC-T?")
    for answer in ("[1,3]", "[ 1 , 2 ]"):  # another value; the same value spelled otherwise
        graded = grade("Convert to LC-T: [1, 2]", answer)
        monkeypatch.setattr(moe, "query", lambda *args, graded=graded, answer=answer, **kwargs: dataclasses.replace(
            real, answer=answer, parses=graded.parses, matches_reference=graded.exact, same_value=graded.same_value
        ))  # fmt: skip
        if graded.same_value:
            assert moe.translate("Convert to LC-T: [1, 2]") == answer
            continue
        with pytest.raises(WrongAnswer, match="holds another value than the reference's") as caught:
            moe.translate("Convert to LC-T: [1, 2]")
        assert caught.value.answer == "[1,3]" and caught.value.reference == "[1,2]"
    # a question answered by a sibling's sentence
    sibling = dataclasses.replace(question, answer=hlx_translate("What is LC-R?"), matches_reference=False, same_value=False)
    monkeypatch.setattr(moe, "query", lambda *args, **kwargs: sibling)
    with pytest.raises(WrongAnswer, match="holds another answer than the reference's"):
        moe.translate("What is LC-T?")


def test_free_text_ends_at_the_end_of_its_line(tokenizer) -> None:
    decoder = Decoder(ScriptedModel(tokenizer, "runic: one\nrunic: two\n"), tokenizer)
    answer = decoder.generate("Q", max_new_tokens=60, stop="\n")
    assert answer.stop_reason == "stop" and answer.text == "runic: one"
    batch = decoder.generate_batch(["Q", "Q"], [None, None], [60, 60], ["\n", None])
    assert batch[0].text == "runic: one" and batch[0].stop_reason == "stop"
    assert batch[1].stop_reason == "loop"  # without a stop, the repetition guard still ends it


def test_a_text_answer_is_one_line_within_its_task_budget(moe: HLXMoE) -> None:
    plan = moe._plan("Which expert answers: Convert to LC-T: [1]", moe.options.replace(constrained=False))
    assert plan.stop == "\n" and plan.constraint is None and plan.max_new_tokens == text_answer_budget("routing") and not plan.choices
    result = moe.query("Which expert answers: Convert to LC-T: [1]", constrained=False)
    assert "\n" not in result.answer and result.new_tokens <= text_answer_budget("routing")


@pytest.mark.parametrize(
    "question",
    [
        "What is LC-T?",
        "Which expert handles LC-R?",
        "What does 🜂 mean in LC-R?",
        "What is contract 7?",
        "Which expert answers: Convert to LC-T: [1]",
    ],
)
def test_a_question_is_answered_with_one_of_its_tasks_answers(moe: HLXMoE, question: str) -> None:
    from hlx_formats import translate
    from hlx_formats.instructions import match_instruction
    from hlx_moe.serving.text_answers import answer_choices

    choices = answer_choices(match_instruction(question))
    assert choices is not None and translate(question) in choices and len(choices) >= 4  # every argument's answer, not only its own
    result = moe.query(question)
    assert result.answer in choices and result.stop_reason == "choice" and result.parses is None  # a sentence, not a format
    assert answer_choices(match_instruction("Convert to LC-T: [1]")) is None


def test_the_text_budgets_hold_every_corpus_answer(tokenizer) -> None:
    longest: dict[str, int] = {}
    for expert in ("coordinator", "ascii", "runic"):
        for split in ("train", "validation", "test"):
            for line in (CORPORA / expert / f"{split}.jsonl").read_text("utf-8").splitlines():
                row = json.loads(line)
                if row["target_format"] == "text":
                    tokens = len(tokenizer(row["output"], add_special_tokens=False)["input_ids"])
                    longest[row["task"]] = max(longest.get(row["task"], 0), tokens)
    assert longest == TEXT_ANSWER_TOKENS


def test_the_cli_prints_a_refusal_and_exits_non_zero(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import io

    from hlx_formats.cli import main

    monkeypatch.setattr("hlx_moe.cli._load_mixture", lambda args: moe)
    monkeypatch.setattr(moe, "rewrite", _fixed("Convert to LC-T: [1]", 0.1))
    assert main(["moe", "query", "[1] in the ascii one"]) != 0
    assert "Convert to LC-T: [1]" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("[1] in the ascii one\nValidate LC-T: [1]\n"))
    assert main(["moe", "chat"]) == 1
    out, err = capsys.readouterr()
    assert (
        "not answered" in err and "confidence 0.10" in err and out.strip().splitlines() == ["Valid LC-T: an array of 1 integer"]
    )  # the second, by the reference


def test_eval_rewrites_chooses_the_threshold_on_both_halves_of_the_validation_split(
    moe: HLXMoE, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from hlx_formats.cli import main

    monkeypatch.setattr("hlx_moe.cli._load_mixture", lambda args: moe)
    (tmp_path / "adapters" / "coordinator").mkdir(parents=True)  # where --write-threshold writes
    arguments = ["moe", "eval", "--rewrites", "--split", "validation", "--limit", "16", "--answers", "16"]
    assert main([*arguments, "--adapters", str(tmp_path / "adapters"), "--write-threshold", "--output", str(tmp_path / "eval")]) == 0
    chosen = json.loads((tmp_path / "adapters" / "coordinator" / "rewrite_threshold.json").read_text("utf-8"))
    assert [Path(path).name for path in chosen["chosen_on"]] == ["validation.jsonl", "validation_held_out.jsonl"]
    records = json.loads((tmp_path / "eval" / "rewrites.json").read_text("utf-8"))["records"]
    assert len(records) == 16 and all(record["answered"] for record in records)
    assert {record["held_out_phrasing"] for record in records} == {True, False}  # rows of both files
    for record in records:  # as translate() would return it: a rejected answer is refused, never right
        if record.get("answer_rejected"):
            assert record["refused"] and not record["answer_right"]
        elif not record["refused"]:
            assert record["answer_right"] == (record["answer"] == hlx_translate(record["intended"]))


# The shipped coordinator's rewrites of a fixed sample of held-out phrasings (the first rows of
# the rewrite test split that the request description does not read), at the adapter's
# threshold: right, wrong and refused as `hlx moe eval --rewrites` counts them. The floor and
# the ceiling are the counts measured with the shipped adapter (docs/rewrite.md; 2026-12-08:
# 14 right, 1 wrong at threshold 0.5455); an adapter that answers fewer right or more wrong fails.
SHIPPED_REWRITE_SAMPLE = 20
SHIPPED_REWRITE_RIGHT_FLOOR = 14
SHIPPED_REWRITE_WRONG_CEILING = 1


@pytest.mark.slow
def test_shipped_rewrites_of_held_out_phrasings(shipped_mixture: HLXMoE) -> None:
    from hlx_formats import HLXError as Refused
    from hlx_formats.requests import parse_request
    from hlx_moe.evaluation.rewrites import same_meaning

    rows = []
    for line in (CORPORA / "rewrites" / "test.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if not row["held_out_phrasing"]:
            continue
        try:
            parse_request(row["request"])
            continue  # read directly: not the rewrite step's
        except Refused:
            rows.append(row)
        if len(rows) == SHIPPED_REWRITE_SAMPLE:
            break
    right = wrong = 0
    for row in rows:
        try:
            rewrite = shipped_mixture.rewrite(row["request"])
        except Refused:
            continue
        answered = rewrite.confidence >= shipped_mixture.rewrite_threshold and shipped_mixture.answers(rewrite.instruction)
        if row["output"] == NOT_A_REQUEST:
            right += not answered
        elif answered:
            if same_meaning(rewrite.instruction, row["output"]):
                right += 1
            else:
                wrong += 1
    assert right >= SHIPPED_REWRITE_RIGHT_FLOOR and wrong <= SHIPPED_REWRITE_WRONG_CEILING, (right, wrong)
