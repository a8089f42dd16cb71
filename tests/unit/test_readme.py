"""The README keeps in step with the collection: every module and playbook is listed."""

from pathlib import Path

from ansible_collections.livescale.cloudstack.plugins.module_utils._module import INI_KEYS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_module_is_in_the_module_table():
    missing = [path.stem for path in (ROOT / "plugins" / "modules").glob("*.py")
               if f"`livescale.cloudstack.{path.stem}`" not in README]
    assert not missing, f"add to the README module table: {missing}"


def test_every_playbook_and_role_is_mentioned():
    names = [f"playbooks/{path.name}" for path in (ROOT / "playbooks").glob("*.yml")]
    names += [f"roles/{path.name}" for path in (ROOT / "roles").iterdir() if path.is_dir()]
    missing = [name for name in names if name not in README]
    assert not missing, f"mention in the README: {missing}"


def section_titles():
    return [line[3:] for line in README.splitlines() if line.startswith("## ")]


def test_users_read_what_it_is_and_how_to_try_it_first():
    """The demo and test commands stay at the top; then what a Galaxy user needs; development after."""
    first = section_titles()[0]
    assert first.startswith("Try it"), first
    try_it = README.split("## ", 2)[1]
    assert "bash scripts/demo.sh" in try_it and "bash scripts/test.sh" in try_it
    titles = section_titles()
    for user_section in ("Installation", "Requirements", "AWX / Automation Controller", "Execution environment"):
        assert titles.index(user_section) < titles.index("Development"), user_section


def test_ini_keys_are_the_ones_read():
    """Only the keys _module.INI_KEYS reads are listed for cloudstack.ini."""
    rows = [line.split("|") for line in README.splitlines() if line.startswith("| `api_")]
    listed = {row[3].strip().strip("`") for row in rows} - {"", "(section name)"}
    assert listed == {key for _option, key in INI_KEYS}
