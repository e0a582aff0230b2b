"""Gettext for Pendel's pages: English msgids, Dutch catalogs, Dutch by default.

Every package keeps its own catalogs (`<package>/translations/nl/LC_MESSAGES/
*.po`, merged), so the package that owns a page owns its words. The catalogs
are read from their .po files and compiled in memory once per process: no
compiled .mo file to forget to rebuild, and a deploy needs no build step.
`tests/unit/test_catalogs.py` checks that every msgid the code and templates
use has a Dutch translation.
"""
from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Iterable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask_babel import Domain, get_locale

LANGUAGES = ("nl", "en")  # Dutch first: the office's language, and the default
DEFAULT_LANGUAGE = "nl"


def catalog_paths(directories: Iterable[Path], locale: str) -> list[Path]:
    """Every .po file of every package for `locale` (a package may split its words over several files)."""
    return [p for d in directories for p in sorted((d / locale / "LC_MESSAGES").glob("*.po"))]


def compile_catalogs(paths: Iterable[Path]) -> NullTranslations:
    """One Translations object from several .po files (later files win on a shared msgid)."""
    merged: Translations | None = None
    for path in paths:
        with path.open("rb") as handle:
            catalog = read_po(handle)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        translations = Translations(fp=buffer)
        if merged is None:
            merged = translations
        else:
            merged.merge(translations)
    return merged or NullTranslations()


class PackageCatalogs(Domain):
    """Flask-Babel's domain, reading each package's .po catalog instead of compiled .mo files."""

    def __init__(self, directories: Iterable[Path]) -> None:
        super().__init__()
        self._directories = [Path(d) for d in directories]
        self._by_locale: dict[str, NullTranslations] = {}
        self._lock = threading.Lock()

    def get_translations(self) -> NullTranslations:  # type: ignore[override]
        locale = str(get_locale() or DEFAULT_LANGUAGE)
        if locale == "en":
            return NullTranslations()  # the msgids are English
        found = self._by_locale.get(locale)
        if found is None:
            with self._lock:
                found = self._by_locale.get(locale)
                if found is None:
                    found = compile_catalogs(catalog_paths(self._directories, locale))
                    self._by_locale[locale] = found
        return found
