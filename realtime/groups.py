"""The groups every socket is put in when it connects. Apps add their own
(a chat's group) from their frame handlers."""

from __future__ import annotations

# Every staff socket (agents, supervisors, administrators) is in this group.
STAFF_GROUP = "staff"


def user_group(user_id: int) -> str:
    """Every socket of one user (all tabs, all daphne processes)."""
    return f"user.{user_id}"
