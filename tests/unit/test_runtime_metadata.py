"""meta/runtime.yml lists every module that talks to the CloudStack API, and nothing else."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES_DIR = ROOT / "plugins" / "modules"


def api_modules():
    """Modules built on the CloudStack API wrapper."""
    return {
        path.stem
        for path in MODULES_DIR.glob("*.py")
        if "module_utils._module import" in path.read_text()
    }


def action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    return runtime["action_groups"]["cloudstack"]


def test_every_api_module_is_in_the_action_group():
    missing = api_modules() - set(action_group())
    assert not missing, f"add to meta/runtime.yml action_groups.cloudstack: {sorted(missing)}"


def test_action_group_names_only_existing_api_modules():
    group = action_group()
    assert len(group) == len(set(group)), "duplicate entries in the action group"
    unknown = set(group) - api_modules()
    assert not unknown, f"not API modules of this collection: {sorted(unknown)}"


def test_api_modules_document_the_action_group_attribute():
    for name in api_modules():
        text = (MODULES_DIR / f"{name}.py").read_text()
        assert "livescale.cloudstack.attributes.actiongroup" in text, f"{name} lacks the action_group attribute fragment"
