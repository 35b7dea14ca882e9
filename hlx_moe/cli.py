"""The ``hlx corpus`` and ``hlx moe`` commands (registered into ``hlx_formats.cli``).

Importing this module is light: every heavy import happens inside a command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hlx_formats.cli import add_command, command, examples


def _sub(parser: argparse.ArgumentParser, title: str) -> Any:
    return parser.add_subparsers(title=title, metavar="ACTION", dest="action", required=True)


@command
def _add_corpus(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "corpus",
        _usage,
        summary="build, check or measure the training corpora of the experts",
        description="Generate the corpora of the three experts deterministically from a seed.",
        epilog=examples(
            ("hlx corpus build", "write corpora/ (the same bytes on any machine)"),
            ("hlx corpus check", "exit 1 with the first difference if corpora/ is stale"),
            ("hlx corpus stats", "token lengths with the embedded tokenizer (needs [moe])"),
        ),
    )
    actions = _sub(parser, "actions")
    for name, handler, summary in (
        ("build", run_corpus_build, "write the corpus files and the dataset card"),
        ("check", run_corpus_check, "regenerate in memory and compare with the files"),
        ("stats", run_corpus_stats, "measure token lengths and refresh the dataset card"),
    ):
        action = add_command(actions, name, handler, summary=summary)
        action.add_argument("--root", type=Path, default=None, help="corpus folder (default: corpora/ of the source tree)")
        action.add_argument("--seed", type=int, default=None, help="generator seed (default: the committed one)")
        if name == "stats":
            action.add_argument("--base", default="smollm2-135m", help="whose tokenizer to count with")


def _usage(args: argparse.Namespace) -> int:
    args.command_parser.print_help(sys.stderr)
    return 2


def _spec(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from . import corpus

    return corpus.DEFAULT_SPEC if args.seed is None else replace(corpus.DEFAULT_SPEC, seed=args.seed)


def run_corpus_build(args: argparse.Namespace) -> int:
    from . import corpus

    paths = corpus.write(args.root, _spec(args))
    print(f"wrote {len(paths)} files under {paths[0].parent.parent}")
    return 0


def run_corpus_check(args: argparse.Namespace) -> int:
    from . import corpus

    difference = corpus.check(args.root, _spec(args))
    if difference is None:
        print("ok: the corpus files are what the generator writes")
        return 0
    sys.stderr.write(f"hlx: corpus check failed: {difference}\n")
    return 1


def run_corpus_stats(args: argparse.Namespace) -> int:
    from . import corpus

    path = corpus.write_token_stats(args.root, args.base)
    print(path.read_text(encoding="utf-8"), end="")
    return 0
