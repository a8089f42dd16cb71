"""Load a YAML seed into a new database (format: simulator/README.md)."""

import json
import subprocess
from pathlib import Path

import yaml

from simulator import agent as host_agent
from simulator import hypervisors, versions
from simulator.commands.affinity import new_group
from simulator.commands.network import new_network, vm_networks
from simulator.commands.offerings import build_offering
from simulator.commands.systemvms import SYSTEM_TEMPLATE, default_system_offerings, load_system_vms
from simulator.commands.tags import add_tag
from simulator.commands.vms import new_vm
from simulator.errors import ApiError
from simulator.metrics import check_load
from simulator.model import vm_size
from simulator.settings import check_value, definition

SCOPE_KINDS = {"zone": "zone", "cluster": "cluster", "domain": "domain", "account": "account"}
ROLES = ("Admin", "DomainAdmin", "User")
GUEST_BUILDER = Path(__file__).resolve().parent.parent / "tools" / "build_guest_image"
BOOT_KEYS = ("kernel", "initrd", "cmdline", "disk")
GUEST_IMAGE_KEYS = ("variant",) + BOOT_KEYS + ("workdir",)
BUILD_HINT = ("build the guest with tools/build_guest_image [--variant minimal|python] and give the paths it prints,"
              " or write guest_image: {variant: minimal}")


class SeedError(Exception):
    """A seed file that cannot be loaded; the text names the entry and the fix."""


def named(app, kind, name, where):
    """The object of a kind with that name, or SeedError."""
    obj = app.store.one(kind, name=name)
    if obj is None:
        known = ", ".join(o["name"] for o in app.store.all(kind)) or "none"
        raise SeedError(f"{where}: unknown {kind} '{name}' (known: {known})")
    return obj


def load_seed(app, path):
    """Create every object of the seed file in the (new) store."""
    with open(path, encoding="utf-8") as handle:
        seed = yaml.safe_load(handle) or {}
    if not isinstance(seed, dict):
        raise SeedError(f"{path}: the seed must be a mapping with zones, accounts, ... (see simulator/README.md)")
    try:
        load_all(app, seed, Path(path).resolve().parent)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise SeedError(f"{path}: malformed entry ({type(err).__name__}: {err}); see simulator/README.md for the"
                        " format") from None


def load_all(app, seed, base):
    """Every section of a parsed seed, in dependency order; relative paths are taken from ``base``."""
    if seed.get("version") is not None and not app.version_given:
        try:
            app.version = versions.version_named(seed["version"])
        except ValueError as err:
            raise SeedError(f"version: {err}") from None
    try:
        app.clock.configure(seed.get("clock"))
    except ValueError as err:
        raise SeedError(f"clock: {err}") from None
    load_domains(app, seed.get("domains") or [{"name": "ROOT"}])
    load_zones(app, seed.get("zones") or [], base)
    register_guest_images(app)
    for item in seed.get("templates") or []:
        app.store.add("template", {
            "name": item["name"], "displaytext": item.get("displaytext", item["name"]),
            "isdynamicallyscalable": bool(item.get("isdynamicallyscalable", False)),
            "ostypename": item.get("ostype", "Other Linux (64-bit)"), "format": item.get("format", "QCOW2"),
            "hypervisor": item.get("hypervisor", "KVM"), "ispublic": bool(item.get("ispublic", True)),
            "xenserver_dynamic_max_mib": int(item.get("xenserver_dynamic_max_mib") or 0),
            "isfeatured": bool(item.get("isfeatured", True)), "passwordenabled": False,
            "account_id": None, "created": app.now()})
    for item in seed.get("service_offerings") or []:
        try:
            app.store.add("offering", build_offering(app, item))
        except ApiError as err:
            raise SeedError(f"service offering {item.get('name')}: {err.text}") from None
    default_system_offerings(app, build_offering)
    load_accounts(app, seed.get("accounts") or [])
    load_affinity_groups(app, seed.get("affinity_groups") or [])
    load_networks(app, seed.get("zones") or [])
    load_settings(app, seed.get("settings") or [])
    load_zone_system_vms(app, seed)
    load_vms(app, seed.get("vms") or [])
    try:
        app.jobs.set_timings(seed.get("timings") or {})
    except ValueError as err:
        raise SeedError(f"timings: {err}") from None


