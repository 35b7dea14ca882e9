"""The optional compiled codecs (``hlx_formats._speedups``); everything else is in pyproject.toml.

The extension is optional, as json's, msgpack's and cbor2's are: where it cannot be built (no
C compiler, no Python headers) the build goes on without it and says so in one line, and
``hlx_formats`` uses its pure-Python codecs (``hlx_formats.ACCELERATED`` is False).
``HLX_PURE_PYTHON=1`` turns it off at run time (it does not change the build).
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """build_ext that leaves the extension out, with one line, where it cannot be built."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - no compiler or headers: the pure-Python codecs serve
            self._left_out(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:  # noqa: BLE001 - the same, for one extension
            self._left_out(error)

    @staticmethod
    def _left_out(error: Exception) -> None:
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        print(f"hlx: the compiled codecs could not be built ({reason}); the pure-Python codecs are used", file=sys.stderr)


setup(
    ext_modules=[Extension("hlx_formats._speedups", ["hlx_formats/_speedups.c"], extra_compile_args=["-O2"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
