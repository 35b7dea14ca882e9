"""The values the corpora are made of: a seeded generator and the drills (scalars, nesting)."""

from __future__ import annotations

import random
from typing import Any

from hlx_formats import Contract, Handle, facts

__all__ = ["HANDLE_NAMES", "KNOWN_IDS", "NestingDrill", "ScalarDrill", "ValueGenerator"]

HANDLE_NAMES = (
    "documents", "users", "model", "data", "vs", "fs", "cache", "index", "logs", "images",
    "queue", "results", "config", "shader_main", "compute_pass", "output_image", "db",
    "session", "tokens", "weights", "orders", "events", "metrics", "embeddings", "ast",
    "frame_buffer", "depth_map", "pipeline_a", "kernel_v2", "x", "h_temp", "_private",
)  # fmt: skip
KEYS = (
    "name", "age", "id", "type", "status", "count", "items", "value", "tags", "user", "email",
    "score", "enabled", "config", "path", "size", "version", "data", "meta", "created_at",
    "limit", "offset", "query", "mode", "width", "height", "x", "y", "label", "priority",
)  # fmt: skip
AWKWARD_KEYS = (
    "two words", "", "null", "true", "false", "NULL", "TRUE", "FALSE", "C", "T", "F", "_",
    "key-with-dash", "1st", "café", "a\"b", "back\\slash", "tab\there", "🜊", "x y z",
)  # fmt: skip
WORDS = (
    "hello", "world", "search", "alpha", "beta", "gamma", "red", "green", "blue", "main",
    "vertex", "fragment", "compute", "train", "query", "report", "draft", "final", "Alice",
    "Bob", "Carol", "London", "Paris", "Tokyo", "apple", "river", "stone", "cloud", "signal",
    "matrix", "kernel", "buffer", "shader", "pixel", "north", "south", "summer", "winter",
)  # fmt: skip
AWKWARD_STRINGS = (
    "", " ", 'say "hi"', "back\\slash", "line\nbreak", "tab\there", "café", "naïve", "日本語",
    "emoji 😀", "ctrl \x01 char", "del \x7f", "∅ and 🜊 are glyphs", "C", "NULL", "null",
    "\r\n", "quote \" and \\ both", "Ω≈ç√", "\u00a0nbsp", "𝄞 clef", "\b\f",
)  # fmt: skip
STAGES = ("vertex", "fragment", "compute", "geometry")
KNOWN_IDS = (14, 16, 900, 901, 902, 1000)
SHAPED_IDS = (900, 1000)  # contracts whose scalar fields name things (operation, stage)


