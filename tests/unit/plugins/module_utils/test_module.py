"""CloudStackModule: option precedence (options > env > cloudstack.ini), the error edge, debug.api_calls."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import ApiError, ConfigurationError, InvalidValue, JobTimeout
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import CloudStackModule, connection_settings

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
        CloudStackModule(argument_spec=spec or {}).run(func)
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
    assert result["msg"].startswith("list zones failed: listZones got no CloudStack answer")
    assert result["command"] == "listZones" and result["debug"] == {"api_calls": 1}
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


def test_missing_connection_settings_fail_cleanly(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_KEY", "CLOUDSTACK_SECRET", "CLOUDSTACK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    code, result, _output = run_module(capsys, {}, lambda module: module.api.call("listZones"))
    assert code == 1 and result["msg"].startswith("missing CloudStack connection settings: api_url, api_key, api_secret.")
    assert result["debug"] == {"api_calls": 0}
