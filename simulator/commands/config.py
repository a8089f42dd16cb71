"""Settings: listConfigurations, updateConfiguration, resetConfiguration (spec 2.9)."""

from simulator.errors import denied, invalid
from simulator.model import account_to_string, in_subtree
from simulator.registry import DOMAIN_ADMINS, PAGE_PARAMS, ROOT_ONLY, command, listing, param
from simulator.settings import BY_NAME, DEFINITIONS, RESPONSE_TYPES, check_value

SCOPE_PARAMS = (("zoneid", "zone"), ("clusterid", "cluster"), ("domainid", "domain"), ("accountid", "account"),
                ("storageid", "storagepool"), ("imagestoreuuid", "imagestore"), ("imagestoreid", "imagestore"))
CONFIG_FIELDS = ("category", "name", "value", "defaultvalue", "scope", "description", "isdynamic", "component",
                 "displaytext", "type")
SCOPE_ID_PARAMS = (param("zoneid", "uuid", entity="zone"), param("clusterid", "uuid", entity="cluster"),
                   param("domainid", "uuid", entity="domain"), param("accountid", "uuid", entity="account"),
                   param("storageid", "uuid", entity="storagepool"))


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
        raise denied(f"Account {account_to_string(caller.account)} does not have permission to operate within domain"
                     f" id={domain['uuid']}")
    given = [(scope, values[key]) for key, scope in SCOPE_PARAMS if key in values]
    if len(given) > 1:
        raise invalid("cannot handle multiple IDs, provide only one ID corresponding to the scope")
    return given[0] if given else ("global", None)


def config_response(ctx, setting, scope, obj, value=None):
    """ConfigurationResponse; `scope` only when a scope id was passed."""
    scope_id = obj["id"] if obj else 0
    body = {"category": setting.category, "name": setting.name,
            "value": ctx.settings.value(setting.name, scope, scope_id) if value is None else value,
            "defaultvalue": setting.default}
    if obj is not None:
        body["scope"] = scope
    body.update(description=setting.description, isdynamic=setting.dynamic, component=setting.component,
                displaytext=setting.name.replace(".", " ").capitalize(), type=RESPONSE_TYPES[setting.type])
    return body


@command("listConfigurations", admin=True, roles=DOMAIN_ADMINS, params=(
    param("name"), param("category")) + SCOPE_ID_PARAMS + (param("group"), param("subgroup")) + PAGE_PARAMS,
    fields=CONFIG_FIELDS)
def list_configurations(ctx, values):
    """Lists all configurations; name is a substring match, value the effective one in the given scope."""
    scope, obj = scope_of(ctx, values)
    found = [s for s in DEFINITIONS if s.category != "Hidden"]
    if scope != "global":
        found = [s for s in found if scope in s.scopes]
    if "name" in values:
        found = [s for s in found if values["name"].lower() in s.name.lower()]
    if "keyword" in values:
        found = [s for s in found if values["keyword"].lower() in s.name.lower()]
    if "category" in values:
        found = [s for s in found if s.category.lower() == values["category"].lower()]
    return listing("configuration", [config_response(ctx, s, scope, obj) for s in found], values)


def setting_for(name):
    """The setting definition or 431."""
    setting = BY_NAME.get(name)
    if setting is None:
        raise invalid(f"Config parameter with name {name} doesn't exist")
    return setting


@command("updateConfiguration", admin=True, roles=DOMAIN_ADMINS, params=(param("name", required=True), param("value")) + SCOPE_ID_PARAMS,
         fields=CONFIG_FIELDS)
def update_configuration(ctx, values):
    """Updates a configuration at global scope or at the scope of the id given."""
    setting = setting_for(values["name"])
    raw = values.get("value")
    if raw is None:
        raise invalid(f"The new value for the [{setting.name}] configuration must be given.")
    scope, obj = scope_of(ctx, values)
    if scope not in setting.scopes:
        raise invalid(f"Invalid scope id provided for the parameter {setting.name}")
    scope_id = obj["id"] if obj else 0
    if raw.strip() in ("", "null"):
        ctx.settings.set(setting.name, scope, scope_id, None if scope == "global" else "")
        sent = "" if scope != "global" else None
    else:
        sent = check_value(setting, raw)
        ctx.settings.set(setting.name, scope, scope_id, sent)
    ctx.app.event(ctx.caller.account, "CONFIGURATION.VALUE.EDIT",
                  f"Value of {setting.name} at scope {scope} set to [{sent}]")
    return {"configuration": config_response(ctx, setting, scope, obj, value=sent)}


@command("resetConfiguration", admin=True, roles=ROOT_ONLY, params=(param("name", required=True),) + SCOPE_ID_PARAMS + (
    param("imagestoreid", "uuid", entity="imagestore"),), fields=CONFIG_FIELDS)
def reset_configuration(ctx, values):
    """Removes the override at the given scope (or resets the global value to its default)."""
    setting = setting_for(values["name"])
    scope, obj = scope_of(ctx, values)
    if scope not in setting.scopes:
        raise invalid(f"Invalid scope id provided for the parameter {setting.name}")
    ctx.settings.set(setting.name, scope, obj["id"] if obj else 0, None)
    body = config_response(ctx, setting, scope, obj)
    if obj is not None:
        body["scope"] = scope.capitalize()
    return {"configuration": body}
