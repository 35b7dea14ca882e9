"""The model's probability of each text of a finite set, as a constrained decoder sees it.

:func:`choice_distribution` walks the token trie of the texts (each tokenised as an answer,
apart from the prompt, as in training). Where the texts part, the share of each branch is the
model's probability of its next token among the branches' tokens (an end token counting for
a text that ends there); where only one branch goes on, it is forced and costs nothing. A
text's probability is the product of its shares: the probability that greedy or sampled
decoding under the grammar of these texts writes it, up to other tokenisations of the same
text, which a model trained on the canonical ones all but never chooses. Branches below
``floor`` are not followed (their mass is ``unexplored``), so the cost is a forward pass of
the prompt and one small batch per level of branching, not one pass per text.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_FLOOR", "ChoiceDistribution", "choice_distribution"]

#: Branches less probable than this are not followed.
DEFAULT_FLOOR = 1e-3
_END = -1  # the trie's mark for "the text ends here"


@dataclass(frozen=True)
class ChoiceDistribution:
    """Each text reached (``probabilities``, most probable first, each 0 to 1), the mass of
    the branches not followed (``unexplored``), the model's forward passes and the seconds."""

    probabilities: dict[str, float]
    unexplored: float
    passes: int
    seconds: float

    @property
    def best(self) -> str:
        return next(iter(self.probabilities))


@dataclass(frozen=True)
class _Node:
    depth: int
    members: tuple[int, ...]
    log_probability: float


def _branches(sequences: Sequence[Sequence[int]], node: _Node) -> tuple[int, dict[int, tuple[int, ...]]]:
    """Where ``node``'s texts part (following forced tokens), and each branch's texts by its
    next token (:data:`_END` for the text that ends there)."""
    depth = node.depth
    while True:
        branches: dict[int, list[int]] = {}
        for member in node.members:
            sequence = sequences[member]
            branches.setdefault(sequence[depth] if depth < len(sequence) else _END, []).append(member)
        if len(branches) > 1 or _END in branches:
            return depth, {token: tuple(members) for token, members in branches.items()}
        depth += 1


def choice_distribution(
    decoder: Any, prompt: str, texts: Sequence[str], *, floor: float = DEFAULT_FLOOR, batch_size: int = 32
) -> ChoiceDistribution:
    """The probability ``decoder``'s model gives each text of ``texts`` after ``prompt``,
    decoded under the grammar of exactly those texts (see the module's docstring)."""
    import torch
    from transformers import DynamicCache

    from .constraints import _accepts_config

    started = time.perf_counter()
    texts = list(dict.fromkeys(texts))
    if not texts:
        raise ValueError("no texts to choose from")
    sequences = [decoder.encode(text) for text in texts]
    model = decoder.model
    device = next(model.parameters()).device
    with torch.inference_mode():
        cache = DynamicCache(config=model.config) if _accepts_config() else DynamicCache()
        output = model(
            input_ids=torch.tensor([decoder.encode(prompt)], device=device),
            use_cache=True,
            logits_to_keep=1,
            **{decoder._cache_argument: cache},
        )
        prompt_logits = output.logits[0, -1].float()
        passes = 1
        found: dict[str, float] = {}
        unexplored = 0.0
        level = [_Node(0, tuple(range(len(texts))), 0.0)]
        while level:
            parting = [(node, *_branches(sequences, node)) for node in level]
            ends = [(node, branches[_END][0]) for node, _, branches in parting if len(branches) == 1]
            for node, member in ends:  # the one text left ends: forced
                found[texts[member]] = math.exp(node.log_probability)
            parting = [item for item in parting if len(item[2]) > 1]
            next_level: list[_Node] = []
            for start in range(0, len(parting), batch_size):
                chunk = parting[start : start + batch_size]
                logits, chunk_passes = _logits_after(decoder, cache, prompt_logits, [sequences[_first(b)][:depth] for _, depth, b in chunk])
                passes += chunk_passes
                for (node, depth, branches), row in zip(chunk, logits):
                    for token, members, log_share in _shares(decoder, row, branches):
                        log_probability = node.log_probability + log_share
                        if math.exp(log_probability) < floor:
                            unexplored += math.exp(log_probability)
                        elif token == _END:
                            found[texts[members[0]]] = math.exp(log_probability)
                        else:
                            next_level.append(_Node(depth + 1, members, log_probability))
            level = next_level
    ordered = dict(sorted(found.items(), key=lambda item: -item[1]))
    return ChoiceDistribution(ordered, unexplored, passes, time.perf_counter() - started)


def _first(branches: dict[int, tuple[int, ...]]) -> int:
    """A text of the node whose branches these are (they share its prefix)."""
    return next(iter(branches.values()))[0]


def _logits_after(decoder: Any, cache: Any, prompt_logits: Any, prefixes: list[list[int]]) -> tuple[list[Any], int]:
    """The next-token logits after the prompt and each prefix, and the forward passes it took:
    one batched pass from the prompt's cache for the prefixes of each length."""
    import torch

    rows: list[Any] = [prompt_logits] * len(prefixes)
    by_length: dict[int, list[int]] = {}
    for index, prefix in enumerate(prefixes):
        if prefix:
            by_length.setdefault(len(prefix), []).append(index)
    device = prompt_logits.device
    for indices in by_length.values():
        batch_cache = copy.deepcopy(cache)
        batch_cache.reorder_cache(torch.zeros(len(indices), dtype=torch.long, device=device))
        inputs = torch.tensor([prefixes[index] for index in indices], device=device)
        output = decoder.model(input_ids=inputs, use_cache=True, logits_to_keep=1, **{decoder._cache_argument: batch_cache})
        for row, index in enumerate(indices):
            rows[index] = output.logits[row, -1].float()
    return rows, len(by_length)


def _shares(decoder: Any, logits: Any, branches: dict[int, tuple[int, ...]]) -> list[tuple[int, tuple[int, ...], float]]:
    """Each branch's token, texts and log share of the probability of the branches' tokens."""
    import torch

    logits = logits.clone()
    logits[decoder.tokenizer_size :] = float("-inf")
    log_probs = torch.log_softmax(logits, dim=-1)
    scores = {
        token: float(torch.logsumexp(log_probs[sorted(decoder.eos_ids)], dim=0)) if token == _END else float(log_probs[token])
        for token in branches
    }
    total = float(torch.logsumexp(torch.tensor(list(scores.values())), dim=0))
    return [(token, branches[token], scores[token] - total) for token in branches]