def load_zone_system_vms(app, seed):
    """The system VM template (as `system_vm_template` describes it) when some zone has `system_vms`, and each
    zone's console proxy and secondary storage VMs."""
    zones = [item for item in seed.get("zones") or [] if item.get("system_vms")]
    if not zones:
        return
    given = dict(SYSTEM_TEMPLATE, **(seed.get("system_vm_template") or {}))
    template = app.store.add("template", {
        "name": given["name"], "displaytext": given.get("displaytext", given["name"]), "templatetype": "SYSTEM",
        "isdynamicallyscalable": bool(given["isdynamicallyscalable"]), "ostypename": "Debian GNU/Linux 12 (64-bit)",
        "format": "QCOW2", "hypervisor": "KVM", "ispublic": False, "isfeatured": False, "passwordenabled": False,
        "account_id": None, "created": app.now()})
    for item in zones:
        try:
            load_system_vms(app, named(app, "zone", item["name"], "zones"), item["system_vms"], template, named)
        except ValueError as err:
            raise SeedError(str(err)) from None


def load_domains(app, items):
    """Domains: the first is ROOT; others name their parent."""
    for item in items:
        parent = named(app, "domain", item["parent"], f"domain {item['name']}") if item.get("parent") else None
        path = f"{parent['path']}/{item['name']}" if parent else "ROOT"
        limits = {key: int(value) for key, value in (item.get("limits") or {}).items()}
        app.store.add("domain", {"name": item["name"], "path": path, "limits": limits,
                                 "parent_id": parent["id"] if parent else None})


def load_zones(app, zones, base):
    """Zones with their pods, clusters and hosts."""
    for zone_item in zones:
        zone = app.store.add("zone", {"name": zone_item["name"],
                                      "networktype": zone_item.get("networktype", "Advanced")})
        for pod_item in zone_item.get("pods") or []:
            pod = app.store.add("pod", {"name": pod_item["name"], "zone_id": zone["id"]})
            for cluster_item in pod_item.get("clusters") or []:
                load_cluster(app, zone, pod, cluster_item, base)


def load_cluster(app, zone, pod, item, base):
    """A cluster, its overprovisioning factors and its hosts."""
    hypervisor = item.get("hypervisor", "KVM")
    if hypervisor not in hypervisors.HYPERVISORS:
        raise SeedError(f"cluster {item['name']}: hypervisor must be one of {', '.join(hypervisors.HYPERVISORS)}")
    cluster = app.store.add("cluster", {"name": item["name"], "zone_id": zone["id"], "pod_id": pod["id"],
                                        "hypervisor": hypervisor})
    for key, setting in (("cpu_overprovisioning", "cpu.overprovisioning.factor"),
                         ("mem_overprovisioning", "mem.overprovisioning.factor")):
        if key in item:
            app.settings.set(setting, "cluster", cluster["id"], str(float(item[key])))
    for host in item.get("hosts") or []:
        app.store.add("host", {
            "name": host["name"], "zone_id": zone["id"], "pod_id": pod["id"], "cluster_id": cluster["id"],
            "ipaddress": host.get("ipaddress") or host_address(len(app.store.all("host"))),
            "cores": int(host.get("cores", 16)), "cpu_mhz": int(host.get("cpu_mhz", 2400)),
            "memory_mib": int(host.get("memory_mib", 65536)), "tags": list(host.get("tags") or []),
            "uri": host.get("uri", "test:///default") if hypervisor == "KVM"
            else f"{hypervisor.lower()}://{host['name']}",
            "hypervisor": hypervisor, "dmc": bool(host.get("dmc", True)), "state": host.get("state", "Up"),
            "resourcestate": host.get("resourcestate", "Enabled"), "created": app.now(),
            "memballoon_stats_period": int(host.get("memballoon_stats_period", 0)),
            "guest_image": guest_image(host.get("guest_image"), f"host {host['name']}: guest_image", base)})


def host_address(earlier):
    """The default private address of the seed's next host (``earlier`` hosts before it): 172.16.0.11, .12 ..."""
    number = earlier + 11
    return f"172.16.{number // 256}.{number % 256}"


