"""The sanity ignore file holds only the licence entry a non-GPL collection needs, once per module."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "validate-modules:missing-gplv3-license"


def ignore_entries():
    entries = []
    for path in sorted((ROOT / "tests" / "sanity").glob("ignore-*.txt")):
        for line in path.read_text().splitlines():
            rule = line.split("#", 1)[0].split()
            if rule:
                entries.append((path.name, rule[0], rule[1]))
    return entries


def test_only_the_licence_entry_is_ignored():
    others = [entry for entry in ignore_entries() if entry[2] != ALLOWED]
    assert not others, f"sanity ignores must not hide real problems: {others}"


def test_every_module_has_exactly_one_licence_entry_per_ignore_file():
    modules = sorted(f"plugins/{kind}/{path.name}" for kind in ("modules", "inventory")
                     for path in (ROOT / "plugins" / kind).glob("*.py") if path.name != "__init__.py")
    files = sorted({entry[0] for entry in ignore_entries()})
    assert files, "tests/sanity/ignore-<version>.txt is missing"
    for name in files:
        listed = sorted(entry[1] for entry in ignore_entries() if entry[0] == name)
        assert listed == modules, f"{name} must list each module once: expected {modules}, got {listed}"


def test_modules_carry_the_apache_header():
    for path in (ROOT / "plugins" / "modules").glob("*.py"):
        head = "\n".join(path.read_text().splitlines()[:5])
        assert "Apache License 2.0" in head, f"{path.name} lacks the Apache-2.0 header"
