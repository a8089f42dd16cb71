# -*- coding: utf-8 -*-
# Copyright: livescale.cloudstack contributors
# Apache License 2.0 (see LICENSE)
"""Private to livescale.cloudstack: find CloudStack objects by exact name or by id.

Not a public API: it may change without notice. CloudStack's ``name`` filter is a substring match,
so every lookup filters the answer client-side. Exactly one match returns its dict; none raises
NotFound (or returns None with ``optional=True``); several raise Ambiguous listing "name (id)".
It also holds the VM lookup options shared by the VM modules (``OWNER_SCOPE_SPEC``, documented in the
``livescale.cloudstack.vm_owner`` doc fragment) and their resolution.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.livescale.cloudstack.plugins.module_utils._api import Ambiguous, ApiError, InvalidValue, NotFound

# Options that tell apart VMs of the same name by zone and owner (vm_state, vm_scalable, vm_scale, vm_scaling_info).
OWNER_SCOPE_SPEC = dict(zone=dict(type="str"), account=dict(type="str"), domain=dict(type="str"), project=dict(type="str"))
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PARAM_ERROR = 431
# at most this many names are listed when none is close to the one asked for
LISTED_NAMES = 10


def label(item):
    """``name (id)`` of a CloudStack object, for messages."""
    return "%s (%s)" % (item.get("name"), item.get("id"))


def _by_id(api, command, response_key, key, action, params):
    try:
        items = api.list(command, response_key, action=action, id=key, **params)
    except ApiError as exc:
        # CloudStack answers an unknown or foreign uuid with 431 "... entity does not exist ...".
        if exc.errorcode != PARAM_ERROR:
            raise
        return []
    return [item for item in items if item.get("id") == key]


def find(api, kind, command, response_key, key, scope=None, optional=False, name_fields=("name",), search=None, **params):
    """The one ``kind`` object whose id or exact name is ``key``, listed with ``command``.

    ``params`` narrow the list call (zoneid, listall...); ``scope`` is how messages describe them;
    ``search`` is the value of the server-side name filter (default: ``key``).
    """
    action = "find %s %s" % (kind, key)
    matches = []
    if key and _UUID.match(str(key)):
        matches = _by_id(api, command, response_key, key, action, params)
    if key and not matches:
        listed = api.list(command, response_key, action=action, name=search or key, **params)
        matches = [item for item in listed if any(item.get(field) == key for field in name_fields)]
    unique = list(dict((item.get("id"), item) for item in matches).values())
    if len(unique) == 1:
        return unique[0]
    if unique:
        raise Ambiguous(kind, key, sorted(label(item) for item in unique), scope=scope)
    if optional:
        return None
    raise NotFound(kind, key, scope=scope, hint=where_to_look(api, kind, command, response_key, key, action, name_fields, params))


def where_to_look(api, kind, command, response_key, key, action, name_fields, params):
    """The hint of a NotFound: close matches among the objects ``command`` lists with ``params``, else their names."""
    names = {}
    for item in api.list(command, response_key, action=action, **params):
        for field in name_fields:
            if item.get(field):
                names.setdefault(item[field], item)
    wanted = str(key)
    close = [name for name in names if name.lower() == wanted.lower() and name != wanted]
    close += [name for name in difflib.get_close_matches(wanted, list(names), n=5, cutoff=0.6) if name not in close]
    if close:
        return "close matches: %s" % ", ".join(label(names[name]) for name in close)
    if not names:
        return "%s lists no %s for this API key there: check the scope options and the account of api_key" % (command, kind)
    if len(names) <= LISTED_NAMES:
        return "none is close; the %ss there are: %s" % (kind, ", ".join(sorted(names)))
    return "none of the %d %ss there is close; list them with %s" % (len(names), kind, command)


def _zone_scope(zone):
    return ("zone %s" % zone["name"], {"zoneid": zone["id"]}) if zone else (None, {})


def find_zone(api, key, optional=False):
    return find(api, "zone", "listZones", "zone", key, optional=optional)


def find_cluster(api, key, zone=None, optional=False):
    scope, params = _zone_scope(zone)
    return find(api, "cluster", "listClusters", "cluster", key, scope=scope, optional=optional, **params)


def find_host(api, key, zone=None, cluster=None, optional=False):
    """A hypervisor (type Routing) host."""
    scope, params = _zone_scope(zone)
    if cluster:
        scope, params = "cluster %s" % cluster["name"], dict(params, clusterid=cluster["id"])
    return find(api, "host", "listHosts", "host", key, scope=scope, optional=optional, type="Routing", **params)


def find_service_offering(api, key, zone=None, optional=False):
    scope, params = _zone_scope(zone)
    return find(api, "service offering", "listServiceOfferings", "serviceoffering", key, scope=scope, optional=optional, **params)


def find_template(api, key, zone=None, templatefilter="executable", optional=False):
    """A template visible through ``templatefilter``; listed once per zone, so matches are per id."""
    scope, params = _zone_scope(zone)
    return find(api, "template", "listTemplates", "template", key, scope=scope, optional=optional, templatefilter=templatefilter, **params)


def owner_filters(zone=None, account=None, domain=None, project=None):
    """Scope text and list parameters for objects owned by an account or project (resolved dicts, or None)."""
    scope, params = _zone_scope(zone)
    parts = [scope] if scope else []
    if project:
        parts.append("project %s" % project["name"])
        params["projectid"] = project["id"]
    elif account:
        parts.append("account %s" % account["name"])
        params.update(account=account["name"], domainid=account["domainid"])
    elif domain:
        parts.append("domain %s" % domain["name"])
        params.update(domainid=domain["id"], listall=True)
    else:
        params["listall"] = True
    return ", ".join(parts) or None, params


def find_vm(api, key, zone=None, account=None, domain=None, project=None, optional=False):
    """A VM by id or exact name, across all accounts the caller may see unless owner-scoped."""
    scope, params = owner_filters(zone=zone, account=account, domain=domain, project=project)
    return find(api, "VM", "listVirtualMachines", "virtualmachine", key, scope=scope, optional=optional, **params)


def list_vms_named(api, name, **params):
    """The listVirtualMachines rows (narrowed by ``params``) whose name contains ``name``, case-insensitively; all
    of them without a name.

    CloudStack's ``name`` is the exact host name (QueryManagerImpl.searchForUserVMIdsAndCount), its ``keyword``
    a LIKE on display name, host name, state and addresses: the call asks with ``keyword``, the names are kept here.
    """
    if name:
        params["keyword"] = name
    rows = api.list("listVirtualMachines", "virtualmachine", action="list VMs", **params)
    return [row for row in rows if not name or name.lower() in (row.get("name") or "").lower()]


def find_domain(api, key, optional=False):
    """A domain by id, exact name or path (e.g. ``ROOT/customers``)."""
    return find(api, "domain", "listDomains", "domain", key, optional=optional, name_fields=("name", "path"),
                search=str(key).rsplit("/", 1)[-1], listall=True)


def find_account(api, key, domain=None, optional=False):
    """An account by id or exact name; within ``domain`` only, not its subdomains.

    listAccounts with ``listall`` searches the whole tree below the domain, without it an admin's ``domainid``
    that domain alone (QueryManagerImpl.searchForAccountIdsAndCount).
    """
    if domain:
        scope, params = "domain %s" % domain["name"], {"domainid": domain["id"]}
    else:
        scope, params = owner_filters()
    return find(api, "account", "listAccounts", "account", key, scope=scope, optional=optional, **params)


def find_project(api, key, domain=None, optional=False):
    scope, params = owner_filters(domain=domain)
    return find(api, "project", "listProjects", "project", key, scope=scope, optional=optional, **params)


def owner_scope(api, params):
    """The zone, account, domain and project of the OWNER_SCOPE_SPEC options as dicts (None when not given).

    ``domain`` is looked up first: it narrows the account and project lookups. Raises InvalidValue before any
    read when both account and project are given, NotFound or Ambiguous naming the option's value otherwise.
    """
    if params.get("account") and params.get("project"):
        raise InvalidValue("account=%s and project=%s exclude each other: a VM belongs to an account or to a project;"
                           " keep one" % (params["account"], params["project"]))
    domain = find_domain(api, params["domain"]) if params.get("domain") else None
    return dict(zone=find_zone(api, params["zone"]) if params.get("zone") else None,
                account=find_account(api, params["account"], domain=domain) if params.get("account") else None,
                domain=domain,
                project=find_project(api, params["project"], domain=domain) if params.get("project") else None)


def find_owned_vm(api, params):
    """The VM of the ``vm`` option narrowed by the OWNER_SCOPE_SPEC options: ``(vm, scope)``, scope as owner_scope."""
    scope = owner_scope(api, params)
    return find_vm(api, params["vm"], **scope), scope
