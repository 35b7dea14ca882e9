"""What other packages add to ``hlx``: translation backends, commands and demo sections.

They are found through entry points (``importlib.metadata``), as pytest finds its plugins,
so this package never imports them by name: ``hlx_moe`` declares its ``moe`` backend, its
``corpus`` and ``moe`` commands and its demo section in its ``pyproject.toml``:

.. code-block:: toml

    [project.entry-points."hlx.backends"]
    moe = "hlx_moe:translate_with_moe"

A backend is a callable ``(text, to) -> str`` with :func:`hlx_formats.translate`'s meaning;
a command is a function that adds one subcommand to ``hlx``'s subparsers
(:data:`hlx_formats.cli.Registrar`); a demo section is a function that prints to a text
stream. The ``reference`` backend and the core commands are built in.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .errors import BackendUnavailable, HLXError

__all__ = ["BACKENDS", "COMMANDS", "DEMO_SECTIONS", "backend_names", "load_backend", "load_all"]

BACKENDS = "hlx.backends"
COMMANDS = "hlx.commands"
DEMO_SECTIONS = "hlx.demo"

#: What to install for a backend this package knows of but cannot import.
_INSTALL_HINTS = {
    "moe": "backend='moe' needs the [moe] extra (torch, transformers, peft, llguidance): "
    "pip install torch==2.13.0 && pip install 'hlx[moe]'",
}


def _found(group: str) -> dict[str, EntryPoint]:
    return {point.name: point for point in sorted(entry_points(group=group), key=lambda point: point.name)}


def backend_names() -> list[str]:
    """``"reference"`` and the name of every installed backend."""
    return ["reference", *_found(BACKENDS)]


def load_backend(name: str) -> Callable[[str, str | None], str]:
    """The installed backend called ``name``; BackendUnavailable if it cannot be imported,
    HLXError if no backend has that name."""
    found = _found(BACKENDS)
    if name not in found:
        if name in _INSTALL_HINTS:
            raise BackendUnavailable(_INSTALL_HINTS[name])
        raise HLXError(f"unknown backend {name!r}; expected one of: {', '.join(map(repr, backend_names()))}")
    try:
        backend: Callable[[str, str | None], str] = found[name].load()
        return backend
    except ImportError as error:
        hint = _INSTALL_HINTS.get(name, f"backend {name!r} ({found[name].value}) cannot be imported")
        raise BackendUnavailable(f"{hint}  (import failed: {error})") from None


def load_all(group: str) -> list[Any]:
    """Every entry point of ``group``, loaded, in name order; one whose package cannot be
    imported here (a missing extra) is left out."""
    loaded = []
    for point in _found(group).values():
        try:
            loaded.append(point.load())
        except ImportError:
            continue
    return loaded
