"""The fuzzing harness (``benchmarks/fuzz.py``): CI's one-minute run finds nothing, on the compiled path and on
the pure-Python one, and a child process that dies is counted as a crash, with the input it was trying."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from benchmarks import fuzz


@pytest.mark.slow(longest=True)
def test_one_minute_of_fuzzing_finds_nothing():
    reports = fuzz.run_paths(60.0, seed=29)
    built = importlib.util.find_spec("hlx_formats._speedups") is not None  # whatever HLX_PURE_PYTHON says here
    assert [report.path for report in reports] == (["compiled", "pure"] if built else ["pure"])
    for report in reports:
        assert set(report.functions) == set(fuzz._checks()), report.table()
        assert all(tally.inputs > 0 for tally in report.functions.values()), report.table()
        assert report.clean, report.table()


def _fake_child(script: str) -> fuzz.ChildCommand:
    """A child command that runs ``script`` (given the last-input file as ``sys.argv[1]``) instead of the harness."""

    def command(path: str, budget_s: float, json_path: Path, last_input: Path, options: list[str]) -> list[str]:
        return [sys.executable, "-c", script, str(last_input)]

    return command


_SEGFAULT = """
import os, signal, sys
with open(sys.argv[1], "wb") as handle:
    handle.write("from_lct\\n".encode() + b"s" + "{a:[1,\\ud800".encode("utf-8", "surrogatepass"))
os.kill(os.getpid(), signal.SIGSEGV)
"""


def test_a_child_killed_by_a_signal_is_a_crash_with_its_input():
    (report,) = fuzz.run_paths(5.0, paths=("compiled",), command=_fake_child(_SEGFAULT))
    assert report.path == "compiled" and not report.clean
    assert report.crash == "killed by SIGSEGV in from_lct on " + fuzz._shown("{a:[1,\ud800"), report.crash
    assert report.crash_input == repr("{a:[1,\ud800")
    assert "CRASH [compiled] killed by SIGSEGV in from_lct on '{a:[1,\\ud800' (7 long)" in report.table()
    assert report.summary().endswith("1 crashes")


def test_a_child_without_a_report_fails_the_run():
    (report,) = fuzz.run_paths(5.0, paths=("pure",), command=_fake_child("import sys; sys.exit(2)"))
    assert report.crash == "exit status 2 without a report before its first input" and not report.clean


def test_without_the_compiled_extension_only_the_pure_path_runs(capsys):
    exits = {"compiled": f"import sys; sys.exit({fuzz.UNAVAILABLE})", "pure": "pass"}

    def command(path: str, budget_s: float, json_path: Path, last_input: Path, options: list[str]) -> list[str]:
        script = f"import json, sys; json.dump({{'budget_s': {budget_s}, 'path': 'pure', 'functions': {{}}}}, open(sys.argv[1], 'w'))"
        return [sys.executable, "-c", exits[path] if path == "compiled" else script, str(json_path)]

    reports = fuzz.run_paths(4.0, command=command)
    assert [report.path for report in reports] == ["pure"] and reports[0].clean
    assert reports[0].budget_s > 3.0  # the whole budget, less the first child's start
    assert "not built" in capsys.readouterr().out


def test_the_compiled_child_writes_each_input_before_trying_it(tmp_path):
    last_input = tmp_path / "last"
    report = fuzz.run(30.0, only=["from_lcb(bytes)", "to_lct"], inputs=3, last_input=str(last_input))
    assert [tally.inputs for tally in report.functions.values()] == [3, 3]
    name, shown, full = fuzz._recorded(last_input)
    assert name == "to_lct" and shown.endswith("(- long)") and full
    descriptor = os.open(last_input, os.O_WRONLY)
    fuzz._recorder(descriptor, "from_lcb(bytes)", b"\xff[")  # shorter than what it overwrites
    os.close(descriptor)
    assert fuzz._recorded(last_input) == ("from_lcb(bytes)", fuzz._shown(b"\xff["), repr(b"\xff["))


def test_the_harness_reports_a_finding():
    tally = fuzz.Tally()
    fuzz._call(tally, lambda text: int(text), "x")  # a ValueError is not an HLXError
    fuzz._call(tally, lambda text: text, "fine")
    assert tally.inputs == 2 and len(tally.findings) == 1 and "ValueError" in tally.findings[0]


def test_variants_of_text_and_values():
    import random

    rng = random.Random(1)
    assert len(list(fuzz.variants("[1,2]", rng, 10))) == 11
    assert len(list(fuzz.variants([1, [2]], rng, 10))) == 11
