# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The connection options of every module that talks to the CloudStack API.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - URL of the CloudStack API, for example V(https://cloud.example.com/client/api).
      - If not set, the E(CLOUDSTACK_ENDPOINT) environment variable is used, then C(endpoint) in the
        O(api_region) section of the O(api_config_file).
    type: str
  api_key:
    description:
      - API key of the CloudStack user.
      - If not set, the E(CLOUDSTACK_KEY) environment variable is used, then C(key) in the
        O(api_region) section of the O(api_config_file).
    type: str
  api_secret:
    description:
      - Secret key of the CloudStack user. It is never shown in results or messages.
      - If not set, the E(CLOUDSTACK_SECRET) environment variable is used, then C(secret) in the
        O(api_region) section of the O(api_config_file).
    type: str
  api_http_method:
    description:
      - HTTP method of the API requests.
      - If not set, the E(CLOUDSTACK_METHOD) environment variable is used.
    type: str
    choices: [get, post]
    default: get
  api_timeout:
    description:
      - Timeout of one HTTP request, in seconds.
      - If not set, the E(CLOUDSTACK_TIMEOUT) environment variable is used.
    type: int
    default: 10
  api_verify_ssl:
    description:
      - Whether to verify the TLS certificate of O(api_url). Set to V(false) only for test clouds with
        self-signed certificates.
      - If not set, the E(CLOUDSTACK_VERIFY) environment variable is used.
    type: bool
    default: true
    aliases: [validate_certs]
  api_region:
    description:
      - Section of the O(api_config_file) to read C(endpoint), C(key) and C(secret) from.
      - If not set, the E(CLOUDSTACK_REGION) environment variable is used.
    type: str
    default: cloudstack
  api_config_file:
    description:
      - Path of a C(cloudstack.ini) file, read only for those of O(api_url), O(api_key) and O(api_secret)
        that are not set by options or environment variables.
      - If not set, the E(CLOUDSTACK_CONFIG) environment variable is used; if that is not set either,
        C(~/.cloudstack.ini) and C(./cloudstack.ini) are read, the second winning, as the C(cs) library does.
      - Only C(endpoint), C(key) and C(secret) are read from the file.
    type: path
  wait_timeout:
    description:
      - How long to wait for CloudStack's asynchronous jobs, in seconds.
      - The job is polled after 0.1 s, then at growing intervals (x1.5, at most 2 s).
    type: int
    default: 600
requirements:
  - cs (the CloudStack Python client, tested with 5.2.0)
notes:
  - Options are taken, in this order of precedence, from the task (or C(module_defaults) for
    C(group/livescale.cloudstack.cloudstack)), the E(CLOUDSTACK_*) environment variables, and the
    C(cloudstack.ini) file.
  - Every result carries C(debug.api_calls), the number of HTTP requests the module made.
"""
