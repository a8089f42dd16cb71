"""ansible-test units and integration as maintainers run them, on a copy of this checkout.

ansible-test needs the collection at .../ansible_collections/livescale/cloudstack, so the tree is
copied to .build/ansible-test/ first. `integration` gives every target a fresh simulator (the targets
start from the default seed's state) and points ansible-test's CloudStack cloud at it with
tests/integration/cloud-config-cs.ini: the targets (aliases: cloud/cs) get CLOUDSTACK_ENDPOINT,
CLOUDSTACK_KEY, CLOUDSTACK_SECRET and CLOUDSTACK_TIMEOUT from it.

    python scripts/ansible_test.py units [ansible-test options]
    python scripts/ansible_test.py integration [target ...]
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.testing import SimulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

COPY = ROOT / ".build" / "ansible-test" / "ansible_collections" / "livescale" / "cloudstack"
ANSIBLE_TEST = [str(Path(sys.executable).parent / "ansible-test")]
COMMON = ["--venv", "--requirements", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}", "--color", "no"]
CLOUD_CONFIG = """\
[cloudstack]
endpoint = {url}

[default]
endpoint = {url}
key = {key}
secret = {secret}
timeout = 30
"""


def copy_tree():
    COPY.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rsync", "-a", "--delete", "--exclude", ".venv", "--exclude", ".build", "--exclude", "tests/output",
                    "--exclude", ".pytest_cache", f"{ROOT}/", f"{COPY}/"], check=True)


def integration(targets, options):
    """Each target against its own fresh simulator; returns the number of failed targets."""
    names = targets or sorted(path.name for path in (COPY / "tests" / "integration" / "targets").iterdir()
                              if (path / "aliases").is_file())
    failed = []
    for name in names:
        with SimulatorProcess(db=COPY / "tests" / "output" / f"{name}.sqlite") as simulator:
            (COPY / "tests" / "integration" / "cloud-config-cs.ini").write_text(CLOUD_CONFIG.format(
                url=simulator.url, key=simulator.admin_key, secret=simulator.admin_secret))
            command = ANSIBLE_TEST + ["integration", *COMMON, *options, name]
            if subprocess.run(command, cwd=COPY, check=False).returncode:
                failed.append(name)
    names_failed = (": " + ", ".join(failed)) if failed else ""
    print(f"ansible-test integration: {len(names) - len(failed)} passed, {len(failed)} failed{names_failed}")
    return len(failed)


def main(argv):
    command, args = argv[0], argv[1:]
    copy_tree()
    (COPY / "tests" / "output").mkdir(parents=True, exist_ok=True)
    if command == "units":
        return subprocess.run(ANSIBLE_TEST + ["units", *COMMON, *args], cwd=COPY, check=False).returncode
    if command == "integration":
        targets = [arg for arg in args if not arg.startswith("-")]
        return 1 if integration(targets, [arg for arg in args if arg.startswith("-")]) else 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["--help"]))
