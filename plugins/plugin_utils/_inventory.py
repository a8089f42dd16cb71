# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: what the inventory plugins share.

Not a public API: it may change without notice. The connection is built from the same options, environment
variables and ``cloudstack.ini`` as the modules' (``_module.connection_settings``); the records read from
CloudStack are cached with the standard inventory cache options, and groups and constructed options are applied
to them on every run, so a change of ``compose``, ``groups`` or ``keyed_groups`` needs no cache flush.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import HAS_CS, CloudStackApi, CloudStackError, tls_verification
from ansible_collections.livescale.cloudstack.plugins.module_utils._module import (
    CLOUDSTACK_ARGUMENT_SPEC, check_connection_options, check_url, connection_settings)

CONNECTION_OPTIONS = tuple(name for name in CLOUDSTACK_ARGUMENT_SPEC if name != "wait_timeout")
MISSING_CS = "the cs Python library (the CloudStack client) is required on the Ansible controller: pip install cs"


def group_name(*parts):
    """A group name safe in host patterns: parts joined with ``_``, every other character than [A-Za-z0-9_] as ``_``."""
    return to_safe_group_name("_".join(str(part) for part in parts), force=True, silent=True)


def named_group(prefix, key):
    """A GROUPS function: one group ``<prefix>_<value of key>``, none when the value is empty."""
    def parts(variables):
        return [(prefix, variables[key])] if variables.get(key) else []
    return parts


def tag_map(tags):
    """CloudStack's list of resource tags (``{"key": .., "value": ..}``) as a dict."""
    return dict((tag.get("key"), tag.get("value")) for tag in tags or () if tag.get("key"))


def tag_filter(tags):
    """The ``tags`` map parameter of a CloudStack list command from a dict (None when empty)."""
    return [{"key": key, "value": value} for key, value in sorted((tags or {}).items())] or None


class CloudStackInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Base of the CloudStack inventory plugins.

    A subclass sets ``NAME``, ``BASE_GROUP`` and ``GROUPS`` (group_by choice -> function of the host variables giving
    a list of group name parts tuples) and implements ``read(api)``, returning one dict of host variables per host,
    each with ``cloudstack_name`` and ``cloudstack_id``.
    """

    NAME = None
    BASE_GROUP = None
    GROUPS = {}

    def verify_file(self, path):
        """A readable ``.yml``/``.yaml`` file whose ``plugin:`` names this plugin."""
        if not super(CloudStackInventory, self).verify_file(path) or not path.endswith((".yml", ".yaml")):
            return False
        try:
            config = DataLoader().load_from_file(path, cache="none")
        except AnsibleError:
            return False
        return isinstance(config, dict) and config.get("plugin") in (getattr(self, "_redirected_names", None) or [self.NAME])

    def parse(self, inventory, loader, path, cache=True):
        super(CloudStackInventory, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        self.populate(self.records(path, cache))

    def records(self, path, cache):
        """The host records: from the inventory cache when enabled and filled, else read from CloudStack."""
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        cache_key = self.get_cache_key(path)
        if use_cache:
            try:
                return self._cache[cache_key]
            except KeyError:
                update_cache = True
        records = self.fetch()
        if update_cache:
            self._cache[cache_key] = records
        return records

    def connect(self):
        """A CloudStackApi from the connection options, their CLOUDSTACK_* variables and cloudstack.ini."""
        if not HAS_CS:
            raise AnsibleParserError(MISSING_CS)
        params = dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        check_connection_options(params)
        settings = connection_settings(params)
        check_url(settings["api_url"])
        return CloudStackApi(settings["api_url"], settings["api_key"], settings["api_secret"], method=params["api_http_method"],
                             timeout=params["api_timeout"], verify=tls_verification(params["api_verify_ssl"]))

    def fetch(self):
        """Read the records from CloudStack; a typed error becomes an AnsibleParserError naming the plugin."""
        try:
            return self.read(self.connect())
        except CloudStackError as exc:
            raise AnsibleParserError("%s: %s" % (self.NAME, exc))

    def read(self, api):
        """One dict of host variables per host."""
        raise NotImplementedError

    def host_names(self, records):
        """(inventory name, record) pairs: the CloudStack name, or the id for names that several hosts share."""
        counts = {}
        for record in records:
            counts[record["cloudstack_name"]] = counts.get(record["cloudstack_name"], 0) + 1
        shared = sorted(name for name, count in counts.items() if count > 1)
        if shared:
            self.display.warning("%s: several hosts are named %s; those are added under their id"
                                 % (self.NAME, ", ".join(shared)))
        return [(record["cloudstack_id"] if record["cloudstack_name"] in shared else record["cloudstack_name"], record)
                for record in records]

    def builtin_groups(self, variables):
        """The groups of the group_by option for one host, as safe names."""
        names = [self.BASE_GROUP]
        for choice in self.get_option("group_by") or ():
            names += [group_name(*parts) for parts in self.GROUPS[choice](variables)]
        return names

    def populate(self, records):
        """Add the hosts, their variables, the group_by groups, then compose, groups and keyed_groups."""
        strict = self.get_option("strict")
        for name, record in self.host_names(records):
            self.inventory.add_host(name)
            for key, value in record.items():
                self.inventory.set_variable(name, key, value)
            for group in self.builtin_groups(record):
                self.inventory.add_child(self.inventory.add_group(group), name)
            variables = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
