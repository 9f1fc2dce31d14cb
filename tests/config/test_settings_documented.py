"""Every environment variable that config/settings reads has its row in
docs/settings.md (default and meaning) and in the README's settings table, so
a new setting cannot ship undocumented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_DIR = BASE_DIR / "config" / "settings"


def _is_env_read(call: ast.Call) -> bool:
    """env.str(...), env.list(...), env_int(...), env_bool(...), ..., os.environ.get(...),
    os.getenv(...): the ways config/settings reads a variable."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id.startswith("env_")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id == "env" or (func.value.id, func.attr) == ("os", "getenv")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute):
        return ast.unparse(func.value) == "os.environ" and func.attr == "get"
    return False


def variables_read_by_settings() -> set[str]:
    names: set[str] = set()
    for path in SETTINGS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and _is_env_read(node) and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
            elif (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "os.environ"
                and isinstance(node.slice, ast.Constant)
            ):
                names.add(node.slice.value)
    return names


def documented(markdown: Path) -> set[str]:
    """The variables named in the first column of a table of ``markdown``."""
    names: set[str] = set()
    for line in markdown.read_text().splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_the_scan_finds_the_settings() -> None:
    found = variables_read_by_settings()
    # One of each way of reading: env.str, env.list, env_int, env_bool, env_seconds,
    # env_email, os.environ.get.
    assert {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SWITCHBOARD_INACTIVITY_SECONDS",
        "DEBUG",
        "SWITCHBOARD_SQLITE_CHECKPOINT_SECONDS",
        "EMAIL_URL",
        "SWITCHBOARD_TEST_DB_TAG",
    } <= found


def test_every_variable_the_settings_read_is_in_docs_settings_md() -> None:
    missing = variables_read_by_settings() - documented(BASE_DIR / "docs" / "settings.md")
    assert not missing, f"read in config/settings, no row in docs/settings.md: {sorted(missing)}"


def test_every_product_setting_is_in_the_readme() -> None:
    readme = (BASE_DIR / "README.md").read_text()
    missing = {name for name in variables_read_by_settings() if f"`{name}`" not in readme}
    assert not missing, f"read in config/settings, not in README.md: {sorted(missing)}"
