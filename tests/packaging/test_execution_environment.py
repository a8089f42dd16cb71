"""extensions/ee/execution-environment.yml is accepted by ansible-builder with the collection's tarball.

Building the image needs a container engine and the base image, neither of which is available
here: the test stops at `ansible-builder create` (the build context) and runs the introspection
the image build runs on the installed collection.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.packaging.conftest import REPO_ROOT

ANSIBLE_BUILDER = str(Path(sys.executable).parent / "ansible-builder")
EE_DIR = REPO_ROOT / "extensions" / "ee"


def run_builder(*args, cwd):
    return subprocess.run([ANSIBLE_BUILDER, *args], cwd=cwd, check=True, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout


def test_builder_creates_a_context_with_the_collection_tarball(collection_tarball, tmp_path):
    ee_dir = tmp_path / "ee"
    shutil.copytree(EE_DIR, ee_dir)
    shutil.copy(collection_tarball, ee_dir)
    context = tmp_path / "context"
    run_builder("create", "-f", "execution-environment.yml", "-c", str(context), "--output-filename", "Containerfile",
                cwd=ee_dir)
    containerfile = (context / "Containerfile").read_text()
    assert "quay.io/centos/centos:stream9" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collections" / collection_tarball.name).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": f"collections/{collection_tarball.name}", "type": "file"}]


def test_introspection_finds_the_collection_requirements_as_lower_bounds(installed_collections, tmp_path):
    report = yaml.safe_load(run_builder("introspect", "--sanitize", str(installed_collections), cwd=tmp_path))
    python = [line.split("#")[0].strip() for line in report["python"]]
    assert python == [line for line in python if "==" not in line], "pins in requirements.txt reach every EE"
    assert {line.split(">=")[0] for line in python} == {"cs", "libvirt-python"}
    system = " ".join(report["system"])
    assert "libvirt-devel [platform:rpm compile]" in system and "libvirt0 [platform:dpkg]" in system
