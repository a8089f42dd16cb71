"""Modules run in-process here as on a managed node."""

import pytest
from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def managed_node_side(monkeypatch):
    """Importing controller code (the inventory plugins' tests do) flips ansible's process-wide
    ``is_controller``, which sends module warnings to the display instead of the result."""
    monkeypatch.setattr(_internal, "is_controller", False)
