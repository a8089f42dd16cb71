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
      - Whether to verify the TLS certificate of O(api_url) (V(true) or V(false)), or the path of the PEM CA
        bundle (or c_rehash'ed directory) to verify it with, as the C(cs) client takes it. Set to V(false) only
        for test clouds with self-signed certificates; the module then warns.
      - If not set, the E(CLOUDSTACK_VERIFY) environment variable is used.
    type: raw
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

    # The connection options of the inventory plugins: the modules' options (without wait_timeout) with their
    # environment variables as plugin configuration.
    PLUGIN = r"""
options:
  api_url:
    description:
      - URL of the CloudStack API, for example V(https://cloud.example.com/client/api).
      - If not set, C(endpoint) in the O(api_region) section of the O(api_config_file) is used.
    type: str
    env: [{name: CLOUDSTACK_ENDPOINT}]
  api_key:
    description:
      - API key of the CloudStack user.
      - If not set, C(key) in the O(api_region) section of the O(api_config_file) is used.
    type: str
    env: [{name: CLOUDSTACK_KEY}]
  api_secret:
    description:
      - Secret key of the CloudStack user. It is never shown in messages.
      - If not set, C(secret) in the O(api_region) section of the O(api_config_file) is used.
    type: str
    env: [{name: CLOUDSTACK_SECRET}]
  api_http_method:
    description: HTTP method of the API requests.
    type: str
    choices: [get, post]
    default: get
    env: [{name: CLOUDSTACK_METHOD}]
  api_timeout:
    description: Timeout of one HTTP request, in seconds.
    type: int
    default: 10
    env: [{name: CLOUDSTACK_TIMEOUT}]
  api_verify_ssl:
    description:
      - Whether to verify the TLS certificate of O(api_url) (V(true) or V(false)), or the path of the PEM CA bundle
        (or c_rehash'ed directory) to verify it with. Set to V(false) only for test clouds.
    type: raw
    default: true
    aliases: [validate_certs]
    env: [{name: CLOUDSTACK_VERIFY}]
  api_region:
    description: Section of the O(api_config_file) to read C(endpoint), C(key) and C(secret) from.
    type: str
    default: cloudstack
    env: [{name: CLOUDSTACK_REGION}]
  api_config_file:
    description:
      - Path of a C(cloudstack.ini) file, read only for those of O(api_url), O(api_key) and O(api_secret)
        that are not set otherwise.
      - If not set, C(~/.cloudstack.ini) and C(./cloudstack.ini) are read, the second winning, as the C(cs) library does.
    type: path
    env: [{name: CLOUDSTACK_CONFIG}]
requirements:
  - cs (the CloudStack Python client, tested with 5.2.0), on the Ansible controller
notes:
  - Options are taken, in this order of precedence, from the inventory source file, the E(CLOUDSTACK_*)
    environment variables, and the C(cloudstack.ini) file; the same settings as the modules'.
"""
