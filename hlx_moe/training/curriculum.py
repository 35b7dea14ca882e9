"""Curriculum by depth: the order in which training sees its examples (preset field ``curriculum``).

``curriculum="depth"`` makes each pass over the training split go from shallow to deep values
(and from short to long examples within a depth) instead of in a random order. The pass is
still drawn at random first, as the Trainer's random sampler would, so that a run cut short
by ``max_steps`` sees a random part of the data; it is that part, the examples the run will
reach, that is sorted. A run of 450 steps of 8 over 6,000 examples (0.6 of a pass) thus sees
3,600 random examples, shallowest first, and not only the 3,600 shallowest ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

from hlx_formats.errors import HLXError

__all__ = ["DepthCurriculumSampler"]


class DepthCurriculumSampler(Sampler[int]):
    """Indices of one pass: a seeded random order whose reached part is sorted by (depth, length).

    ``examples_in_run`` is how many examples the whole run draws (steps x batch x
    accumulation x processes), or -1 when every pass is complete. The sort is stable, so
    examples of equal depth and length keep their random order, and the pass's order depends
    only on the seed and the epoch (set by the Trainer through ``set_epoch``), which is what
    resuming from a checkpoint needs.
    """

    def __init__(self, depths: Sequence[int], lengths: Sequence[int], examples_in_run: int, seed: int) -> None:
        if len(depths) != len(lengths):
            raise HLXError(f"curriculum: {len(depths)} depths for {len(lengths)} examples")
        self.depths = list(depths)
        self.lengths = list(lengths)
        self.examples_in_run = examples_in_run
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.depths)

    def __iter__(self) -> Iterator[int]:
        size = len(self.depths)
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        order = torch.randperm(size, generator=generator).tolist()
        reached = size if self.examples_in_run < 0 else max(0, min(size, self.examples_in_run - self.epoch * size))
        head = sorted(order[:reached], key=lambda index: (self.depths[index], self.lengths[index]))
        return iter(head + order[reached:])
