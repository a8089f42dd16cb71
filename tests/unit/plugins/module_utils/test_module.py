"""CloudStackModule: option precedence (options > env > cloudstack.ini), the error edge, debug.api_calls."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, ConfigurationError, InvalidValue, JobTimeout
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import NO_VERIFY_WARNING, CloudStackModule, connection_settings

SECRET = "ini-Secret-77"
CLOSED_PORT_URL = "http://127.0.0.1:1/client/api"


def write_ini(path, section="cloudstack", **values):
    path.write_text("[%s]\n%s\n" % (section, "\n".join("%s = %s" % item for item in values.items())))
    return path


def params(**given):
    base = {"api_url": None, "api_key": None, "api_secret": None, "api_region": "cloudstack", "api_config_file": None}
    base.update(given)
    return base


def test_ini_fills_only_what_options_leave_unset(tmp_path):
    ini = write_ini(tmp_path / "cs.ini", endpoint="http://ini.example/client/api", key="INI-KEY", secret=SECRET)
    settings = connection_settings(params(api_key="OPTION-KEY", api_config_file=str(ini)))
    assert settings == {"api_url": "http://ini.example/client/api", "api_key": "OPTION-KEY", "api_secret": SECRET}


def test_region_selects_the_section(tmp_path):
    ini = tmp_path / "cs.ini"
    ini.write_text("[cloudstack]\nendpoint = http://a/client/api\nkey = A\nsecret = a\n"
                   "[lab]\nendpoint = http://lab/client/api\nkey = LAB\nsecret = lab\n")
    assert connection_settings(params(api_region="lab", api_config_file=str(ini)))["api_key"] == "LAB"


def test_default_files_cwd_wins_over_home(tmp_path):
    home = write_ini(tmp_path / "home.ini", endpoint="http://home/client/api", key="HOME-KEY", secret="home")
    cwd = write_ini(tmp_path / "cwd.ini", key="CWD-KEY")
    settings = connection_settings(params(), default_files=[str(home), str(cwd)])
    assert settings == {"api_url": "http://home/client/api", "api_key": "CWD-KEY", "api_secret": "home"}


def test_ini_is_not_read_when_options_give_everything(tmp_path):
    settings = connection_settings(params(api_url="u", api_key="k", api_secret="s", api_config_file=str(tmp_path / "absent.ini")))
    assert settings == {"api_url": "u", "api_key": "k", "api_secret": "s"}


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="api_config_file .*absent.ini does not exist"):
        connection_settings(params(api_url="u", api_config_file=str(tmp_path / "absent.ini")))


def test_missing_settings_list_the_three_ways(tmp_path):
    ini = write_ini(tmp_path / "cs.ini", section="other", endpoint="http://x/client/api")
    with pytest.raises(ConfigurationError) as info:
        connection_settings(params(api_key="k", api_config_file=str(ini)))
    message = str(info.value)
    assert message.startswith("missing CloudStack connection settings: api_url, api_secret.")
    for way in ("module_defaults group/livescale.cloudstack.cloudstack", "CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY, CLOUDSTACK_SECRET",
                "section [cloudstack] of %s" % ini):
        assert way in message


def build_module(args):
    with patch_module_args(args):
        return CloudStackModule()


def test_env_fallback_beats_ini_and_options_beat_env(tmp_path, monkeypatch):
    ini = write_ini(tmp_path / "cs.ini", endpoint="http://ini/client/api", key="INI-KEY", secret=SECRET)
    monkeypatch.setenv("CLOUDSTACK_CONFIG", str(ini))
    monkeypatch.setenv("CLOUDSTACK_KEY", "ENV-KEY")
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", "http://env/client/api")
    monkeypatch.setenv("CLOUDSTACK_METHOD", "post")
    monkeypatch.setenv("CLOUDSTACK_VERIFY", "false")
    module = build_module({"api_url": "http://option/client/api"})
    api = module.api
    assert (api.endpoint, api._client.key, api._client.secret) == ("http://option/client/api", "ENV-KEY", SECRET)
    assert (api._client.method, api._client.verify) == ("post", False)
    assert module.params["wait_timeout"] == 600 and module.params["api_timeout"] == 10
    assert module.api is api, "the client is built once"


def run_module(capsys, args, func, spec=None):
    with patch_module_args(args), pytest.raises(SystemExit) as info:
        CloudStackModule(argument_spec=spec or {}, sleep=lambda seconds: None).run(func)
    output = capsys.readouterr().out
    return info.value.code, json.loads(output), output


def test_success_carries_debug_api_calls(capsys):
    code, result, _output = run_module(capsys, {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": SECRET, "name": "x"},
                                       lambda module: {"changed": False, "name": module.params["name"]}, spec={"name": {"type": "str"}})
    assert code == 0 and result["name"] == "x" and result["debug"] == {"api_calls": 0}


def test_transport_error_becomes_a_failure_without_the_secret(capsys):
    def func(module):
        module.api.call("listZones", action="list zones")

    code, result, output = run_module(capsys, {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": SECRET}, func)
    assert code == 1 and result["failed"]
    assert result["msg"].startswith("list zones failed: listZones got no CloudStack answer (6 attempts)")
    assert result["command"] == "listZones" and result["debug"] == {"api_calls": 6}, "a read is retried, every attempt counted"
    assert SECRET not in output


def test_api_error_fields_are_reported(capsys):
    def func(module):
        raise ApiError("scaleVirtualMachine", "Instance is not Running", errorcode=431, cserrorcode=4350, action="scale VM web-01")

    _code, result, _output = run_module(capsys, {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": "test-secret-1"}, func)
    assert result["msg"] == "scale VM web-01 failed: scaleVirtualMachine returned error 431 (cserrorcode 4350): Instance is not Running"
    assert (result["command"], result["errorcode"], result["cserrorcode"], result["errortext"]) == ("scaleVirtualMachine", 431, 4350, "Instance is not Running")


def test_job_timeout_reports_the_job_id(capsys):
    def func(module):
        raise JobTimeout("job-5", {"jobstatus": 0}, 600.0, action="scale VM web-01", command="scaleVirtualMachine")

    _code, result, _output = run_module(capsys, {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": "test-secret-1"}, func)
    assert result["jobid"] == "job-5" and "still running after 600.0 s" in result["msg"] and "errorcode" not in result


def test_error_result_fields_reach_the_failure(capsys):
    def func(module):
        error = InvalidValue("VM web-01 cannot be scaled")
        error.result = {"plan": {"action": "refuse", "reasons": ["zone setting off"]}, "msg": "not this one"}
        raise error

    _code, result, _output = run_module(capsys, {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": "test-secret-1"}, func)
    assert result["failed"] and result["msg"] == "VM web-01 cannot be scaled"
    assert result["plan"] == {"action": "refuse", "reasons": ["zone setting off"]}


def test_an_unexpected_error_fails_with_its_traceback_and_the_api_calls(capsys, monkeypatch):
    """Not a crash (MODULE FAILURE): a failure saying it is a bug, with the traceback for -vvv."""
    try:
        from ansible.module_utils._internal import _traceback
        monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda event: True)  # ANSIBLE_DISPLAY_TRACEBACK=error
    except ImportError:  # ansible-core before 2.19 always keeps the traceback
        pass

    def buggy_reader(module):
        return {"changed": False, "vm": {}["virtualmachine"]}

    code, result, _output = run_module(capsys, {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": "test-secret-1"},
                                       buggy_reader)
    assert code == 1 and result["failed"] and "unexpected error (a bug in livescale.cloudstack" in result["msg"]
    assert "KeyError: 'virtualmachine'" in result["msg"] and "in buggy_reader" in result["exception"]
    assert result["debug"] == {"api_calls": 0}


def test_missing_connection_settings_fail_cleanly(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_KEY", "CLOUDSTACK_SECRET", "CLOUDSTACK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    code, result, _output = run_module(capsys, {}, lambda module: module.api.call("listZones"))
    assert code == 1 and result["msg"].startswith("missing CloudStack connection settings: api_url, api_key, api_secret.")
    assert result["debug"] == {"api_calls": 0}


CONNECTION = {"api_url": CLOSED_PORT_URL, "api_key": "test-key-1", "api_secret": "test-secret-1"}


@pytest.mark.parametrize("given, named", [
    ({"api_timeout": 0}, "api_timeout=0 is not valid: give the seconds one HTTP request may take, 1 or more"),
    ({"api_timeout": -5}, "api_timeout=-5 is not valid"),
    ({"wait_timeout": -1}, "wait_timeout=-1 is not valid: give the seconds to wait for CloudStack's jobs, 0 or more"),
    ({"api_url": "cloud.example.com/client/api"}, "api_url='cloud.example.com/client/api' is not an http(s) URL"),
    ({"api_url": "ftp://cloud.example.com/client/api"}, "api_url='ftp://cloud.example.com/client/api' is not an http(s) URL"),
    ({"api_region": " "}, "api_region=' ' is empty: give the section of cloudstack.ini"),
    ({"api_verify_ssl": "/no/such/ca.pem"}, "api_verify_ssl='/no/such/ca.pem' is neither a boolean nor an existing CA bundle"),
    ({"vm": "  "}, "vm='  ' is blank: give a name or id"),
    ({"zones": ["z1", ""]}, "zones=['z1', ''] is blank: give a name or id in every item"),
])
def test_bad_options_fail_before_any_api_call(capsys, given, named):
    spec = {"vm": {"type": "str", "required": True}, "zones": {"type": "list", "elements": "str"}}
    called = []
    code, result, _output = run_module(capsys, dict(dict(CONNECTION, vm="web-01"), **given), called.append, spec=spec)
    assert code == 1 and result["msg"].startswith(named)
    assert not called and result["debug"] == {"api_calls": 0}


def test_a_ca_bundle_path_is_taken_and_false_warns(capsys, tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr(CloudStackModule, "warn", lambda module, message: warned.append(message))
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    _code, result, _output = run_module(capsys, dict(CONNECTION, api_verify_ssl=str(bundle)),
                                        lambda module: {"changed": False, "verify": module.api._client.verify})
    assert result["verify"] == str(bundle) and not warned
    run_module(capsys, dict(CONNECTION, validate_certs=False), lambda module: {"changed": False})
    assert warned == [NO_VERIFY_WARNING % CLOSED_PORT_URL]
    assert warned[0].startswith("api_verify_ssl is false: the TLS certificate of %s is not verified" % CLOSED_PORT_URL)


def test_cloudstack_verify_takes_a_ca_bundle_and_empty_variables_count_as_unset(capsys, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("CLOUDSTACK_VERIFY", str(bundle))
    for name in ("CLOUDSTACK_TIMEOUT", "CLOUDSTACK_REGION", "CLOUDSTACK_METHOD"):
        monkeypatch.setenv(name, "")
    _code, result, _output = run_module(capsys, CONNECTION, lambda module: {
        "changed": False, "verify": module.api._client.verify,
        "options": [module.params[name] for name in ("api_timeout", "api_region", "api_http_method")]})
    assert result["verify"] == str(bundle) and result["options"] == [10, "cloudstack", "get"]
