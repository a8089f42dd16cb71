"""The roles' argument specs, defaults and READMEs describe the same variables."""

import re
from pathlib import Path

import pytest
import yaml

from tests.molecule_support import fake_libvirtd

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir() if (path / "meta" / "argument_specs.yml").exists())


def load(role, *parts):
    """Read one YAML file of a role."""
    return yaml.safe_load(ROLES_DIR.joinpath(role, *parts).read_text())


def spec_options(role):
    """Return the options of the role's main entry point."""
    return load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


def readme_rows(role):
    """Return {variable: default cell} from the README's variable table."""
    rows = {}
    for line in ROLES_DIR.joinpath(role, "README.md").read_text().splitlines():
        match = re.match(r"^\| `(\w+)` \| [^|]+ \| (.+?) \| .+ \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_is_prefixed_specified_defaulted_and_documented(role):
    options = spec_options(role)
    defaults = load(role, "defaults", "main.yml")
    assert all(name.startswith(role + "_") for name in options)
    assert set(defaults) == set(options)
    assert set(readme_rows(role)) == set(options)


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_the_spec_and_the_readme(role):
    defaults = load(role, "defaults", "main.yml")
    rows = readme_rows(role)
    for name, option in spec_options(role).items():
        if option.get("required"):
            assert rows[name] == "(required)", name
            continue
        assert defaults[name] == option["default"], name
        assert yaml.safe_load(rows[name].strip("`")) == option["default"], name
        if "choices" in option:
            assert option["default"] in option["choices"], name


@pytest.mark.parametrize("conf, env, ports", [
    ("", 'LIBVIRTD_ARGS="--listen"', [16514]),
    ('listen_tcp = 1\nlisten_tls = 0\ntcp_port = "16600"', 'LIBVIRTD_ARGS="--listen"', [16600]),
    ("listen_tcp = 1", '#LIBVIRTD_ARGS="--listen"', []),
    ('listen_tcp = 1 # on\ntls_port = "16700"', 'LIBVIRTD_ARGS="--listen"', [16700, 16509]),
])
def test_fake_libvirtd_listens_like_libvirtd(conf, env, ports):
    assert fake_libvirtd.listening_ports(conf, env) == ports
