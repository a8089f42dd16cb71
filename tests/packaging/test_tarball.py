"""The built tarball ships what runs from it, and nothing that needs the source repository."""

import yaml

from tests.packaging.conftest import REPO_ROOT

NOT_SHIPPED = ("simulator/", "tests/unit/", "tests/integration/", "tests/simulator/", "tests/e2e/",
               "tests/packaging/", "tests/molecule_support/", "scripts/", "tools/", "benchmarks/", ".ansible-lint", ".gitignore", "pytest.ini",
               "requirements-dev.txt", "docs/architecture.md", "docs/fidelity.md")


def test_tarball_leaves_out_what_needs_the_source_repository(tarball_files):
    """Of tests/, only what ansible-test sanity reads from an installed collection ships."""
    shipped = [name for name in tarball_files if name.startswith(NOT_SHIPPED) or "/molecule/" in name
               or (name.startswith("tests/") and not name.startswith(("tests/sanity/", "tests/config.yml")))]
    assert not shipped, f"add to build_ignore in galaxy.yml: {shipped}"


def test_tarball_ships_the_collection_and_its_extensions(tarball_files):
    for name in ("README.md", "LICENSE", "CHANGELOG.rst", "requirements.txt", "bindep.txt", "meta/runtime.yml",
                 "meta/execution-environment.yml", "extensions/awx/cloudstack_credential_type.yml",
                 "extensions/ee/execution-environment.yml", "docs/docsite/links.yml", "tests/config.yml"):
        assert name in tarball_files
    for path in sorted((REPO_ROOT / "plugins").rglob("*.py")) + sorted((REPO_ROOT / "playbooks").glob("*.yml")):
        assert str(path.relative_to(REPO_ROOT)) in tarball_files


def test_galaxy_metadata_has_no_placeholder_urls():
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    urls = [galaxy[key] for key in ("repository", "documentation", "homepage", "issues") if galaxy.get(key)]
    assert not [url for url in urls if "example" in url or ".invalid" in url], urls
