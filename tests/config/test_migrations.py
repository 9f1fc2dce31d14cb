"""The migrations match the models in any checkout: `makemigrations --check`
finds nothing to write, whatever the path of the checkout (a migration that
froze a machine's directory would differ from the models everywhere else)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings


@pytest.mark.django_db
def test_no_app_has_model_changes_without_a_migration(settings: Settings, tmp_path: Path) -> None:
    # A directory no migration can have been generated in.
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "elsewhere" / "private"
    out = StringIO()
    try:
        call_command("makemigrations", check_changes=True, dry_run=True, stdout=out)
    except SystemExit:
        pytest.fail(f"makemigrations --check found changes:\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()
