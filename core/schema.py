"""The metadata Alembic and the tests compare with: core's models plus the packages' model modules.

Core knows no domain package, so it does not import their models itself: the
composition (composition.py `metadata()`) hands it the model modules of every
plugin (`Plugin.model_modules`) and gets the full metadata back.
"""
from __future__ import annotations

import importlib
from typing import Iterable

from sqlalchemy import MetaData

from core.db import Base

CORE_MODEL_MODULES = ("core.models", "core.sessions")


def metadata_of(model_modules: Iterable[str]) -> MetaData:
    """Import core's model modules and `model_modules`, so every table is on the shared metadata; return it."""
    for name in (*CORE_MODEL_MODULES, *model_modules):
        importlib.import_module(name)
    return Base.metadata
