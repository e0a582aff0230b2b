"""Every word a page shows has its Dutch: Dutch is the office's language and the default."""
from __future__ import annotations

import pytest

from tools.catalogs import PACKAGES, missing


@pytest.mark.parametrize("package", PACKAGES)
def test_every_msgid_has_a_dutch_translation(package: str) -> None:
    gaps = missing(package)
    assert not gaps, f"{package}: run `python tools/catalogs.py update` and translate: {gaps[:10]}"
