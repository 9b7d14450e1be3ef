"""Build the Cython hot paths. Each has a pure-Python twin with the same API, so a failed
compile falls back to Python, loudly: the build prints why, and importing the package warns
(``venue.codecs.framing.IMPLEMENTATION`` says which implementation is active)."""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

EXTENSIONS = [
    Extension("venue.codecs._framing", ["codecs/_framing.pyx"]),
    Extension("venue.codecs._tagvalue", ["codecs/_tagvalue.pyx"]),
    Extension("venue.engine.book._book", ["engine/book/_book.pyx"]),
]

BANNER = "=" * 78


def _warn(what: str, exc: BaseException) -> None:
    print(f"\n{BANNER}\nWARNING: {what} failed: {type(exc).__name__}: {exc}\n"
          f"venue falls back to its pure-Python implementations (slower, same behaviour).\n"
          f"{BANNER}\n", file=sys.stderr)


class OptionalBuildExt(build_ext):
    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a missing compiler must not block installation
            _warn("building the Cython extensions", exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(f"compiling {ext.name}", exc)


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        _warn("importing Cython", exc)
        return []
    try:
        return cythonize(EXTENSIONS, language_level=3, quiet=True)
    except Exception as exc:
        _warn("cythonizing", exc)
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
