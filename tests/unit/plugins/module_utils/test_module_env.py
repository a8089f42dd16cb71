"""An empty CLOUDSTACK_* variable counts as unset (AWX injects '' for the fields a credential does not save)."""

import pytest
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.livescale.cloudstack.plugins.module_utils._module import set_env_fallback


def test_the_first_set_variable_wins(monkeypatch):
    monkeypatch.setenv("CLOUDSTACK_TIMEOUT", "")
    monkeypatch.setenv("CLOUDSTACK_TIMEOUT_OLD", "30")
    assert set_env_fallback("CLOUDSTACK_TIMEOUT", "CLOUDSTACK_TIMEOUT_OLD") == "30"


@pytest.mark.parametrize("value", ["", None])
def test_empty_or_missing_is_no_fallback(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CLOUDSTACK_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("CLOUDSTACK_TIMEOUT", value)
    with pytest.raises(AnsibleFallbackNotFound):
        set_env_fallback("CLOUDSTACK_TIMEOUT")