def guest_image(spec, where, base):
    """A host's guest_image resolved to absolute kernel, initrd, cmdline, disk and workdir; None without one."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise SeedError(f"{where} must be a mapping, e.g. {{variant: minimal}} or {{kernel: PATH, initrd: PATH,"
                        f" cmdline: TEXT, disk: PATH}}, not {spec!r}")
    unknown = sorted(set(spec) - set(GUEST_IMAGE_KEYS))
    if unknown:
        raise SeedError(f"{where}: unknown key {', '.join(unknown)} (allowed: {', '.join(GUEST_IMAGE_KEYS)})")
    if "variant" in spec:
        both = [key for key in BOOT_KEYS if key in spec]
        if both:
            raise SeedError(f"{where}: give either variant or {', '.join(both)}, not both (variant takes every"
                            " path from tools/build_guest_image)")
        image = built_image(spec["variant"], where)
    else:
        missing = [key for key in ("kernel", "initrd") if not spec.get(key)]
        if missing:
            raise SeedError(f"{where}: {' and '.join(missing)} missing; {BUILD_HINT}")
        image = {key: spec.get(key) for key in BOOT_KEYS}
    if not isinstance(image["cmdline"], (str, type(None))):
        raise SeedError(f"{where}: cmdline must be a text such as \"console=ttyS0\", not {image['cmdline']!r}")
    for key in ("kernel", "initrd", "disk"):
        if image[key] is not None:
            path = base / str(image[key])
            if not path.is_file():
                raise SeedError(f"{where}: {key} {path} does not exist; {BUILD_HINT}")
            image[key] = str(path.resolve())
    image["workdir"] = str((base / str(spec["workdir"])).resolve()) if spec.get("workdir") else None
    return image


def built_image(variant, where):
    """kernel, initrd, cmdline and disk of a guest variant, from the JSON of tools/build_guest_image (cached)."""
    try:
        result = subprocess.run([str(GUEST_BUILDER), "--variant", str(variant)], capture_output=True, text=True,
                                check=False)
    except OSError as err:
        raise SeedError(f"{where}: cannot run {GUEST_BUILDER} for variant {variant}: {err}") from None
    if result.returncode != 0:
        raise SeedError(f"{where}: variant {variant}: tools/build_guest_image failed: {result.stderr.strip()}")
    try:
        manifest = json.loads(result.stdout)
        return {key: manifest[key] for key in BOOT_KEYS}
    except (ValueError, KeyError, TypeError):
        raise SeedError(f"{where}: variant {variant}: tools/build_guest_image printed no guest manifest"
                        f" (kernel, initrd, cmdline, disk): {result.stdout.strip()[:300]!r}") from None


def register_guest_images(app):
    """Give each host's agent its guest image; hosts on one libvirt URI share one agent, so one image."""
    first = {}
    for host in app.store.all("host"):
        other = first.setdefault(host["uri"], host)
        if other["guest_image"] != host["guest_image"]:
            raise SeedError(f"host {host['name']}: guest_image differs from the one of host {other['name']}, which"
                            f" has the same uri {host['uri']}; hosts on one URI share one agent: give both the same"
                            " guest_image, or give them different URIs")
    for host in first.values():
        if host["guest_image"] is not None:
            host_agent.agent_for_host(host)


def load_accounts(app, items):
    """Accounts with role, limits and users (API keys)."""
    for item in items:
        role = item.get("role", "User")
        if role not in ROLES:
            raise SeedError(f"account {item['name']}: role '{role}' must be one of {', '.join(ROLES)}")
        domain = named(app, "domain", item.get("domain", "ROOT"), f"account {item['name']}")
        limits = {key: int(value) for key, value in (item.get("limits") or {}).items()}
        account = app.store.add("account", {"name": item["name"], "role": role, "domain_id": domain["id"],
                                            "state": "enabled", "limits": limits, "created": app.now()})
        for user in item.get("users") or []:
            app.store.add("user", {"username": user["username"], "account_id": account["id"],
                                   "apikey": user["apikey"], "secretkey": user["secretkey"],
                                   "state": user.get("state", "enabled"),
                                   "firstname": user.get("firstname", user["username"]),
                                   "lastname": user.get("lastname", account["name"]), "created": app.now()})


