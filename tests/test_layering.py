"""The dependency rule of DESIGN.md: bot -> handlers -> storage, platforms only in bot/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
# What each package may import from this project.
ALLOWED = {
    "bot": {"bot", "handlers", "storage"},
    "handlers": {"handlers", "storage"},
    "storage": {"storage"},
}
PLATFORM_LIBRARIES = {"discord", "telegram"}
STORAGE_ONLY = {"aiosqlite", "yfinance"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    forbidden = set(PACKAGES) - ALLOWED[package]
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & forbidden)
        for path in sources(package)
        if imported_modules(path) & forbidden
    }
    assert offenders == {}


@pytest.mark.parametrize("package", ["handlers", "storage"])
def test_only_bot_imports_discord_or_telegram(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources(package)
        if imported_modules(path) & PLATFORM_LIBRARIES
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["bot", "handlers"])
def test_only_storage_imports_aiosqlite_or_yfinance(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources(package)
        if imported_modules(path) & STORAGE_ONLY
    ]
    assert offenders == []


def test_the_layering_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "leaky.py"
    module.write_text("from telegram import Bot\nimport storage.db\n", encoding="utf-8")
    assert imported_modules(module) == {"telegram", "storage"}
