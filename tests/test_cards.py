"""Model and dataset cards (standard metadata), and the tokenizer files shipped with the adapters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = ROOT / "hlx_moe" / "adapters"
EXPERTS = ("coordinator", "ascii", "runic")

pytest.importorskip("huggingface_hub")
pytest.importorskip("transformers")


def _front_matter(card: str) -> dict:
    import yaml

    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


@pytest.mark.parametrize("expert", EXPERTS)
def test_shipped_cards_carry_standard_metadata_and_name_the_real_base(expert: str) -> None:
    from huggingface_hub import ModelCard

    card = ModelCard.load(ADAPTERS / expert / "README.md")
    data = card.data.to_dict()
    assert data["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and data["library_name"] == "peft"
    assert data["license"] == "mit" and data["datasets"] == ["hlx-corpora"] and data["language"] == ["en"]
    assert data["pipeline_tag"] == "text-generation" and expert in data["tags"]
    results = card.data.eval_results
    assert results and {result.dataset_config for result in results} == {expert}
    exact = [result for result in results if result.metric_type == "exact_match"]
    # one per slice evaluated (in distribution, and out of distribution where the sample had it); the sample size is named
    assert 1 <= len(exact) <= 2 and all("n=" in result.metric_name for result in exact)
    config = json.loads((ADAPTERS / expert / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert (ADAPTERS / expert / "tokenizer.json").is_file() and (ADAPTERS / expert / "tokenizer_config.json").is_file()
    assert "de-quantised" in card.text and "import hlx" not in card.text.split("```python", 1)[1].split("```", 1)[0]


def test_the_mixture_still_loads_the_embedded_base_for_the_shipped_adapters() -> None:
    """adapter_config.json names the hub id; the mixture's base comes from the training reports."""
    from hlx_moe.serving.mixture import adapter_metadata

    assert adapter_metadata(ADAPTERS)["base"] == "smollm2-135m"


def test_card_eval_results_from_an_evaluation_summary(tmp_path: Path) -> None:
    import shutil

    from huggingface_hub import ModelCard

    from hlx_moe.model.cards import card_eval_results, update_card_from_eval

    group = {"examples": 7, "exact": 0.857, "same_value": 0.857, "same_shape": 1.0, "parse_rate_constrained": 1.0}
    summary = {"in_distribution": {"by_expert": {"ascii": group}}, "ood": {"by_expert": {}}}
    results = card_eval_results(summary, "ascii", sample="the whole test split")
    assert [r.metric_value for r in results] == [0.857, 0.857, 1.0] and "n=7, the whole test split" in results[0].metric_name
    assert card_eval_results(summary, "runic", sample="x") == []
    folder = tmp_path / "ascii"
    shutil.copytree(ADAPTERS / "ascii", folder, ignore=shutil.ignore_patterns("*.safetensors"))
    (tmp_path / "eval.json").write_text(json.dumps({"meta": {}, "summary": summary, "records": []}))
    update_card_from_eval(folder, tmp_path / "eval.json", "| slice |\n", sample="the whole test split")
    card = ModelCard.load(folder / "README.md")
    assert [r.metric_value for r in card.data.eval_results] == [0.857, 0.857, 1.0]
    assert "## Evaluation" in card.text


def test_dataset_card_metadata_and_configs() -> None:
    from hlx_moe.corpus.card import _metadata_yaml_by_hand, card_metadata, card_metadata_yaml

    assert card_metadata_yaml() == _metadata_yaml_by_hand(card_metadata())  # the same bytes with or without huggingface_hub
    data = _front_matter((ROOT / "corpora" / "README.md").read_text("utf-8"))
    assert data["license"] == "mit" and data["language"] == ["en"] and data["task_categories"] == ["text-generation"]
    configs = {config["config_name"]: config["data_files"] for config in data["configs"]}
    assert set(configs) == {"runic", "ascii", "coordinator", "requests", "rewrites", "repairs"}
    for files in configs.values():
        assert [item["split"] for item in files] == ["train", "validation", "test"]
        assert all((ROOT / "corpora" / item["path"]).is_file() for item in files)


