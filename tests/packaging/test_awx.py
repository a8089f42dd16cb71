"""The AWX credential type and job template playbooks, run as AWX runs them.

AWX renders a credential type's injectors with Jinja (an immutable sandbox) over the saved inputs
only: a field that was not saved is undefined, a boolean that was not saved is false, and every
env injector is set, even when it renders empty (awx/main/models/credential/__init__.py,
CredentialType.inject_credential). The job then runs through ansible-runner, AWX's own engine.
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import ansible_runner
import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.packaging.conftest import REPO_ROOT

AWX_DIR = REPO_ROOT / "extensions" / "awx"
CREDENTIAL_TYPE = yaml.safe_load((AWX_DIR / "cloudstack_credential_type.yml").read_text())
FIELDS = CREDENTIAL_TYPE["inputs"]["fields"]
SURVEYS = {path.stem: json.loads(path.read_text()) for path in (AWX_DIR / "surveys").glob("*.json")}
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def render_injectors(inputs, private_data_dir):
    """The environment AWX injects for a credential with these saved inputs."""
    namespace = {"tower": SimpleNamespace()}
    namespace.update((name, value) for name, value in inputs.items() if isinstance(value, bool) or len(value))
    for field in FIELDS:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    for template in CREDENTIAL_TYPE["injectors"].get("file", {}).values():
        handle, path = tempfile.mkstemp(dir=private_data_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        namespace["tower"].filename = path
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in CREDENTIAL_TYPE["injectors"]["env"].items()}


def test_injector_templates_are_valid_for_awx():
    """AWX checks injectors by rendering them strictly with every field set; all of them reference fields."""
    namespace = {field["id"]: True if field["type"] == "boolean" else "EXAMPLE" for field in FIELDS}
    namespace["tower"] = SimpleNamespace(filename="/runner/env/tmpfile")
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for injector in CREDENTIAL_TYPE["injectors"].values():
        for template in injector.values():
            strict.from_string(template).render(**namespace)


def test_every_secret_field_is_secret():
    secret = {field["id"] for field in FIELDS if field.get("secret")}
    assert {"key", "secret"} <= secret
    assert set(CREDENTIAL_TYPE["inputs"]["required"]) == {"endpoint", "key", "secret"}


def test_unsaved_fields_inject_nothing_and_verification_stays_on(tmp_path):
    env = render_injectors({"endpoint": "https://cloud.example.com/client/api", "key": "K", "secret": "S"}, tmp_path)
    assert env == {"CLOUDSTACK_ENDPOINT": "https://cloud.example.com/client/api", "CLOUDSTACK_KEY": "K",
                   "CLOUDSTACK_SECRET": "S", "CLOUDSTACK_METHOD": "", "CLOUDSTACK_TIMEOUT": "", "CLOUDSTACK_VERIFY": ""}


def test_ca_bundle_is_injected_as_a_file_and_wins_over_skip(tmp_path):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    env = render_injectors({"endpoint": "https://c/client/api", "key": "K", "secret": "S", "ca_bundle": pem,
                            "skip_tls_verify": True}, tmp_path)
    assert Path(env["CLOUDSTACK_VERIFY"]).read_text() == pem
    env = render_injectors({"endpoint": "https://c/client/api", "key": "K", "secret": "S", "skip_tls_verify": True},
                           tmp_path)
    assert env["CLOUDSTACK_VERIFY"] == "false"


def test_surveys_are_valid_awx_survey_specs():
    for name, survey in SURVEYS.items():
        assert set(survey) == {"name", "description", "spec"}, name
        variables = [question["variable"] for question in survey["spec"]]
        assert len(variables) == len(set(variables)), name
        for question in survey["spec"]:
            assert {"question_name", "variable", "type", "required"} <= set(question), (name, question)
            assert question["type"] in SURVEY_TYPES, (name, question)
            if question["type"] == "multiplechoice":
                assert question["default"] in question["choices"], (name, question)


@pytest.mark.parametrize("playbook", sorted(path.stem for path in (REPO_ROOT / "playbooks").glob("*.yml")
                                            if path.stem != "demo"))
def test_every_playbook_has_a_job_template_playbook(playbook):
    project_playbook = yaml.safe_load((AWX_DIR / "project" / f"{playbook}.yml").read_text())
    assert project_playbook[0]["ansible.builtin.import_playbook"] == f"livescale.cloudstack.{playbook}"


@pytest.mark.parametrize("survey", sorted(name for name in SURVEYS
                                          if (REPO_ROOT / "playbooks" / f"{name}.yml").exists()))
def test_survey_variables_are_the_playbook_variables(survey):
    header = (REPO_ROOT / "playbooks" / f"{survey}.yml").read_text()
    undocumented = [question["variable"] for question in SURVEYS[survey]["spec"]
                    if f"#   {question['variable']} " not in header]
    assert not undocumented, f"playbooks/{survey}.yml does not document {undocumented}"


def blank_survey_answers(survey, **answers):
    """Extra vars as AWX sends them for a survey: blank ('') for every question not answered."""
    values = {question["variable"]: question.get("default", "") for question in SURVEYS[survey]["spec"]}
    values.update(answers)
    return values


def test_job_template_run_with_the_rendered_credential(simulator, installed_collections, tmp_path):
    """A credential with only endpoint, key and secret, and the scale_vm survey with its optional answers blank."""
    private_data_dir = tmp_path / "job"
    (private_data_dir / "env").mkdir(parents=True)
    shutil.copytree(AWX_DIR / "project", private_data_dir / "project")
    envvars = render_injectors({"endpoint": simulator.url, "key": simulator.admin_key,
                                "secret": simulator.admin_secret}, private_data_dir / "env")
    envvars.update(ANSIBLE_COLLECTIONS_PATH=str(installed_collections), ANSIBLE_NOCOLOR="1",
                   PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    extravars = blank_survey_answers("scale_vm", scale_vm_name="db-01", scale_vm_service_offering="Large")
    inventory = f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}"
    run = ansible_runner.run(private_data_dir=str(private_data_dir), playbook="scale_vm.yml", envvars=envvars,
                             extravars=extravars, inventory=inventory, quiet=True)
    output = run.stdout.read()
    assert (run.status, run.rc) == ("successful", 0), output[-4000:]
    assert run.stats["changed"] == {"localhost": 1}, output[-4000:]
    vm = simulator.client().ok("listVirtualMachines", name="db-01", listall="true")["virtualmachine"][0]
    assert vm["serviceofferingname"] == "Large"
