"""Every word a page shows has its Dutch: Dutch is the office's language and the default."""
from __future__ import annotations

import pytest

from tools.catalogs import PACKAGES, conflicts, missing


@pytest.mark.parametrize("package", PACKAGES)
def test_every_msgid_has_a_dutch_translation(package: str) -> None:
    gaps = missing(package)
    assert not gaps, f"{package}: run `python tools/catalogs.py update` and translate: {gaps[:10]}"


def test_no_msgid_has_two_dutch_translations() -> None:
    """The packages' catalogs merge into one: a msgid translated twice would show one of the two at random."""
    assert not conflicts(), conflicts()
