"""Completions and fixes through the mixture, on the tiny stand-in experts
(tests/moe_fixtures.py): an expert answers them only if it learned them (its training report
says so); a completion's answer starts with the given text and parses, greedy, in a batch
and in a beam search; a given text that begins no value is refused before decoding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("llguidance")

from hlx_formats import HLXError, NotUnderstood
from hlx_formats.repairs import parses
from hlx_moe import HLXMoE


@pytest.fixture(scope="module")
def repair_adapters(adapters: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in experts, ascii and coordinator marked as trained with repair rows."""
    root = tmp_path_factory.mktemp("repair-adapters")
    for expert in ("ascii", "runic", "coordinator"):
        shutil.copytree(adapters / expert, root / expert)
    for expert in ("ascii", "coordinator"):
        path = root / expert / "training_report.json"
        report = json.loads(path.read_text("utf-8"))
        report["preset"]["repairs"] = True
        path.write_text(json.dumps(report), "utf-8")
    return root


@pytest.fixture(scope="module")
def moe(repair_adapters: Path) -> HLXMoE:
    return HLXMoE.load(repair_adapters)


COMPLETIONS = ["Complete this LC-T: {C:14,0=[1,2", 'Complete this HLXL: {a: "x', "Complete this LC-T: [1,2,3"]


def test_a_completion_starts_with_the_given_text_and_parses(moe: HLXMoE) -> None:
    assert moe.repair_experts == {"ascii", "coordinator"}
    for instruction in COMPLETIONS:
        given, fmt = instruction.split(": ", 1)[1], "lc-t" if "LC-T" in instruction else "hlxl"
        for result in (moe.query(instruction), moe.query(instruction, num_beams=2)):
            assert result.answer.startswith(given) and parses(result.answer, fmt), result.answer
            assert result.parses is True and result.reference is None and result.matches_reference is None
    batch = moe.query_batch([*COMPLETIONS, "Convert to LC-T: [1, 2]", "Fix this LC-T: [1,,2]"])
    assert [result.answer for result in batch[:3]] == [moe.query(instruction).answer for instruction in COMPLETIONS]
    assert parses(batch[4].answer, "lc-t") and batch[4].expert == "ascii"


def test_a_fix_is_chosen_among_the_one_edit_fixes(moe: HLXMoE) -> None:
    from hlx_formats.repairs import one_edit_fixes

    fixes = one_edit_fixes("[1,,2]", "lc-t", canonical=True)  # "[1,2]" and insertions: "[1,3,2]", ...
    assert fixes[0] == "[1,2]" and "[1, 2]" not in fixes and len(fixes) > 1
    fixed = moe.query("Fix this LC-T: [1,,2]")
    assert fixed.stop_reason == "choice" and fixed.answer in fixes and fixed.parses is True
    assert moe.query_batch(["Fix this LC-T: [1,,2]", "Convert to LC-T: [3]"])[0].answer == fixed.answer
    far = moe.query("Fix this LC-T: [1,,,2]")  # two edits from any value: decoded under the grammar
    assert far.stop_reason != "choice" and parses(far.answer, "lc-t")


def test_repairs_need_an_expert_that_learned_them_and_a_given_text_that_begins_a_value(moe: HLXMoE) -> None:
    with pytest.raises(NotUnderstood, match="the runic expert was not trained to complete values"):
        moe.query("Complete this LC-R: 🜃1, 2")
    with pytest.raises(NotUnderstood, match="the runic expert was not trained to fix values"):
        moe.query("Fix this LC-R: 🜃1, 2🜄🜄")
    with pytest.raises(HLXError, match=r"'\[1,,2' is not the beginning of a canonical LC-T value: it goes wrong at character 4 \(','\)"):
        moe.query("Complete this LC-T: [1,,2")
    with pytest.raises(HLXError, match=r"canonical LC-T value: it goes wrong at character 4 \(' '\)"):
        moe.query_batch(["Convert to LC-T: [1]", "Complete this LC-T: [1, 2"])  # not canonical: LC-T writes no spaces