def load_affinity_groups(app, items):
    """Affinity groups of accounts: {name, type, account, description}."""
    for item in items:
        where = f"affinity group {item.get('name')}"
        try:
            new_group(app, named(app, "account", item["account"], where), item["name"], item["type"],
                      item.get("description"))
        except ValueError as err:
            raise SeedError(str(err)) from None


def load_networks(app, zones):
    """The guest networks of each zone (after the accounts that own them)."""
    for zone_item in zones:
        zone = named(app, "zone", zone_item["name"], "zones")
        for item in zone_item.get("networks") or []:
            where = f"zone {zone['name']}: network {item.get('name')}"
            account = named(app, "account", item["account"], where) if item.get("account") else None
            domain = named(app, "domain", item["domain"], where) if item.get("domain") else None
            try:
                new_network(app, zone, item["name"], item.get("type", "Isolated"), account=account, domain=domain,
                            cidr=item.get("cidr"), gateway=item.get("gateway"), vlan=item.get("vlan"),
                            displaytext=item.get("displaytext"))
            except ValueError as err:
                raise SeedError(f"{where}: {err}") from None


def load_settings(app, items):
    """Setting overrides at global, zone, cluster, domain or account scope."""
    for item in items:
        setting = definition(app.version, item["name"])
        if setting is None:
            raise SeedError(f"setting {item['name']}: unknown name in CloudStack {app.version.name}")
        scope = item.get("scope", "global")
        scope_id = 0
        if scope != "global":
            if scope not in setting.scopes:
                raise SeedError(f"setting {item['name']}: scope {scope} not allowed ({', '.join(setting.scopes)})")
            scope_id = named(app, SCOPE_KINDS[scope], item["target"], f"setting {item['name']}")["id"]
        try:
            value = check_value(setting, str(item["value"]))
        except ApiError as err:
            raise SeedError(f"setting {item['name']}: {err.text}") from None
        app.settings.set(item["name"], scope, scope_id, value)


def load_vms(app, items):
    """VMs in state Running (on a host) or Stopped."""
    for item in items:
        where = f"vm {item['name']}"
        state = item.get("state", "Stopped")
        if state not in ("Running", "Stopped"):
            raise SeedError(f"{where}: state must be Running or Stopped, not {state}")
        host = named(app, "host", item["host"], where) if item.get("host") else None
        if state == "Running" and host is None:
            raise SeedError(f"{where}: a Running VM needs a host")
        account = named(app, "account", item["account"], where)
        zone = named(app, "zone", item.get("zone") or app.store.all("zone")[0]["name"], where)
        try:
            networks = vm_networks(app, account, zone, [named(app, "network", name, where)
                                                        for name in item.get("networks") or []])
        except ApiError as err:
            raise SeedError(f"{where}: {err.text}") from None
        vm = new_vm(app, account, zone, named(app, "template", item["template"], where),
                    named(app, "offering", item["offering"], where), item["name"],
                    {key: str(value) for key, value in (item.get("details") or {}).items()}, networks)
        vm["isdynamicallyscalable"] = bool(item.get("isdynamicallyscalable", False))
        vm["affinity_group_ids"] = [vm_group(app, account, name, where)["id"]
                                    for name in item.get("affinity_groups") or []]
        try:
            vm["load"] = check_load(item.get("load"), vm_size(app.store, vm)[2])
        except ValueError as err:
            raise SeedError(f"{where}: load: {err}") from None
        vm["state"] = state
        vm["host_id"] = host["id"] if state == "Running" else None
        vm["last_host_id"] = host["id"] if host else None
        app.store.save("vm", vm)
        if not isinstance(item.get("tags") or {}, dict):
            raise SeedError(f"{where}: tags must be a mapping of key: value, e.g. {{env: prod}}")
        for key, value in (item.get("tags") or {}).items():
            add_tag(app.store, "UserVm", vm, str(key), str(value))


def vm_group(app, account, name, where):
    """The affinity group of the VM's account with that name, or SeedError."""
    group = app.store.one("affinitygroup", name=name, account_id=account["id"])
    if group is None:
        known = ", ".join(g["name"] for g in app.store.find("affinitygroup", account_id=account["id"])) or "none"
        raise SeedError(f"{where}: account {account['name']} has no affinity group '{name}' (known: {known})")
    return group
