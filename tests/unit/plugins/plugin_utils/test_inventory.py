"""What the inventory plugins share: safe group names, tags, the plugin name check of verify_file."""

import pytest
import yaml

from ansible_collections.livescale.cloudstack.plugins.doc_fragments.cloudstack import ModuleDocFragment

from ansible_collections.livescale.cloudstack.plugins.inventory.vms import InventoryModule
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CLOUDSTACK_ARGUMENT_SPEC
from ansible_collections.livescale.cloudstack.plugins.plugin_utils import _inventory as inventory


def test_plugin_fragment_documents_the_module_connection_options_with_their_variables():
    options = yaml.safe_load(ModuleDocFragment.PLUGIN)["options"]
    assert tuple(options) == inventory.CONNECTION_OPTIONS
    for name, doc in options.items():
        spec = CLOUDSTACK_ARGUMENT_SPEC[name]
        assert (doc["type"], doc.get("default"), doc.get("choices")) == (spec["type"], spec.get("default"), spec.get("choices"))
        assert [env["name"] for env in doc["env"]] == spec["fallback"][1]


@pytest.mark.parametrize("parts, name", [
    (("zone", "zone-a"), "zone_zone_a"),
    (("offering", "Small NoScale"), "offering_Small_NoScale"),
    (("tag", "role", "web.server"), "tag_role_web_server"),
])
def test_group_names_are_safe_in_patterns(parts, name):
    assert inventory.group_name(*parts) == name


def test_tags_map_and_filter():
    assert inventory.tag_map([{"key": "env", "value": "prod"}, {"key": "", "value": "x"}]) == {"env": "prod"}
    assert inventory.tag_filter({"role": "web", "env": "prod"}) == [{"key": "env", "value": "prod"},
                                                                    {"key": "role", "value": "web"}]
    assert inventory.tag_filter({}) is None


def test_named_group_skips_empty_values():
    parts = inventory.named_group("host", "cloudstack_host")
    assert parts({"cloudstack_host": "kvm-1"}) == [("host", "kvm-1")]
    assert parts({"cloudstack_host": None}) == []


@pytest.mark.parametrize("file_name, text, accepted", [
    ("cloudstack.yml", "plugin: livescale.cloudstack.vms\n", True),
    ("cloudstack.yaml", "plugin: livescale.cloudstack.vms\napi_secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6131\n", True),
    ("cloudstack.yml", "plugin: livescale.cloudstack.kvm_hosts\n", False),
    ("cloudstack.yml", "plugin: [unclosed\n", False),
    ("cloudstack.ini", "plugin: livescale.cloudstack.vms\n", False),
])
def test_verify_file_accepts_only_yaml_naming_this_plugin(tmp_path, file_name, text, accepted):
    path = tmp_path / file_name
    path.write_text(text)
    assert InventoryModule().verify_file(str(path)) is accepted


def test_verify_file_refuses_a_missing_file(tmp_path):
    assert InventoryModule().verify_file(str(tmp_path / "absent.yml")) is False