def test_eval_repairs_grades_the_experts_that_learned_them(
    repair_adapters: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hlx_formats.cli import main

    arguments = ["moe", "eval", "--repairs", "--adapters", str(repair_adapters), "--limit", "12", "--output", str(tmp_path)]
    assert main(arguments) == 0
    report = json.loads((tmp_path / "repairs.json").read_text("utf-8"))
    assert report["experts"] == ["ascii", "coordinator"] and report["summary"]["all"]["n"] == len(report["records"]) > 0
    assert {record["fmt"] for record in report["records"]} <= {"lc-t", "hlxl", "lc-b"}
    completions = [record for record in report["records"] if record["task"] == "complete"]
    assert all(record["prefix_kept"] and record["parses"] for record in completions)  # the grammar and the given start
    assert "The non-learned baseline on the same rows" in capsys.readouterr().out
    assert main([*arguments, "--rewrites"]) == 1
    assert "run them one at a time" in capsys.readouterr().err


def test_the_card_of_an_expert_that_learned_the_repairs_shows_its_rows(repair_adapters: Path, tmp_path: Path) -> None:
    from hlx_formats.cli import main
    from hlx_moe.corpus.repairs import REPAIR_EXPERTS
    from hlx_moe.model.cards import REPAIR_FILE, read_training_report, write_model_card

    adapters = tmp_path / "adapters"
    shutil.copytree(repair_adapters, adapters)
    arguments = ["moe", "eval", "--repairs", "--adapters", str(adapters), "--limit", "12", "--output", str(tmp_path / "eval")]
    assert main([*arguments, "--update-cards"]) == 0
    records = json.loads((tmp_path / "eval" / "repairs.json").read_text("utf-8"))["records"]
    for expert in ("ascii", "coordinator"):
        own = sum(REPAIR_EXPERTS[record["fmt"]] == expert for record in records)
        card = write_model_card(adapters / expert, read_training_report(adapters / expert)).read_text("utf-8")
        assert "## The repair tasks" in card
        assert ((adapters / expert / REPAIR_FILE).is_file() and f"{own} rows of the test split" in card) == (own > 0)
    card = write_model_card(adapters / "runic", read_training_report(adapters / "runic")).read_text("utf-8")
    assert "## The repair tasks" not in card and not (adapters / "runic" / REPAIR_FILE).exists()


def _rewritten_as(instruction: str, confidence: float):
    """A stand-in rewrite step that reads every request as ``instruction``, keeping the broken
    value's error as the real step does."""
    from hlx_formats.rewrites import rewrite_space
    from hlx_moe.serving.rewrite import Rewrite

    def rewrite(request: str) -> Rewrite:
        return Rewrite(request, instruction, -1.0, -0.1, confidence, 9, broken=rewrite_space(request).broken)

    return rewrite


def test_a_request_with_a_broken_value_may_ask_to_complete_or_fix_it(moe: HLXMoE, monkeypatch: pytest.MonkeyPatch) -> None:
    from hlx_formats import ParseError
    from hlx_formats.rewrites import NOT_A_REQUEST, rewrite_space

    request = "please finish this LC-T: {C:14,0=[1,2"
    rewrite = moe.rewrite(request)  # the stand-in coordinator chooses among the repairs of the broken text
    assert rewrite.broken is not None and rewrite.instruction in rewrite_space(request).candidates
    assert rewrite.as_dict()["broken"].startswith("lc-t: line 1, column 13")
    monkeypatch.setattr(moe, "rewrite", _rewritten_as("Complete this LC-T: {C:14,0=[1,2", 0.9))
    result = moe.query(request)
    assert result.route == "rewrite" and result.instruction == "Complete this LC-T: {C:14,0=[1,2"
    assert result.answer.startswith("{C:14,0=[1,2") and parses(result.answer, "lc-t")
    monkeypatch.setattr(moe, "rewrite", _rewritten_as("Fix this LC-T: [1,,2]", 0.9))
    assert moe.query("there is a typo in [1,,2] thanks").stop_reason == "choice"
    # no repair asked, or not surely: refused with the value's error, as the reference refuses it
    for instruction, confidence in ((NOT_A_REQUEST, 0.99), ("Complete this LC-T: {C:14,0=[1,2", 0.1)):
        monkeypatch.setattr(moe, "rewrite", _rewritten_as(instruction, confidence))
        with pytest.raises(ParseError, match="line 1, column 13: input is not valid HLXL, LC-T, LC-R or LC-B text"):
            moe.query(request)
    with pytest.raises(ParseError):  # a conversion the description reads, with a broken value: refused before any rewrite
        moe.query("turn [1, 2, into runes")
