"""The README keeps in step with the collection: every module and playbook is listed."""

from pathlib import Path

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
