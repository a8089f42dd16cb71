"""Settings: listConfigurations, updateConfiguration, resetConfiguration (spec 2.9)."""

from simulator.errors import ApiError, invalid, server
from simulator.model import domain_denied, in_subtree
from simulator.registry import DOMAIN_ADMINS, PAGE_PARAMS, ROOT_ONLY, command, listing, param
from simulator.settings import (OVERPROVISIONING_FACTORS, SELECT_OPTIONS, SUBGROUPS, check_scope, check_value,
                                definition, definitions, display_text, group_and_subgroup, java_text, response_type)

# Scope id parameters in the order ConfigurationManagerImpl / ManagementServerImpl read them.
SCOPE_PARAMS = (("zoneid", "zone"), ("clusterid", "cluster"), ("accountid", "account"), ("domainid", "domain"),
                ("storageid", "storagepool"), ("imagestoreuuid", "imagestore"), ("imagestoreid", "imagestore"))
# ConfigKey.Scope names that ResetCfgCmd puts in its response.
SCOPE_ENUM_NAMES = {"zone": "Zone", "cluster": "Cluster", "storagepool": "StoragePool", "domain": "Domain",
                    "account": "Account", "imagestore": "ImageStore"}
CONFIG_FIELDS = ("category", "group", "subgroup", "name", "value", "defaultvalue", "scope", "description", "isdynamic",
                 "component", "parent", "displaytext", "type", "options")
SCOPE_ID_PARAMS = (param("zoneid", "uuid", entity="zone"), param("clusterid", "uuid", entity="cluster"),
                   param("domainid", "uuid", entity="domain"), param("accountid", "uuid", entity="account"),
                   param("storageid", "uuid", entity="storagepool"))
GROUPS = {row[2].lower(): row[2] for row in SUBGROUPS}
KEYWORD_FIELDS = ("name", "instance", "component", "description", "category", "value")


def scope_of(ctx, values):
    """(scope, object) from the one scope id given; ('global', None) when none; 431 for several.

    As in CloudStack, a domain admin naming no account or domain works on its own domain, and the account or
    domain given must be one the caller may operate on.
    """
    caller = ctx.caller
    if caller.role == "DomainAdmin" and "accountid" not in values and "domainid" not in values:
        values = dict(values, domainid=caller.domain)
    if "accountid" in values:
        ctx.check_account(values["accountid"]["id"])
    domain = values.get("domainid")
    if domain is not None and not (caller.is_root_admin or in_subtree(domain, caller.domain)):
        raise domain_denied(caller.account, domain)
    given = [(scope, values[key]) for key, scope in SCOPE_PARAMS if key in values]
    if len(given) > 1:
        raise invalid("cannot handle multiple IDs, provide only one ID corresponding to the scope")
    return given[0] if given else ("global", None)


def passed_scope(values, names=("zone", "cluster", "storagepool", "account", "domain")):
    """The scope named by the ids actually passed (UpdateCfgCmd.setResponseScopes / ListCfgsByCmd.setScope)."""
    scope = None
    for key, name in SCOPE_PARAMS:
        if key in values and name in names:
            scope = name
    return scope


def config_response(ctx, setting, value, scope=None):
    """ApiResponseHelper.createConfigurationResponse of a configuration row carrying ``value``."""
    group, subgroup = group_and_subgroup(setting.name)
    body = {"category": setting.category, "group": group, "subgroup": subgroup, "name": setting.name,
            "value": value, "defaultvalue": setting.default, "scope": scope, "description": setting.description,
            "isdynamic": setting.dynamic, "component": setting.component, "displaytext": display_text(setting.name),
            "type": response_type(setting), "options": SELECT_OPTIONS.get(setting.name)}
    return {key: item for key, item in body.items() if item is not None}


def global_value(ctx, setting):
    """The value of the configuration row (what _configDao.findByName answers)."""
    return ctx.settings.value(setting.name)


def keyword_match(ctx, setting, keyword):
    """ManagementServerImpl.searchForConfigurations: keyword LIKE %..% on name, instance, component, ..., value."""
    row = {"name": setting.name, "instance": "DEFAULT", "component": setting.component,
           "description": setting.description, "category": setting.category, "value": global_value(ctx, setting)}
    return any(keyword.lower() in (row[field] or "").lower() for field in KEYWORD_FIELDS)


def group_filter(values):
    """(group, subgroup) asked for; 431 (ServerApiException) for an unknown one or a subgroup without group."""
    group, subgroup = values.get("group"), values.get("subgroup")
    if subgroup and not group:
        raise server(431, "Configuration group name must be specified with the subgroup name")
    if group is not None and group.lower() not in GROUPS:
        raise server(431, f"Invalid configuration group: {group}")
    if subgroup is not None and subgroup.lower() not in {row[0].lower() for row in SUBGROUPS}:
        raise server(431, f"Invalid configuration subgroup: {subgroup}")
    return group, subgroup


