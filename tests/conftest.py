"""Session-wide test setup.

When REDIS_URL is unset the suite runs against the private Redis of
config/embedded_redis.py (the same one `make run` uses), so `make test` needs
no server installed. Set REDIS_URL / DATABASE_URL to run against real servers.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("REDIS_URL"):
        from config import embedded_redis

        os.environ["REDIS_URL"] = embedded_redis.start()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # trylast: after `-m` has deselected, and after tests/e2e marked its tests `browser`.
    _keep_browser_tests_apart(config, items)
    _skip_postgres_tests_elsewhere(items)


def _keep_browser_tests_apart(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Playwright's event loop breaks the pytest-asyncio tests that run after it in the
    same process, so a run that selected both kinds (a bare `pytest`) leaves the browser
    tests out and says how to run them."""
    browser = [item for item in items if item.get_closest_marker("browser")]
    if not browser or len(browser) == len(items):
        return
    items[:] = [item for item in items if not item.get_closest_marker("browser")]
    config.hook.pytest_deselected(items=browser)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"note: {len(browser)} browser tests left out; they run in their own process: "
            "pytest -m browser tests/e2e (make test runs both)",
            yellow=True,
        )


def _skip_postgres_tests_elsewhere(items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` (races, row locks) only mean something on PostgreSQL."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploaded files of one test never leak into another's."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    from django.utils.functional import empty

    from tickets.models import private_storage

    private_storage._wrapped = empty
    yield
    private_storage._wrapped = empty
