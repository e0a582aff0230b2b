"""`core/` knows no domain package: each package plugs in through its plugin.py, the entry composes.

Every module under core/ is parsed (not imported) and each import in it is checked, those inside
functions included, and so are `importlib.import_module("...")` / `__import__("...")` with a
literal name. A relative import stays inside core and is fine.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT

FORBIDDEN = frozenset({"scheduler", "telephony", "calendars", "notifications", "app", "worker", "composition"})
CORE = PROJECT_ROOT / "core"


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in ("import_module", "__import__"):
                names.append((node.lineno, node.args[0].value))
    return names


def domain_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(PROJECT_ROOT)}:{line} imports {name}"
            for line, name in _imported_names(tree) if name.split(".")[0] in FORBIDDEN]


def test_the_check_sees_imports_anywhere_in_a_module() -> None:
    source = ("import scheduler.models\nfrom core import db\nfrom . import x\n"
              "def f():\n    from app import build\n    import importlib\n"
              "    importlib.import_module('notifications.jobs')\n    return __import__('worker')\n"
              "class C:\n    def g(self):\n        from composition import PLUGINS\n        import calendarsx\n")
    found = sorted(name for _, name in _imported_names(ast.parse(source)) if name.split(".")[0] in FORBIDDEN)
    assert found == ["app", "composition", "notifications.jobs", "scheduler.models", "worker"]


def test_core_modules_exist() -> None:
    assert len(list(CORE.rglob("*.py"))) > 10


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_imports_no_domain_package(path: Path) -> None:
    assert domain_imports(path) == []
