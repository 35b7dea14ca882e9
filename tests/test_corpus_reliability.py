"""Corpus files: a damaged line is an HLXError naming the file and line; writes are atomic."""

from __future__ import annotations

import pytest

from hlx_formats import HLXError
from hlx_moe import corpus


def test_a_truncated_corpus_file_names_its_file_and_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "outp', encoding="utf-8")
    with pytest.raises(HLXError, match=rf"{path.name}:2:"):
        corpus.load(path)


def test_a_line_that_is_not_an_object_or_not_utf8_is_an_hlx_error(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(HLXError, match=":1:"):
        corpus.load(path)
    path.write_bytes(b'{"a": "\xff"}\n')
    with pytest.raises(HLXError, match=":1:"):
        corpus.load(path)


def test_an_interrupted_corpus_write_leaves_the_old_files(tmp_path, monkeypatch):
    from hlx_formats import _atomic

    target = tmp_path / "ascii" / "train.jsonl"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(corpus.files, "_files", lambda *args, **kwargs: iter([("ascii/train.jsonl", "new\n" * 10)]))
    real = _atomic.atomic_open

    def interrupted(path, mode="w", encoding="utf-8"):
        context = real(path, mode, encoding)
        handle = context.__enter__()
        handle.write(b"ne" if "b" in mode else "ne")
        context.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)
        raise KeyboardInterrupt

    monkeypatch.setattr(_atomic, "atomic_open", interrupted)
    with pytest.raises(KeyboardInterrupt):
        corpus.write(tmp_path)
    assert target.read_text(encoding="utf-8") == "old\n"
