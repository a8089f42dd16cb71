"""The managed-node Python floor: a clear failure, not a crash, on a Python older than 3.8 (issue 12)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.livescale.cloudstack.plugins.module_utils import _compat

ROOT = Path(__file__).resolve().parents[4]
# the folder that holds ansible_collections/, wherever the collection is imported from (pytest, ansible-test units);
# the child gets this process's sys.path too, where ansible-test units injects its ansible
COLLECTIONS = Path(_compat.__file__).absolute().parents[5]

# Python 3.6 under ansible-core 2.16 (which supports it): no dataclasses for the collection's code, version 3.6.15.
# ansible-core 2.19's own modules (which use dataclasses, and refuse 3.6 themselves) are imported first.
OLD_NODE = """
import sys
from ansible.module_utils.testing import patch_module_args
sys.modules["dataclasses"] = None
from ansible_collections.livescale.cloudstack.plugins.modules import {module} as module
sys.version_info = (3, 6, 15, "final", 0)
with patch_module_args({args!r}):
    module.main()
"""


def test_a_supported_python_passes():
    assert sys.version_info >= (3, 8) and _compat.unsupported_python() is None


def test_an_old_python_is_named_with_the_one_needed(monkeypatch):
    monkeypatch.setattr(_compat.sys, "version_info", (3, 7, 17, "final", 0))
    monkeypatch.setattr(_compat.sys, "executable", "/usr/bin/python3.7")
    message = _compat.unsupported_python()
    assert "needs Python 3.8 or later on the managed node, but /usr/bin/python3.7 is Python 3.7.17" in message
    assert "ansible_python_interpreter" in message


@pytest.mark.parametrize("module, args", [
    ("vm_scaling_info", {"vm": "web-01", "api_url": "http://127.0.0.1:1/client/api", "api_key": "key-1", "api_secret": "secret-1"}),
    ("vm_autoscale", {"vm": ["web-01"], "api_url": "http://127.0.0.1:1/client/api", "api_key": "key-1", "api_secret": "secret-1"}),
    ("libvirt_domain_scaling_info", {"domain": "i-2-10-VM", "uri": "test:///default"}),
])
def test_modules_load_without_dataclasses_and_fail_naming_the_python(module, args):
    run = subprocess.run([sys.executable, "-c", OLD_NODE.format(module=module, args=args)], capture_output=True,
                         text=True, cwd=ROOT, env={"PYTHONPATH": os.pathsep.join([str(ROOT), str(COLLECTIONS)] + sys.path)},
                         check=False, timeout=60)
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    assert result["failed"] is True and "Traceback" not in run.stderr
    assert "needs Python 3.8 or later on the managed node" in result["msg"] and "is Python 3.6.15" in result["msg"]