def matches(ctx, setting, values, scope):
    """Whether a setting is listed by the search criteria of searchForConfigurations."""
    group, subgroup = group_and_subgroup(setting.name)
    checks = (
        setting.category != "Hidden",
        scope == "global" or scope in setting.scopes,
        "name" not in values or values["name"].lower() in setting.name.lower(),
        "keyword" not in values or keyword_match(ctx, setting, values["keyword"]),
        "category" not in values or setting.category.lower() == values["category"].lower(),
        "group" not in values or group.lower() == values["group"].lower(),
        "subgroup" not in values or subgroup.lower() == values["subgroup"].lower(),
        "parent" not in values,  # none of the settings modelled here has a parent
    )
    return all(checks)


@command("listConfigurations", admin=True, roles=DOMAIN_ADMINS, params=(
    param("name"), param("category")) + SCOPE_ID_PARAMS + (param("group"), param("subgroup"), param("parent"))
    + PAGE_PARAMS, fields=CONFIG_FIELDS)
def list_configurations(ctx, values):
    """Lists configurations by name (ascending); with a scope id, the keys of that scope and their value there.

    ListCfgsByCmd.execute answers the InvalidParameterValueExceptions of the search as a 431 ServerApiException.
    """
    group_filter(values)
    try:
        scope, obj = scope_of(ctx, values)
    except ApiError as err:
        if err.kind != "InvalidParameterValue":
            raise
        raise server(431, err.text) from None
    found = sorted((s for s in definitions(ctx.app.version) if matches(ctx, s, values, scope)), key=lambda s: s.name)
    shown = passed_scope(values, names=("zone", "cluster", "storagepool", "account", "domain", "imagestore"))
    if scope == "global":
        return listing("configuration", [config_response(ctx, s, global_value(ctx, s)) for s in found], values)
    # With a scope the count is that of the page: searchForConfigurations returns configVOList.size().
    page, pagesize = values.get("page"), values.get("pagesize")
    if pagesize:
        start = (max(page or 1, 1) - 1) * pagesize
        found = found[start:start + pagesize]
    return listing("configuration", [
        config_response(ctx, s, java_text(s, ctx.settings.value(s.name, scope, obj["id"])), shown) for s in found], {})


def setting_for(ctx, name):
    """The setting definition of the running version or 431 (4.22 lacks the keys added after it: versions.py)."""
    setting = definition(ctx.app.version, name)
    if setting is None:
        raise invalid(f"Config parameter with name {name} doesn't exist")
    return setting


@command("updateConfiguration", admin=True, roles=DOMAIN_ADMINS, params=(
    param("name", required=True), param("value")) + SCOPE_ID_PARAMS, fields=CONFIG_FIELDS)
def update_configuration(ctx, values):
    """Updates a configuration at global scope or at the scope of the id given.

    The answer is the global configuration row (ConfigurationManagerImpl.updateConfiguration returns
    _configDao.findByName; UpdateCfgCmd copies cfg.getValue()), with `scope` from the ids passed only.
    """
    setting = setting_for(ctx, values["name"])
    raw = values.get("value")
    if raw is None:
        raise invalid(f"The new value for the [{setting.name}] configuration must be given.")
    scope, obj = scope_of(ctx, values)
    stored = check_value(setting, raw, scope)
    ctx.settings.set(setting.name, scope, obj["id"] if obj else 0, stored)
    ctx.app.event(ctx.caller.account, "CONFIGURATION.VALUE.EDIT",
                  f"Value of {setting.name} at scope {scope} set to [{stored}]")
    return {"configuration": config_response(ctx, setting, global_value(ctx, setting), passed_scope(values))}


@command("resetConfiguration", admin=True, roles=ROOT_ONLY, params=(param("name", required=True),) + SCOPE_ID_PARAMS + (
    param("imagestoreid", "uuid", entity="imagestore"),), fields=CONFIG_FIELDS)
def reset_configuration(ctx, values):
    """Removes the override at the given scope (or resets the global value to its default).

    ConfigurationManagerImpl.resetConfiguration: a cluster's cpu/mem overprovisioning factor is set to the global
    value instead of removed; the answer's value is the key's new typed value there, its scope the enum name.
    """
    setting = setting_for(ctx, values["name"])
    scope, obj = scope_of(ctx, values)
    check_scope(setting, scope)
    scope_id = obj["id"] if obj else 0
    kept = java_text(setting, global_value(ctx, setting)) if scope == "cluster" else None
    ctx.settings.set(setting.name, scope, scope_id, kept if setting.name in OVERPROVISIONING_FACTORS else None)
    new_value = java_text(setting, ctx.settings.value(setting.name, scope, scope_id))
    return {"configuration": config_response(ctx, setting, new_value, SCOPE_ENUM_NAMES.get(scope))}
