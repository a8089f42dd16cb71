"""The collection as a Galaxy user gets it: built with ansible-galaxy, installed from the tarball."""

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_GALAXY = str(Path(sys.executable).parent / "ansible-galaxy")


@pytest.fixture(name="collection_tarball", scope="session")
def fixture_collection_tarball(tmp_path_factory):
    """Path of the tarball `ansible-galaxy collection build` makes from this checkout."""
    output = tmp_path_factory.mktemp("dist")
    subprocess.run([ANSIBLE_GALAXY, "collection", "build", "--output-path", str(output), str(REPO_ROOT)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return next(output.glob("livescale-cloudstack-*.tar.gz"))


@pytest.fixture(scope="session")
def tarball_files(collection_tarball):
    """The file names in the tarball."""
    with tarfile.open(collection_tarball) as archive:
        return sorted(member.name for member in archive.getmembers() if member.isfile())


@pytest.fixture(scope="session")
def installed_collections(collection_tarball, tmp_path_factory):
    """A collections path with only the tarball installed in it (as AWX or an EE would)."""
    path = tmp_path_factory.mktemp("collections")
    subprocess.run([ANSIBLE_GALAXY, "collection", "install", "--force", "-p", str(path), str(collection_tarball)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return path
