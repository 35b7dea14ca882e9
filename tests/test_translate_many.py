"""``translate_many``: translate() for several texts, in order; a backend that answers in
batches gets them all at once."""

from __future__ import annotations

import pytest

from hlx_formats import HLXError, api, translate, translate_many
from hlx_formats.model import MAX_INPUT_SIZE

TEXTS = ["Convert to LC-R: [1, 2, 3]", "Parse LC-T: {C:14,0=42}", "What is contract 900?"]


def test_the_reference_answers_each_text_as_translate_does():
    assert translate_many(TEXTS) == [translate(text) for text in TEXTS]
    assert translate_many(iter(["[1, 2]", "{a: 1}"]), "lc-t") == ["[1,2]", "{a:1}"]
    assert translate_many([]) == []


class _Batched:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def __call__(self, text: str, to: str | None = None) -> str:
        self.calls.append(("one", text))
        return text.upper()

    def many(self, texts: list[str], to: str | None = None) -> list[str]:
        self.calls.append(("many", tuple(texts), to))
        return [text.upper() for text in texts]


def test_a_backend_with_many_gets_every_text_at_once(monkeypatch: pytest.MonkeyPatch):
    backend = _Batched()
    monkeypatch.setattr(api, "load_backend", lambda name: backend)
    assert translate_many(["a", "b"], "lc-r", backend="fake") == ["A", "B"]
    assert backend.calls == [("many", ("a", "b"), "lc-r")]


def test_a_backend_without_many_answers_one_by_one(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(api, "load_backend", lambda name: lambda text, to: text[::-1])
    assert translate_many(["ab", "cd"], backend="fake") == ["ba", "dc"]


def test_every_text_is_checked_before_any_is_answered(monkeypatch: pytest.MonkeyPatch):
    backend = _Batched()
    monkeypatch.setattr(api, "load_backend", lambda name: backend)
    with pytest.raises(HLXError, match="MAX_INPUT_SIZE"):
        translate_many(["a", "x" * (MAX_INPUT_SIZE + 1)], backend="fake")
    assert backend.calls == []


def test_an_unknown_backend_is_an_hlx_error():
    with pytest.raises(HLXError, match="unknown backend 'nope'"):
        translate_many(["a"], backend="nope")