class ValueGenerator:
    """Random HLX values of a chosen depth, with realistic and awkward parts."""

    def __init__(self, rng: random.Random, max_members: int = 6) -> None:
        self.rng = rng
        self.max_members = max_members

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return rng.choice((None, True, False))
        if roll < 0.30:
            return self.integer()
        if roll < 0.42:
            return self.floating()
        if roll < 0.70:
            return self.string()
        if roll < 0.78:
            return self.bytes_()
        return Handle(rng.choice(HANDLE_NAMES))

    def integer(self) -> int:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return rng.randint(0, 100)
        if roll < 0.7:
            return rng.randint(-1000, 1000)
        if roll < 0.85:
            return rng.randint(-(2**31), 2**31)
        return rng.choice((2**63 - 1, -(2**63), 2**64 - 1, 2**63, 255, 256, -129, 65535, 65536, 10**12, -(10**15)))

    def floating(self) -> float:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return round(rng.uniform(-1000, 1000), rng.randint(1, 3))
        if roll < 0.7:
            return float(rng.randint(-100, 100))
        if roll < 0.9:
            return rng.choice((1.0, 0.5, -0.5, 3.14, 2.718, 0.1, 1e-05, 1.5e-07, 1e100, 1e16, 6.02e23, -0.0, 0.0))
        return float(f"{rng.randint(1, 9)}.{rng.randint(0, 99)}e{rng.choice('+-')}{rng.randint(5, 40)}")

    def string(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            return rng.choice(WORDS)
        if roll < 0.75:
            return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4)))
        return rng.choice(AWKWARD_STRINGS)

    def bytes_(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.4:
            return rng.choice((b"data", b"", b"\x00\xff", b'"', b"hi\n", b"\\"))
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))

    def key(self) -> str:
        return self.rng.choice(AWKWARD_KEYS) if self.rng.random() < 0.12 else self.rng.choice(KEYS)

    def value(self, depth: int) -> Any:
        """A value whose nesting depth is exactly ``depth``."""
        if depth == 0:
            return self.scalar()
        rng = self.rng
        roll = rng.random()
        if depth == 1 and roll < 0.05:
            return rng.choice(([], {}))
        count = rng.randint(1, self.max_members if depth <= 2 else max(1, self.max_members // 2))
        deep_position = rng.randrange(count)
        children = [self.value(depth - 1 if i == deep_position else rng.randint(0, depth - 1)) for i in range(count)]
        return self.container(roll, children, deep_position)

    def container(self, roll: float, children: list[Any], deep_position: int) -> Any:
        """``children`` as an array, an object or a contract, as ``roll`` (0..1) falls."""
        if roll < 0.38:
            return children
        if roll < 0.70:
            result: dict[str, Any] = {}
            for child in children:
                key = self.key()
                while key in result:
                    key = self.key() + str(len(result))
                result[key] = child
            return result
        return self.contract(children, deep_position)

    def contract(self, children: list[Any], deep_position: int) -> Contract:
        """A contract holding ``children`` (at least the one at ``deep_position``)."""
        rng = self.rng
        contract_id = rng.choice(KNOWN_IDS) if rng.random() < 0.7 else rng.randrange(65536)
        if contract_id == 1000 and rng.random() < 0.7:
            operation = rng.choice(tuple(facts.OPERATIONS))
            kept = children[:5] if deep_position < 5 else children[:4] + [children[deep_position]]
            return Contract(1000, [(0, operation)] + [(i + 1, child) for i, child in enumerate(kept)])
        if contract_id == 900 and rng.random() < 0.5:
            return Contract(900, {0: Handle(rng.choice(HANDLE_NAMES)), 1: "main", 2: rng.choice(STAGES), 3: children[deep_position]})
        if rng.random() < 0.6:
            return Contract(contract_id, enumerate(children))
        indices = sorted(rng.sample(range(256), len(children)))
        return Contract(contract_id, zip(indices, children))

    def simple(self) -> Any:
        """A small realistic value (the examples of the specification look like this)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            operation = rng.choice(tuple(facts.OPERATIONS))
            arity = facts.OPERATIONS[operation][1]
            return Contract(1000, [(0, operation)] + [(i + 1, Handle(rng.choice(HANDLE_NAMES))) for i in range(arity)])
        if roll < 0.45:
            return Contract(rng.choice((14, 16)), {0: self.integer() if rng.random() < 0.5 else self.string()})
        if roll < 0.55:
            return Contract(
                902,
                {
                    0: rng.randint(1, 99),
                    1: [Handle(n) for n in rng.sample(HANDLE_NAMES, 2)],
                    2: rng.randint(0, 4),
                    3: Handle("output_image"),
                },
            )
        if roll < 0.75:
            return {rng.choice(KEYS): self.scalar() for _ in range(rng.randint(1, 3))}
        return [self.scalar() for _ in range(rng.randint(1, 4))]


class ScalarDrill:
    """Small values made of the scalars the experts get wrong most: byte strings (a hexadecimal
    look-up for every byte value) and integers (LC-B writes them in hexadecimal).

    Bytes are dealt from a shuffled deck that holds every byte value once and each printable
    ASCII byte twice (HLXL spells those as themselves, so they are a real look-up, where
    ``\\xNN`` is a copy), so that a few hundred drills spell every byte value many times.
    """

    PRINTABLE = range(0x20, 0x7F)

    def __init__(self, rng: random.Random, integers: bool) -> None:
        self.rng = rng
        self.integers = integers
        self.deck: list[int] = []

    def byte(self) -> int:
        if not self.deck:
            self.deck = list(range(256)) + list(self.PRINTABLE)
            self.rng.shuffle(self.deck)
        return self.deck.pop()

    def bytes_(self) -> bytes:
        return bytes(self.byte() for _ in range(self.rng.randint(1, 8)))

    def integer(self) -> int:
        digits = self.rng.randint(1, 19)
        magnitude = self.rng.randrange(10 ** (digits - 1) if digits > 1 else 0, 10**digits)
        return -min(magnitude, 2**63) if self.rng.random() < 0.3 else magnitude  # LC-B's range

    def scalar(self) -> bytes | int:
        return self.integer() if self.integers and self.rng.random() < 0.5 else self.bytes_()

    def value(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return self.scalar()
        members = [self.scalar() for _ in range(rng.randint(1, 4))]
        if roll < 0.65:
            return members
        return {key: member for key, member in zip(rng.sample(KEYS, len(members)), members)}


class NestingDrill:
    """Deep, narrow values of depth 3-4 whose members repeat one shape: a list of records
    with the same keys, a contract holding two arrays of arrays. The experts drop a nesting
    level where a value repeats a pattern, and such values are rare in the main draw (a
    depth-4 value seldom fits in a training value's 150 characters), so these spell them
    with small scalars, which keeps them short.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.values = ValueGenerator(rng)  # for its containers: arrays, objects, contracts

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            return rng.choice((None, True, False))
        if roll < 0.5:
            return rng.randint(0, 99)
        if roll < 0.8:
            return rng.choice(WORDS)
        return Handle(rng.choice(HANDLE_NAMES))

    def value(self) -> Any:
        return self.nested(self.rng.choice((3, 4, 4)))

    def nested(self, depth: int) -> Any:
        """A value of exactly ``depth`` whose members mostly share the deepest member's shape."""
        if depth == 0:
            return self.scalar()
        rng = self.rng
        roll = rng.random()
        count = rng.randint(1, 3)
        deep_position = rng.randrange(count)
        deepest = self.nested(depth - 1)
        children = [
            deepest if i == deep_position
            else self.restyled(deepest) if rng.random() < 0.7
            else self.nested(rng.randint(0, depth - 1))
            for i in range(count)
        ]  # fmt: skip
        return self.values.container(roll, children, deep_position)

    def restyled(self, value: Any) -> Any:
        """The same shape (containers, keys, contract ids and indices), new scalars."""
        if isinstance(value, list):
            return [self.restyled(member) for member in value]
        if isinstance(value, dict):
            return {key: self.restyled(member) for key, member in value.items()}
        if isinstance(value, Contract):
            kept = value.id in SHAPED_IDS  # an operation's name, a shader's stage: not data
            return Contract(value.id, [
                (index, field if kept and not isinstance(field, (list, dict, Contract)) else self.restyled(field))
                for index, field in value.items()
            ])  # fmt: skip
        return self.scalar()