def test_load_dataset_reads_the_experts_apart() -> None:
    datasets = pytest.importorskip("datasets")
    runic = datasets.load_dataset(str(ROOT / "corpora"), "runic")
    assert set(runic) == {"train", "validation", "test"} and set(runic["test"]["expert"]) == {"runic"}


@pytest.mark.parametrize("hex_digits", [True, False])
def test_standalone_tokenizer_matches_the_mixtures_tokenisation(hex_digits: bool) -> None:
    """The shipped tokenizer files give the ids the experts were trained on, for every prompt
    and answer of their corpora (a sample of every 7th row, to keep it quick)."""
    import copy

    from transformers import AutoTokenizer

    from hlx_moe.model.base import load_tokenizer
    from hlx_moe.model.glyph_tokens import GLYPH_TOKENS
    from hlx_moe.model.hex_digits import encode

    try:
        reference = load_tokenizer()
    except Exception as error:  # noqa: BLE001 - no embedded tokenizer here
        pytest.skip(f"the embedded tokenizer is unavailable: {error}")
    reference = copy.deepcopy(reference)
    reference.add_tokens(list(GLYPH_TOKENS))
    shipped = AutoTokenizer.from_pretrained(str(ADAPTERS / ("runic" if hex_digits else "coordinator")))
    assert len(shipped) == len(reference) and shipped.eos_token == "<|im_end|>"
    experts = ("ascii", "runic") if hex_digits else ("coordinator", "requests")
    checked = 0
    for expert in experts:
        for split in ("train", "validation", "test"):
            lines = (ROOT / "corpora" / expert / f"{split}.jsonl").read_text("utf-8").splitlines()
            for line in lines[::7]:
                row = json.loads(line)
                text = row["input"] + row["output"]
                assert shipped(text, add_special_tokens=False)["input_ids"] == encode(reference, text, hex_digits=hex_digits), text
                checked += 1
    assert checked > 1500


@pytest.mark.slow
def test_the_cards_snippet_runs_with_plain_transformers_and_peft(tmp_path: Path) -> None:
    """Each card's snippet, run as written in a fresh interpreter that never imports hlx (the
    hub id replaced by the embedded base's local copy: no network here), answers its request.
    One interpreter runs the three snippets in turn, each in a namespace of its own: the
    imports of torch, transformers and peft are paid once, not three times."""
    from hlx_moe.model.base import embedded_base_folder

    base = str(embedded_base_folder())
    expected = {"runic": "🜃1, 2🜄", "ascii": "[1,2]", "coordinator": "[[0x01,0x02]]"}
    scripts = []
    for expert in EXPERTS:
        card = (ADAPTERS / expert / "README.md").read_text("utf-8")
        snippet = card.split("```python\n", 1)[1].split("```", 1)[0].replace('"HuggingFaceTB/SmolLM2-135M-Instruct"', repr(base))
        scripts.append(tmp_path / f"{expert}.py")
        scripts[-1].write_text(snippet, encoding="utf-8")
    runner = tmp_path / "run_snippets.py"
    runner.write_text(
        "import contextlib, io, json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        exec(compile(open(name, encoding='utf-8').read(), name, 'exec'), {'__name__': '__main__'})\n"
        "    print('ANSWER', name, json.dumps(out.getvalue().strip().splitlines()[-1]))\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('hlx_moe', 'hlx_formats')]\n",
        encoding="utf-8",
    )
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    command = [sys.executable, str(runner), *map(str, scripts)]
    done = subprocess.run(command, cwd=ADAPTERS, capture_output=True, text=True, timeout=900, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    answers = [line.split(" ", 2) for line in done.stdout.splitlines() if line.startswith("ANSWER ")]
    assert [(Path(name).stem, json.loads(answer)) for _, name, answer in answers] == [(expert, expected[expert]) for expert in EXPERTS]
