# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: the module edge around AnsibleModule.

Not a public API: it may change without notice. This is the only place that turns the typed errors
of ``_api`` (and the waiter's timeout) into ``fail_json``, and every result it emits carries
``debug.api_calls``; an unexpected error fails with its traceback, a too old Python with the one needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import os

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 only
    from urlparse import urlparse

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import (
    CS_IMPORT_ERROR,
    HAS_CS,
    CloudStackApi,
    CloudStackError,
    ConfigurationError,
    InvalidValue,
    tls_verification,
)
from ansible_collections.livescale.cloudstack.plugins.module_utils._compat import unexpected_failure, unsupported_python
from ansible_collections.livescale.cloudstack.plugins.module_utils._wait import WaitTimeout


def set_env_fallback(*names):
    """The first of the environment variables ``names`` that is set and not empty.

    Unlike ansible's env_fallback, an empty variable counts as unset: AWX credential injectors render
    the fields a credential does not save as empty strings.
    """
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


CLOUDSTACK_ARGUMENT_SPEC = dict(
    api_url=dict(type="str", fallback=(set_env_fallback, ["CLOUDSTACK_ENDPOINT"])),
    api_key=dict(type="str", no_log=True, fallback=(set_env_fallback, ["CLOUDSTACK_KEY"])),
    api_secret=dict(type="str", no_log=True, fallback=(set_env_fallback, ["CLOUDSTACK_SECRET"])),
    api_http_method=dict(type="str", choices=["get", "post"], default="get", fallback=(set_env_fallback, ["CLOUDSTACK_METHOD"])),
    api_timeout=dict(type="int", default=10, fallback=(set_env_fallback, ["CLOUDSTACK_TIMEOUT"])),
    api_verify_ssl=dict(type="raw", default=True, aliases=["validate_certs"], fallback=(set_env_fallback, ["CLOUDSTACK_VERIFY"])),
    api_region=dict(type="str", default="cloudstack", fallback=(set_env_fallback, ["CLOUDSTACK_REGION"])),
    api_config_file=dict(type="path", fallback=(set_env_fallback, ["CLOUDSTACK_CONFIG"])),
    wait_timeout=dict(type="int", default=600),
)

# module option -> key in the cloudstack.ini section
INI_KEYS = (("api_url", "endpoint"), ("api_key", "key"), ("api_secret", "secret"))
_ERROR_FIELDS = ("command", "errorcode", "cserrorcode", "errortext", "jobid")
NO_VERIFY_WARNING = ("api_verify_ssl is false: the TLS certificate of %s is not verified, so a machine in between can pose as"
                     " CloudStack; to trust a private CA, give its bundle instead (api_verify_ssl: /path/to/ca.pem, or"
                     " CLOUDSTACK_VERIFY=/path/to/ca.pem)")


def default_config_files():
    """cloudstack.ini candidates in reading order: ~/.cloudstack.ini, then ./cloudstack.ini (which wins)."""
    return [os.path.join(os.path.expanduser("~"), ".cloudstack.ini"), os.path.join(os.getcwd(), "cloudstack.ini")]


def _read_ini_section(files, region):
    parser = configparser.ConfigParser()
    parser.read(files)
    if not parser.has_section(region):
        return {}
    return dict(parser.items(region))


def connection_settings(params, default_files=None):
    """api_url, api_key and api_secret from the options, completed from the cloudstack.ini section.

    Options (and their CLOUDSTACK_* environment fallbacks) win over the ini file. Raises
    ConfigurationError naming what is missing and the three ways to set it.
    """
    settings = dict((option, params.get(option)) for option, _key in INI_KEYS)
    if all(settings.values()):
        return settings
    config_file = params.get("api_config_file")
    if config_file:
        if not os.path.isfile(config_file):
            raise ConfigurationError("api_config_file %s does not exist; point api_config_file (or CLOUDSTACK_CONFIG) at a cloudstack.ini file" % config_file)
        files = [config_file]
    else:
        files = default_config_files() if default_files is None else default_files
    region = params.get("api_region") or "cloudstack"
    section = _read_ini_section(files, region)
    for option, key in INI_KEYS:
        settings[option] = settings[option] or section.get(key)
    missing = [option for option, _key in INI_KEYS if not settings[option]]
    if missing:
        raise ConfigurationError(
            "missing CloudStack connection settings: %s. Set them (1) as module options api_url, api_key, api_secret "
            "(once for all modules with module_defaults group/livescale.cloudstack.cloudstack), (2) as environment variables "
            "CLOUDSTACK_ENDPOINT, CLOUDSTACK_KEY, CLOUDSTACK_SECRET, or (3) as endpoint, key, secret in section [%s] of %s"
            % (", ".join(missing), region, " or ".join(files)))
    return settings


def check_url(url):
    """Raise ConfigurationError unless ``url`` is an http(s) URL with a host."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError("api_url=%r is not an http(s) URL of the CloudStack API: give it as"
                                 " https://cloud.example.com/client/api (or set CLOUDSTACK_ENDPOINT)" % (url,))


def check_connection_options(params):
    """Raise ConfigurationError naming the first connection or wait option whose value cannot work, and its fix."""
    if params["api_timeout"] <= 0:
        raise ConfigurationError("api_timeout=%s is not valid: give the seconds one HTTP request may take, 1 or more"
                                 " (default 10; also CLOUDSTACK_TIMEOUT)" % params["api_timeout"])
    if params.get("wait_timeout") is not None and params["wait_timeout"] < 0:
        raise ConfigurationError("wait_timeout=%s is not valid: give the seconds to wait for CloudStack's jobs, 0 or more"
                                 " (default 600)" % params["wait_timeout"])
    if not str(params.get("api_region") or "").strip():
        raise ConfigurationError("api_region=%r is empty: give the section of cloudstack.ini to read (default cloudstack;"
                                 " also CLOUDSTACK_REGION)" % (params.get("api_region"),))


def check_blank_options(spec, params):
    """Raise InvalidValue for a required text option that is blank, or a text list with a blank item."""
    for name, option in sorted(spec.items()):
        value = params.get(name)
        blank_text = option.get("type", "str") == "str" and option.get("required") and value is not None and not value.strip()
        blank_item = option.get("type") == "list" and option.get("elements") == "str" and any(not str(item).strip() for item in value or ())
        if blank_text or blank_item:
            raise InvalidValue("%s=%r is blank: give a name or id%s" % (name, value, " in every item" if blank_item else ""))


def failure_fields(exc):
    """fail_json fields for a typed error: its result fields, msg, and command/errorcode/cserrorcode/errortext/jobid when known."""
    fields = dict(exc.result or {}, msg=str(exc))
    for name in _ERROR_FIELDS:
        value = getattr(exc, name, None)
        if value is not None:
            fields[name] = value
    return fields


class CloudStackModule:
    """AnsibleModule with the common CloudStack options, a lazy API client and the error edge."""

    def __init__(self, argument_spec=None, supports_check_mode=True, clock=None, sleep=None, **kwargs):
        spec = dict(CLOUDSTACK_ARGUMENT_SPEC)
        spec.update(argument_spec or {})
        self._module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self._spec = spec
        self._timing = dict((name, value) for name, value in (("clock", clock), ("sleep", sleep)) if value is not None)
        self._api = None
        self._connection = None

    @property
    def params(self):
        return self._module.params

    @property
    def check_mode(self):
        return self._module.check_mode

    @property
    def diff_mode(self):
        return self._module._diff

    def validate(self):
        """Check the options before any API call: ConfigurationError or InvalidValue naming the option, value and fix.

        Also resolves the connection settings (options, CLOUDSTACK_*, cloudstack.ini) and warns when TLS
        verification is off.
        """
        if self._connection is not None:
            return self._connection
        check_connection_options(self.params)
        check_blank_options(self._spec, self.params)
        connection = connection_settings(self.params)
        check_url(connection["api_url"])
        connection["verify"] = tls_verification(self.params["api_verify_ssl"])
        if connection["verify"] is False:
            self.warn(NO_VERIFY_WARNING % connection["api_url"])
        self._connection = connection
        return connection

    @property
    def api(self):
        """The CloudStackApi, built on first use from the options and cloudstack.ini."""
        if self._api is None:
            settings = self.validate()
            self._api = CloudStackApi(settings["api_url"], settings["api_key"], settings["api_secret"],
                                      method=self.params["api_http_method"], timeout=self.params["api_timeout"],
                                      verify=settings["verify"], **self._timing)
        return self._api

    @property
    def api_calls(self):
        return self._api.api_calls if self._api is not None else 0

    def warn(self, message):
        self._module.warn(message)

    def fail(self, msg, **fields):
        """Fail the task with ``msg``; adds debug.api_calls."""
        self._module.fail_json(msg=msg, debug=dict(api_calls=self.api_calls), **fields)

    def run(self, func):
        """Call ``func(self)`` for the result dict and exit with it.

        Typed errors become failures naming the fix; any other error fails with its traceback (for -vvv).
        """
        if unsupported_python():
            self._module.fail_json(msg=unsupported_python())
        if not HAS_CS:
            self._module.fail_json(msg=missing_required_lib("cs"), exception=CS_IMPORT_ERROR)
        try:
            self.validate()
            result = func(self)
        except (CloudStackError, WaitTimeout) as exc:
            self.fail(**failure_fields(exc))
        except Exception as exc:  # pylint: disable=broad-except
            # the edge: a bug still ends in a failure that says so, with its traceback
            self.fail(**unexpected_failure(exc))
        else:
            self._module.exit_json(debug=dict(api_calls=self.api_calls), **result)
