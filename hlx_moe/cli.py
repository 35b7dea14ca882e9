"""The ``hlx corpus`` and ``hlx moe`` commands, added to ``hlx`` through the ``hlx.commands``
entry points (``hlx_formats.plugins``).

Importing this module is light: every heavy import happens inside a command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hlx_formats.cli import add_command, examples

__all__ = ["add_corpus_command", "add_moe_command", "positive_int"]


def positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1 (checked before any model loads)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, not {number}")
    return number


def _sub(parser: argparse.ArgumentParser, title: str) -> Any:
    return parser.add_subparsers(title=title, metavar="ACTION", dest="action", required=True)


def add_corpus_command(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "corpus",
        _usage,
        summary="build, check or measure the training corpora of the experts",
        description="Generate the corpora of the three experts deterministically from a seed.",
        epilog=examples(
            ("hlx corpus build", "write corpora/ (the same bytes on any machine)"),
            ("hlx corpus check", "exit 1 with the first difference if corpora/ is stale"),
            ("hlx corpus stats", "token lengths and LC-R glyph tokens with the embedded tokenizer (needs [moe])"),
        ),
    )
    actions = _sub(parser, "actions")
    for name, handler, summary in (
        ("build", run_corpus_build, "write the corpus files and the dataset card"),
        ("check", run_corpus_check, "regenerate in memory and compare with the files"),
        ("stats", run_corpus_stats, "measure token lengths and LC-R glyph tokens, and refresh the dataset card"),
    ):
        action = add_command(actions, name, handler, summary=summary)
        action.add_argument("--root", type=Path, default=None, help="corpus folder (default: ./corpora, in the current directory)")
        action.add_argument("--seed", type=int, default=None, help="generator seed (default: the committed one)")
        if name == "stats":
            action.add_argument("--base", default="smollm2-135m", help="whose tokenizer to count with")
        else:
            action.add_argument(
                "--drills", type=int, default=None, metavar="N",
                help="append N scalar drills to each expert's training split (default: 1500, as committed; 0 for none)",
            )  # fmt: skip
            action.add_argument(
                "--nesting-drills", type=int, default=None, metavar="N",
                help="then N nesting drills (deep values that repeat a shape; default: 2000, as committed; 0 for none)",
            )  # fmt: skip
            action.add_argument(
                "--scale", type=float, default=1.0, metavar="F",
                help="every split's size times F, 0 < F <= 1, in multiples of 8 (default: 1, as committed)",
            )  # fmt: skip


def _usage(args: argparse.Namespace) -> int:
    args.command_parser.print_help(sys.stderr)
    return 2


def _spec(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from hlx_formats.errors import HLXError

    from . import corpus

    spec = corpus.DEFAULT_SPEC if args.seed is None else replace(corpus.DEFAULT_SPEC, seed=args.seed)
    if args.drills is not None:
        if args.drills < 0:
            raise HLXError(f"--drills: expected a count of 0 or more, got {args.drills}")
        spec = replace(spec, drills=dict.fromkeys(corpus.EXPERTS, args.drills))
    if args.nesting_drills is not None:
        if args.nesting_drills < 0:
            raise HLXError(f"--nesting-drills: expected a count of 0 or more, got {args.nesting_drills}")
        spec = replace(spec, nesting_drills=dict.fromkeys(corpus.EXPERTS, args.nesting_drills))
    if args.scale != 1.0:
        if not 0 < args.scale <= 1:
            raise HLXError(f"--scale: expected a fraction above 0 and at most 1, got {args.scale}")
        spec = spec.scaled(args.scale)
    return spec


def run_corpus_build(args: argparse.Namespace) -> int:
    from . import corpus

    paths = corpus.write(args.root, _spec(args))
    print(f"wrote {len(paths)} files under {paths[0].parent.parent}")
    return 0


def run_corpus_check(args: argparse.Namespace) -> int:
    from . import corpus

    root = args.root or corpus.default_root()
    if not root.is_dir():
        sys.stderr.write(f"hlx: corpus check: no corpus folder {root} (pass --root DIR, or run in the project folder)\n")
        return 1
    difference = corpus.check(root, _spec(args))
    if difference is None:
        print("ok: the corpus files are what the generator writes")
        return 0
    sys.stderr.write(f"hlx: corpus check failed: {difference}\n")
    return 1


def run_corpus_stats(args: argparse.Namespace) -> int:

    from hlx_moe.corpus.stats import write_token_stats

    path = write_token_stats(args.root, args.base)
    print(path.read_text(encoding="utf-8"), end="")
    return 0


# --- hlx moe -------------------------------------------------------------------------


def add_moe_command(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "moe",
        _usage,
        summary="train, query, chat with and evaluate the mixture of experts (needs [moe])",
        description=(
            "The HLX mixture: one base model carrying three LoRA adapters (coordinator, ascii,\n"
            "runic), a router, and grammar-constrained decoding. Needs the [moe] extra."
        ),
        epilog=examples(
            ("hlx moe train --expert runic", "cpu preset, embedded base"),
            ("hlx moe train --expert ascii --preset original --base Qwen/Qwen2.5-1.5B-Instruct", ""),
            ("hlx moe query 'Convert to LC-R: [1, 2, 3]'", ""),
            ("hlx moe chat", "interactive"),
            ("hlx moe info", "base, adapters, memory"),
            ("hlx moe eval --output eval/", "the whole test splits (--limit N: a sample)"),
            ("hlx moe regrade eval/eval.json", "the same answers, graded by today's grader"),
            ("hlx moe export served/ [--merged]", "folders for vLLM: base + LoRA adapters, or merged models; grammars"),
        ),
    )
    actions = _sub(parser, "actions")

    from hlx_moe.training import train as train_module  # light: its heavy imports are inside functions

    train = add_command(actions, "train", run_moe_train, summary="train one expert's LoRA adapter")
    train_module.add_arguments(train)

    def mixture_arguments(action: argparse.ArgumentParser) -> None:
        action.add_argument(
            "--adapters", type=Path, default=None, help="adapter root (default: $HLX_MOE_ADAPTERS, else the shipped adapters)"
        )
        action.add_argument("--base", default=None, help="base model (default: the one the adapters were trained on)")
        action.add_argument("--quantization", default="auto", choices=("auto", "nf4", "none"), help="base quantisation (default: auto)")
        action.add_argument("--beams", type=positive_int, default=1, metavar="N", help="beam search of width N (default: 1, greedy)")
        action.add_argument(
            "--round-trip", action="store_true",
            help="of the beam search's N best answers, take the one that translates back best (needs --beams 2 or more)",
        )  # fmt: skip
        action.add_argument(
            "--no-source-literals", dest="source_literals", action="store_false",
            help="let a constrained answer hold any literal or key, not only those written in the instruction's value",
        )  # fmt: skip
        action.add_argument(
            "--no-literal-order", dest="literal_order", action="store_false",
            help="let a constrained answer write the value's literals in any order, not only the order the value writes them",
        )  # fmt: skip
        action.add_argument(
            "--verbose", action="store_true",
            help="show the dependencies' own warnings and log lines too (as HLX_VERBOSE=1 does)",
        )  # fmt: skip

    query = add_command(actions, "query", run_moe_query, summary="answer one instruction through the mixture")
    query.add_argument("instruction", help="e.g. 'Convert to LC-R: [1, 2, 3]'")
    query.add_argument("--unconstrained", action="store_true", help="decode without the grammar constraint")
    query.add_argument("--json", action="store_true", help="print the whole result as JSON")
    mixture_arguments(query)

    chat = add_command(
        actions, "chat", run_moe_chat,
        summary="interactive: one instruction per line, 'quit' to leave (exit status 1 if one was not answered)",
    )  # fmt: skip
    mixture_arguments(chat)

    info = add_command(
        actions, "info", run_moe_info,
        summary="the base and the adapters, from their files (--memory: load them and measure the footprint)",
    )  # fmt: skip
    mixture_arguments(info)
    info.add_argument("--memory", action="store_true", help="load the mixture and report its memory footprint and settings")

    evaluate = add_command(actions, "eval", run_moe_eval, summary="evaluate on the test splits (or given corpus files)")
    evaluate.add_argument("files", nargs="*", type=Path, help="JSONL corpus files (default: each expert's test split)")
    evaluate.add_argument("--limit", type=positive_int, default=None, help="examples per file (seeded sample; default: all)")
    evaluate.add_argument("--batch-size", type=positive_int, default=32, metavar="N", help="requests decoded together (default: 32)")
    evaluate.add_argument(
        "--unconstrained", action=argparse.BooleanOptionalAction, default=False,
        help="also decode each format answer without the constraint, for the comparison column (about doubles the time; default: off)",
    )  # fmt: skip
    evaluate.add_argument("--output", type=Path, default=Path("eval"), help="report folder (default: eval/)")
    evaluate.add_argument(
        "--update-cards", action="store_true", help="write each evaluated expert's table into its adapter's model card (needs --adapters)"
    )
    evaluate.add_argument(
        "--rewrites", action="store_true",
        help="evaluate the rewrite step on corpora/rewrites/<--split>.jsonl (or the given files) instead",
    )  # fmt: skip
    evaluate.add_argument(
        "--repairs", action="store_true",
        help="evaluate the completions and fixes on corpora/repairs/<--split>.jsonl (or the given files) instead",
    )  # fmt: skip
    evaluate.add_argument(
        "--split", default="test", choices=("train", "validation", "test"), help="with --rewrites or --repairs: the split (default: test)"
    )
    evaluate.add_argument(
        "--answers", type=int, default=0, metavar="N", help="with --rewrites: also answer a seeded sample of N requests end to end"
    )
    evaluate.add_argument(
        "--write-threshold", action="store_true",
        help="with --rewrites: choose the confidence threshold on these requests and write it into the coordinator adapter (needs --adapters)",
    )  # fmt: skip
    mixture_arguments(evaluate)

    export = add_command(
        actions, "export", run_moe_export,
        summary="write the mixture as folders vLLM serves: a base and plain LoRA adapters, or (--merged) one full model per expert",
    )  # fmt: skip
    export.add_argument("out", type=Path, help="output folder")
    export.add_argument("--merged", action="store_true", help="one full model per expert, its LoRA merged into the weights")
    export.add_argument("--adapters", type=Path, default=None, help="adapter root (default: $HLX_MOE_ADAPTERS, else the shipped adapters)")
    export.add_argument(
        "--glyph-rows", default=None, metavar="EXPERT",
        help="whose glyph rows the shared base holds, an expert or 'mean' (default: runic; not with --merged)",
    )  # fmt: skip

    regrade = add_command(actions, "regrade", run_moe_regrade, summary="grade an earlier eval.json's answers again (no model)")
    regrade.add_argument("report", type=Path, help="an eval.json written by hlx moe eval")
    regrade.add_argument("--output", type=Path, default=None, help="report folder (default: the report's own)")


def run_moe_train(args: argparse.Namespace) -> int:
    from hlx_moe.training import train

    _log_to_stderr(args)  # the training's messages and progress (the hlx_moe.training loggers)
    return train.run(args)


def _log_to_stderr(args: argparse.Namespace) -> None:
    """The mixture's own lines (what is loaded, from where) on stderr; with ``--verbose``,
    the dependencies' warnings and log lines as well."""
    import logging
    import os

    if getattr(args, "verbose", False):
        os.environ["HLX_VERBOSE"] = "1"
    log = logging.getLogger("hlx_moe")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("hlx: %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def _load_mixture(args: argparse.Namespace) -> Any:
    from hlx_moe.decoding.options import DecodingOptions
    from hlx_moe.serving.mixture import HLXMoE

    # checked before anything loads: a bad combination fails at once
    options = DecodingOptions(
        num_beams=args.beams, round_trip=args.round_trip, source_literals=args.source_literals, literal_order=args.literal_order
    )
    _log_to_stderr(args)
    return HLXMoE.load(args.adapters, base=args.base, quantization=args.quantization, options=options)


def _print_result(result: Any) -> None:
    print(result.answer)
    verdict = {True: "matches the reference", False: "differs from the reference", None: "no reference answer"}[result.matches_reference]
    parses = {True: "parses", False: "does not parse", None: "free text"}[result.parses]
    rewrite = ""
    if result.rewrite is not None:
        rewrite = f"rewritten as {result.instruction!r} (confidence {result.rewrite['confidence']:.2f}); "
    sys.stderr.write(
        f"[{rewrite}{result.expert}: {result.route_reason}; {parses}; {verdict}; {result.new_tokens} tokens in {result.latency_seconds:.2f} s]\n"
    )


def _print_refusal(error: Any) -> None:
    """A refused request: why, and the best rewrite considered (stderr)."""
    sys.stderr.write(f"not answered: {error}\n")


def run_moe_query(args: argparse.Namespace) -> int:
    import json

    from hlx_formats.errors import WrongAnswer
    from hlx_moe.evaluation.grading import checked_answer

    moe = _load_mixture(args)
    result = moe.query(args.instruction, constrained=not args.unconstrained)
    if args.json:  # the whole graded result; the exit status says whether its answer stands
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        try:
            checked_answer(result)
        except WrongAnswer as error:
            _print_refusal(error)
            return 1
        return 0
    checked_answer(result)  # a rejected answer: its WrongAnswer, on stderr, exit status 1
    _print_result(result)
    return 0


def run_moe_chat(args: argparse.Namespace) -> int:
    from hlx_formats.errors import HLXError
    from hlx_moe.evaluation.grading import checked_answer

    moe = _load_mixture(args)
    refused = 0
    interactive = sys.stdin.isatty()
    if interactive:
        print("HLX mixture: type an instruction (e.g. 'Convert to LC-R: [1, 2]'); 'quit' to leave.")
    while True:
        try:
            line = input("hlx> " if interactive else "")
        except EOFError:
            break
        if line.strip().lower() in ("quit", "exit", "q"):
            break
        if line.strip():
            try:
                result = moe.query(line)
                checked_answer(result)
                _print_result(result)
            except HLXError as error:  # said, and the session goes on; the exit status records it
                _print_refusal(error)
                refused += 1
    return 1 if refused else 0


def run_moe_info(args: argparse.Namespace) -> int:
    import json

    if not args.memory:
        from hlx_moe.serving.mixture import adapter_metadata

        print(json.dumps(adapter_metadata(args.adapters), indent=2))
        return 0
    moe = _load_mixture(args)
    print(json.dumps(moe.footprint(), indent=2))
    return 0


def run_moe_eval(args: argparse.Namespace) -> int:
    import platform

    from hlx_formats.errors import HLXError
    from hlx_moe.evaluation import evaluate

    if (args.update_cards or args.write_threshold) and args.adapters is None:
        # the cards live in the adapter folders: never rewrite the installed package's own
        raise HLXError("--update-cards and --write-threshold write into the adapter folders: name them with --adapters DIR")
    if args.write_threshold and not args.rewrites:
        raise HLXError("--write-threshold chooses the rewrite step's threshold: use it with --rewrites")
    if args.answers < 0:
        raise HLXError(f"--answers must be 0 or more, not {args.answers}")
    if args.rewrites and args.repairs:
        raise HLXError("--rewrites and --repairs are two evaluations: run them one at a time")
    if args.rewrites:
        return _evaluate_rewrites(args)
    if args.repairs:
        return _evaluate_repairs(args)
    moe = _load_mixture(args)
    records = evaluate.evaluate(
        moe, args.files or None, limit=args.limit, unconstrained=args.unconstrained, batch_size=args.batch_size,
        log=lambda message: sys.stderr.write(message + "\n"),
    )  # fmt: skip
    meta = {"limit": args.limit, "machine": platform.platform(), "processor": platform.machine(), **moe.footprint()}
    _write_and_show(evaluate, records, args.output, meta)
    if args.update_cards:
        _update_cards(moe, records, args, evaluate)
    return 0


def _task_rows(args: argparse.Namespace, corpus: str) -> tuple[list[Path], list[dict[str, Any]]]:
    """The files of a task corpus an evaluation reads (the given ones, else
    ``corpora/<corpus>/<--split>.jsonl``, and for the rewrites' validation split its held-out
    half, ``validation_held_out.jsonl``) and their rows, a seeded sample of ``--limit``."""
    import random

    from hlx_moe.corpus import default_root, load
    from hlx_moe.corpus.rewrites import HELD_OUT_VALIDATION

    files = args.files or [default_root() / corpus / f"{args.split}.jsonl"]
    if not args.files and corpus == "rewrites" and args.split == "validation":
        files.append(default_root() / corpus / f"{HELD_OUT_VALIDATION}.jsonl")
    rows = [row for path in files for row in load(path)]
    if args.limit is not None and args.limit < len(rows):
        rows = random.Random(0).sample(rows, args.limit)
    return files, rows


def _relative(path: Path) -> str:
    """``path`` relative to the working directory when it lies under it (a file named in an
    adapter folder then says the same on any machine), else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _evaluate_rewrites(args: argparse.Namespace) -> int:
    """``hlx moe eval --rewrites``: the rewrite step on a split of corpora/rewrites/."""
    import json

    from hlx_moe.evaluation import rewrites
    from hlx_moe.serving.rewrite import write_threshold

    files, rows = _task_rows(args, "rewrites")
    moe = _load_mixture(args)
    records = rewrites.evaluate_rewrites(moe, rows, answers=args.answers)
    threshold = moe.rewrite_threshold
    if args.write_threshold:
        chosen = rewrites.choose_threshold(records)
        chosen["chosen_on"] = [_relative(path) for path in files]
        path = write_threshold(Path(args.adapters) / "coordinator", chosen)
        threshold = chosen["threshold"]
        sys.stderr.write(f"wrote {path}: threshold {threshold:.4f} (precision {chosen['precision']}, recall {chosen['recall']})\n")
    summary = rewrites.summarise_rewrites(records, threshold)
    args.output.mkdir(parents=True, exist_ok=True)
    from hlx_formats._atomic import atomic_write_text

    atomic_write_text(
        args.output / "rewrites.json", json.dumps({"summary": summary, "records": records}, ensure_ascii=False, indent=1) + "\n"
    )
    table = rewrites.rewrite_table(summary)
    atomic_write_text(args.output / "rewrites.md", table + "\n")
    if args.update_cards:  # the coordinator's card shows it from the next `hlx moe eval --update-cards` on
        atomic_write_text(Path(args.adapters) / "coordinator" / "rewrite_eval.md", table + "\n")
    print(table)
    sys.stderr.write(f"wrote {args.output / 'rewrites.json'} and {args.output / 'rewrites.md'}\n")
    return 0


def _evaluate_repairs(args: argparse.Namespace) -> int:
    """``hlx moe eval --repairs``: the mixture's completions and fixes on a split of
    corpora/repairs/, beside the non-learned baseline on the same rows."""
    import json

    from hlx_formats._atomic import atomic_write_text
    from hlx_formats.errors import HLXError
    from hlx_moe.evaluation import repairs

    _, rows = _task_rows(args, "repairs")
    moe = _load_mixture(args)
    if not moe.repair_experts:
        raise HLXError("no expert of this mixture learned the repair tasks (train one with --set repairs=true)")
    records = repairs.evaluate_repairs(moe, rows, batch_size=args.batch_size)
    learned = [row for row in rows if row["expert"] in moe.repair_experts]
    summary, baseline = repairs.summarise_repairs(records), repairs.reference_baseline(learned)
    experts = ", ".join(sorted(moe.repair_experts))
    table = (
        f"The mixture ({experts}; {len(records)} of {len(rows)} rows):\n\n{repairs.repair_table(summary)}\n\n"
        f"The non-learned baseline on the same rows:\n\n{repairs.repair_table(baseline)}"
    )
    args.output.mkdir(parents=True, exist_ok=True)
    report = {"experts": sorted(moe.repair_experts), "summary": summary, "baseline": baseline, "records": records}
    atomic_write_text(args.output / "repairs.json", json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    atomic_write_text(args.output / "repairs.md", table + "\n")
    if args.update_cards:  # each expert's card shows its own rows from the next card it writes on
        from hlx_moe.corpus.repairs import REPAIR_EXPERTS
        from hlx_moe.model.cards import REPAIR_FILE

        for expert in sorted(moe.repair_experts):
            own = [record for record in records if REPAIR_EXPERTS[record["fmt"]] == expert]
            if not own:
                continue
            own_rows = [row for row in learned if row["expert"] == expert]
            own_table = (
                f"{len(own)} rows of the {args.split} split (`hlx moe eval --repairs`):\n\n{repairs.repair_table(repairs.summarise_repairs(own))}"
                f"\n\nThe non-learned baseline on the same rows:\n\n{repairs.repair_table(repairs.reference_baseline(own_rows))}"
            )
            atomic_write_text(Path(args.adapters) / expert / REPAIR_FILE, own_table + "\n")
    print(table)
    sys.stderr.write(f"wrote {args.output / 'repairs.json'} and {args.output / 'repairs.md'}\n")
    return 0


def run_moe_export(args: argparse.Namespace) -> int:
    import json

    from hlx_formats.errors import HLXError
    from hlx_moe.serving import export

    if args.merged and args.glyph_rows is not None:
        raise HLXError("--glyph-rows chooses the shared base's rows; with --merged each expert keeps its own")
    _log_to_stderr(args)
    written = export.export(args.out, args.adapters, merged=args.merged, glyph_rows_from=args.glyph_rows or export.GLYPH_ROWS_DEFAULT)
    print(json.dumps(written, indent=2))
    sys.stderr.write(f"wrote {args.out} (see {args.out / 'README.md'})\n")
    return 0


def run_moe_regrade(args: argparse.Namespace) -> int:
    import json

    from hlx_formats.errors import HLXError
    from hlx_moe.evaluation import evaluate

    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        records = evaluate.regrade(report["records"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise HLXError(f"{args.report}: not an eval.json written by hlx moe eval ({error})") from None
    _write_and_show(evaluate, records, args.output or args.report.parent, report.get("meta"))
    return 0


def _write_and_show(evaluate: Any, records: list[dict[str, Any]], output: Path, meta: dict[str, Any] | None) -> None:
    """Write an evaluation report, print its tables and say where the files went."""
    paths = evaluate.write_report(records, output, meta)
    print(paths["markdown"].read_text(encoding="utf-8"), end="")
    sys.stderr.write(f"wrote {', '.join(str(p) for p in paths.values())}\n")


def _update_cards(moe: Any, records: list[dict[str, Any]], args: argparse.Namespace, evaluate: Any) -> None:
    """Rewrite the model card of each adapter that answered examples, with its evaluation table."""
    import datetime
    import os
    import platform

    import torch

    from hlx_moe.model.cards import card_eval_results, read_training_report, write_model_card

    summary = evaluate.summarise(records)
    accelerator = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    sample = f"--limit {args.limit}" if args.limit else "the whole test split"
    decoding = f", beam search of {moe.num_beams}" if moe.num_beams > 1 else ""
    decoding += ", round-trip reranking" if moe.round_trip else ""
    decoding += ", literals from the instruction's value" if moe.source_literals else ""
    decoding += ", in its order" if moe.literal_order else ""
    for expert, folder in moe.adapters.items():
        table = evaluate.card_table(summary, expert)
        report = read_training_report(Path(folder))
        if table is None or report is None:
            continue
        note = (
            f"Measured with `hlx moe eval` ({sample}; constrained decoding{decoding}; {os.cpu_count()} CPU cores ({platform.machine()}), {accelerator}), "
            f"{datetime.date.today().isoformat()}. Same shape: right structure, some scalar wrong.\n\n"
        )
        write_model_card(Path(folder), report, note + table, card_eval_results(summary, expert, sample=sample))
        sys.stderr.write(f"updated {Path(folder) / 'README.md'}\n")
