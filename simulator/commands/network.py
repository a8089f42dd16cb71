"""Guest networks and VM NICs: listNetworks, listNics, NIC allocation at deploy, the empty NAT rule lists."""

import ipaddress

from simulator.commands.infra import empty_list
from simulator.errors import denied, invalid, server
from simulator.model import account_to_string, check_domain_access, in_subtree, is_root_domain
from simulator.registry import LIST_PARAMS, PAGE_PARAMS, PROJECT_ID, command, listing, param
from simulator.views import compact, network_state, nic_response, owner_fields, vm_nics

ISOLATED, SHARED = "Isolated", "Shared"
# The default guest offerings of ConfigurationServerImpl.createDefaultNetworkOfferings (ids in its creation order on a
# new installation: 8 DefaultSharedNetworkOffering, 10 DefaultIsolatedNetworkOfferingWithSourceNatService).
OFFERINGS = {
    ISOLATED: {"id": 10, "name": "DefaultIsolatedNetworkOfferingWithSourceNatService",
               "displaytext": "Offering for Isolated networks with Source Nat service enabled",
               "availability": "Required", "specify": False,
               "services": ("Dhcp", "Dns", "UserData", "Firewall", "Gateway", "Lb", "SourceNat", "StaticNat",
                            "PortForwarding", "Vpn")},
    SHARED: {"id": 8, "name": "DefaultSharedNetworkOffering", "displaytext": "Offering for Shared networks",
             "availability": "Optional", "specify": True, "services": ("Dhcp", "Dns", "UserData")},
}
ZONE_GUEST_CIDR = "10.1.1.0/24"  # the guest CIDR of a zone created without guestcidraddress (UI default)
GUEST_DOMAIN_SUFFIX = "cloud.internal"  # NetworkOrchestrationService.GuestDomainSuffix default
MAC_PREFIX = 0x2  # NetworkDaoImpl._prefix
GUEST_TYPES = {"shared": SHARED, "isolated": ISOLATED, "l2": "L2"}  # Network.GuestType.fromValue
NETWORK_FILTERS = ("account", "domain", "accountdomain", "shared", "all")  # Network.NetworkFilter, any case
SERVICES = ("Vpn", "Dhcp", "Dns", "Gateway", "Firewall", "Lb", "UserData", "SourceNat", "StaticNat", "PortForwarding",
            "SecurityGroup", "NetworkACL", "Connectivity")  # Network.Service


def network_to_string(network):
    """NetworkVO.toString()."""
    return (f'Network {{"id": {network["id"]}, "name": "{network["name"]}", "uuid": "{network["uuid"]}",'
            f' "networkofferingid": {OFFERINGS[network["guesttype"]]["id"]}}}')


def zone_to_string(zone):
    """DataCenterVO.toString()."""
    return f'Zone {{"id": "{zone["id"]}", "name": "{zone["name"]}", "uuid": "{zone["uuid"]}"}}'


def new_network(app, zone, name, guesttype=ISOLATED, account=None, domain=None, cidr=None, gateway=None, vlan=None,
                displaytext=None):
    """Store a guest network; ValueError names what is wrong (an Isolated one needs its owner account, a Shared one
    without a domain is zone-wide).

    An Isolated network without a CIDR takes the zone's guest CIDR and its first address as gateway
    (GuestNetworkGuru.design); a Shared one needs its CIDR.
    """
    if guesttype not in OFFERINGS:
        raise ValueError(f"type must be {ISOLATED} or {SHARED}, not {guesttype}")
    if guesttype == ISOLATED and (account is None or domain is not None):
        raise ValueError("an Isolated network belongs to an account: give account, not domain")
    if guesttype == SHARED and (cidr is None or account is not None):
        raise ValueError("a Shared network needs a cidr such as 10.2.0.0/24 and belongs to a domain (all when none is"
                         " given), not to an account")
    subnet = ipaddress.ip_network(cidr or ZONE_GUEST_CIDR)
    if subnet.version != 4 or subnet.num_addresses < 4:
        raise ValueError(f"cidr {subnet} must be an IPv4 network of at least 4 addresses")
    gateway = ipaddress.ip_address(gateway) if gateway else subnet.network_address + 1
    if gateway not in subnet:
        raise ValueError(f"gateway {gateway} is not in cidr {subnet}")
    if account:
        owner_domain = account["domain_id"]
    else:  # NetworkServiceImpl.commitNetwork: a zone-wide shared network is the ROOT domain's, with subdomain access
        owner_domain = (domain or next(d for d in app.store.all("domain") if is_root_domain(d)))["id"]
    return app.store.add("network", {
        "name": name, "displaytext": displaytext or name, "zone_id": zone["id"], "guesttype": guesttype,
        "acltype": "Account" if guesttype == ISOLATED else "Domain", "account_id": account["id"] if account else None,
        "domain_id": owner_domain, "cidr": str(subnet), "gateway": str(gateway),
        "vlan": int(vlan) if vlan is not None else None, "mac_seq": 0, "created": app.now(),
        "networkdomain": f"cs{account['id']:x}{GUEST_DOMAIN_SUFFIX}" if account else None})


def usable_by(store, network, account):
    """NetworkModelImpl.checkNetworkPermissions: an account network only by its owner; a shared one in its domain."""
    if network["acltype"] == "Account":
        return network["account_id"] == account["id"]
    return in_subtree(store.get("domain", account["domain_id"]), store.get("domain", network["domain_id"]))


def check_usable(store, network, account):
    """PermissionDenied with checkAccountNetworkPermissions' / checkDomainNetworkPermissions' texts."""
    if usable_by(store, network, account):
        return
    if network["acltype"] == "Account":
        raise denied(f"Unable to use network with id= {network['uuid']}, permission denied")
    raise denied(f"Shared network id={network['uuid']} is not available in domain id="
                 f"{store.get('domain', account['domain_id'])['uuid']}")


def default_network(app, account, zone):
    """UserVmManagerImpl.getDefaultNetwork: the account's one Isolated network in the zone, created when it has none."""
    own = app.store.find("network", zone_id=zone["id"], guesttype=ISOLATED, account_id=account["id"])
    if len(own) > 1:
        raise invalid(f"More than 1 default Isolated networks are found for Account {account_to_string(account)};"
                      " please specify networkIds")
    if own:
        return own[0]
    name = f"{account['name']}-network"  # createDefaultNetworkForAccount
    return new_network(app, zone, name, ISOLATED, account=account)


def vm_networks(app, account, zone, networks=None):
    """The networks a new VM gets NICs on (the first the default NIC), checked as createAdvancedVirtualMachine does."""
    if not networks:
        networks = [default_network(app, account, zone)]
    for network in networks:
        check_usable(app.store, network, account)
        if network["zone_id"] != zone["id"]:
            raise invalid(f"Network {network_to_string(network)} doesn't belong to zone {zone_to_string(zone)}")
        if free_address(app.store, network) is None:
            # GuestNetworkGuru.allocate's InsufficientVirtualNetworkCapacityException, answered by DeployVMCmd.create
            raise server(533, f"Unable to acquire Guest IP address for network {network_to_string(network)}")
    return networks


def free_address(store, network):
    """The lowest free address of the network (NetworkModelImpl.getAvailableIps: not the network or broadcast
    address, not the gateway, not used by a NIC); CloudStack picks a random one of them, the simulator the lowest so
    that seeds give predictable addresses."""
    used = {nic["ipaddress"] for nic in store.find("nic", network_id=network["id"])} | {network["gateway"]}
    return next((str(host) for host in ipaddress.ip_network(network["cidr"]).hosts() if str(host) not in used), None)


def next_mac(network):
    """NetworkDaoImpl.getNextAvailableMacAddress: the network's sequence | prefix | zone MAC identifier | network id
    (mac.identifier 0 means the zone's id, NetworkModelImpl.getMacIdentifier)."""
    network["mac_seq"] += 1
    value = network["mac_seq"] | MAC_PREFIX << 40 | network["zone_id"] << 32 | (network["id"] << 16 & 0xffff0000)
    return ":".join(f"{value >> shift & 0xff:02x}" for shift in range(40, -1, -8))


def allocate_nics(app, vm, networks):
    """One NIC per network, device ids from 0, the first the default (NetworkOrchestrator.allocate)."""
    for deviceid, network in enumerate(networks):
        address = free_address(app.store, network)
        subnet = ipaddress.ip_network(network["cidr"])
        app.store.add("nic", {"vm_id": vm["id"], "network_id": network["id"], "ipaddress": address,
                              "netmask": str(subnet.netmask), "gateway": network["gateway"],
                              "macaddress": next_mac(network), "deviceid": deviceid, "isdefault": deviceid == 0})
        app.store.save("network", network)


def release_nics(app, vm):
    """Remove a VM's NICs, freeing their addresses (done when the VM is expunged)."""
    for nic in vm_nics(app.store, vm):
        app.store.delete("nic", nic)


def network_response(ctx, network):
    """NetworkResponse as ApiResponseHelper.createNetworkResponse fills it; vlan, broadcasturi and details only in the
    root admin's Full view, displaynetwork only for root admins (its @Param authorized)."""
    store = ctx.store
    full = ctx.caller.is_root_admin
    zone = store.get("zone", network["zone_id"])
    offering = OFFERINGS[network["guesttype"]]
    state = network_state(store, network)
    implemented = network["vlan"] is not None and state != "Allocated"
    subnet = ipaddress.ip_network(network["cidr"])
    body = {"id": network["uuid"], "name": network["name"], "displaytext": network["displaytext"],
            "broadcastdomaintype": "Vlan", "traffictype": "Guest", "gateway": network["gateway"],
            "netmask": str(subnet.netmask), "cidr": network["cidr"], "zoneid": zone["uuid"], "zonename": zone["name"],
            "networkofferingname": offering["name"], "networkofferingdisplaytext": offering["displaytext"],
            "networkofferingconservemode": True, "networkofferingavailability": offering["availability"],
            "issystem": False, "state": state, "related": network["uuid"],
            "broadcasturi": f"vlan://{network['vlan']}" if implemented and full else None,
            "type": network["guesttype"], "vlan": str(network["vlan"]) if implemented and full else None,
            "acltype": network["acltype"]}
    if network["account_id"] is not None:
        body.update(owner_fields(store, network["account_id"]))
    else:
        domain = store.get("domain", network["domain_id"])
        body.update(subdomainaccess=True, domainid=domain["uuid"], domain=domain["name"], domainpath=domain["path"])
    body.update(service=[{"name": name, "provider": [{"name": "VirtualRouter"}]} for name in offering["services"]],
                networkdomain=network["networkdomain"], restartrequired=False, specifyvlan=offering["specify"],
                specifyipranges=offering["specify"], canusefordeploy=can_use_for_deploy(store, network),
                ispersistent=False, tags=[], details={} if full else None, displaynetwork=True if full else None,
                redundantrouter=False, supportsvmautoscaling=network["guesttype"] == ISOLATED,
                created=network["created"], receivedbytes=0, sentbytes=0)
    return compact(body)


def guest_type_filter(values):
    """ListNetworksCmd.getGuestIpType: none for "all" or empty, else Network.GuestType.fromValue (431 for others)."""
    wanted = values.get("type")
    if not wanted or wanted.lower() == "all":
        return None
    if wanted.lower() not in GUEST_TYPES:
        raise invalid(f"Unexpected Guest type : {wanted}")
    return GUEST_TYPES[wanted.lower()]


def in_domains(store, network, domain, recursive):
    """The network's domain is the given one, or below it when recursive (domain path LIKE path[%])."""
    own = store.get("domain", network["domain_id"])
    return in_subtree(own, domain) if recursive else own["id"] == domain["id"]


def domain_level(store, network, domain, parents_only):
    """NetworkServiceImpl.addDomainLevelNetworksToSearch: a domain network of the domain itself (unless parents_only)
    or of one of its parents; the simulator's shared networks all have subdomain access (the createNetwork default)."""
    own = store.get("domain", network["domain_id"])
    return in_subtree(domain, own) and not (parents_only and own["id"] == domain["id"])


def network_scope(ctx, values):
    """searchForNetworks' owner scope: (permitted account ids, domain, the domain whose path is searched,
    recursive); 431/531 for a domainid or account the caller may not use."""
    caller, store = ctx.caller, ctx.store
    domain, permitted = values.get("domainid"), set()
    if domain is not None:
        check_domain_access(caller, domain)
        if "account" in values:  # an account without domainid is not looked at
            owner = store.one("account", name=values["account"], domain_id=domain["id"])
            if owner is None:
                raise invalid(f"Unable to find account {values['account']} in specified domain")
            ctx.check_account(owner["id"])
            permitted.add(owner["id"])
    if caller.role == "User":
        permitted.add(caller.account["id"])
        domain = caller.domain
    recursive = bool(values.get("isrecursive")) or (bool(values.get("listall")) and domain is None)
    return permitted, domain, domain or caller.domain, recursive


def owned_networks(ctx, values):
    """NetworkServiceImpl.searchForNetworks before its filters: account networks (of the permitted accounts, else
    of the searched domain [and below]) and domain networks (of the searched domain [and below] plus the caller's
    parent domains', or of the owner's domain and its parents), as networkfilter selects; no network permissions
    (networkfilter shared) and no system networks (issystem) are kept by the simulator."""
    caller, store = ctx.caller, ctx.store
    chosen = values.get("networkfilter")
    if chosen is not None and chosen.lower() not in NETWORK_FILTERS:
        raise invalid(f"Invalid value of networkfilter: {chosen}")
    chosen = (chosen or "all").lower()
    system = bool(values.get("issystem")) and caller.is_root_admin  # reset to false for other callers
    if system and ("account" in values or "domainid" in values):
        raise invalid("System network belongs to system, account and domainId parameters can't be specified")
    permitted, domain, searched, recursive = network_scope(ctx, values)
    if system:
        return []
    found = []
    for network in store.all("network"):
        if network["acltype"] == "Account":
            keep = chosen in ("account", "accountdomain", "all") and (
                network["account_id"] in permitted if permitted else in_domains(store, network, searched, recursive))
        elif chosen not in ("domain", "accountdomain", "all"):
            keep = False
        elif permitted:  # a user's own domain or the named owner's
            keep = domain_level(store, network, domain, parents_only=False)
        else:
            keep = in_domains(store, network, searched, recursive) or (
                domain is None and domain_level(store, network, caller.domain, parents_only=True))
        if keep:
            found.append(network)
    return found


def visible_networks(ctx, values):
    """NetworkServiceImpl.searchForNetworks: the networks the caller's scope holds, filtered, newest first."""
    store, caller = ctx.store, ctx.caller
    guest_type = guest_type_filter(values)
    found = owned_networks(ctx, values)
    display = values.get("displaynetwork", True) if caller.is_root_admin else True  # authorized Admin; default true
    found = [n for n in found if n.get("displaynetwork", True) == display
             and (guest_type is None or n["guesttype"] == guest_type)]
    checks = {"id": lambda n: n["id"] == values["id"]["id"],
              "name": lambda n: n["name"].lower() == values["name"].lower(),  # EQ, MySQL's case-insensitive collation
              "keyword": lambda n: values["keyword"].lower() in n["name"].lower(),
              "zoneid": lambda n: n["zone_id"] == values["zoneid"]["id"],
              "acltype": lambda n: n["acltype"].lower() == values["acltype"].lower(),
              "traffictype": lambda n: values["traffictype"].lower() == "guest",
              "vpcid": lambda n: False, "forvpc": lambda n: not values["forvpc"],
              "restartrequired": lambda n: not values["restartrequired"],
              "specifyipranges": lambda n: OFFERINGS[n["guesttype"]]["specify"] == values["specifyipranges"],
              "tags": lambda n: False}  # the simulator keeps no tags on networks
    for key, keep in checks.items():
        if key in values:
            found = [n for n in found if keep(n)]
    if values.get("supportedservices") and found:
        services = [service_named(name) for name in values["supportedservices"]]
        found = [n for n in found if set(services) <= set(OFFERINGS[n["guesttype"]]["services"])]
    if "canusefordeploy" in values:
        found = [n for n in found if can_use_for_deploy(store, n) == values["canusefordeploy"]]
    return sorted(found, key=lambda n: n["id"], reverse=True)  # Filter(NetworkVO.class, "id", false)


def service_named(name):
    """Network.Service.getService: the service of that name in any case, 431 for an unknown one."""
    service = next((known for known in SERVICES if known.lower() == name.lower()), None)
    if service is None:
        raise invalid(f"Invalid service specified {name}")
    return service


def can_use_for_deploy(store, network):
    """NetworkModelImpl.canUseForDeploy: a guest network with services needs a free address."""
    return free_address(store, network) is not None


NETWORK_FIELDS = ("id", "name", "displaytext", "broadcastdomaintype", "traffictype", "gateway", "netmask", "cidr",
                  "zoneid", "zonename", "networkofferingname", "networkofferingdisplaytext",
                  "networkofferingconservemode", "networkofferingavailability", "issystem", "state", "related",
                  "broadcasturi", "type", "vlan", "acltype", "subdomainaccess", "account", "domainid", "domain",
                  "domainpath", "service", "networkdomain", "restartrequired", "specifyvlan", "specifyipranges",
                  "canusefordeploy", "ispersistent", "tags", "details", "displaynetwork", "redundantrouter",
                  "supportsvmautoscaling", "created", "receivedbytes", "sentbytes")
NIC_FIELDS = ("id", "networkid", "networkname", "netmask", "gateway", "ipaddress", "isolationuri", "broadcasturi",
              "traffictype", "type", "isdefault", "macaddress", "extradhcpoption", "deviceid", "virtualmachineid",
              "enabled")


# ListNetworksCmd (BaseListRetrieveOnlyResourceCountCmd < BaseListTaggedResourcesCmd
# < BaseListProjectAndAccountResourcesCmd)
@command("listNetworks", cmdclass="network.ListNetworksCmd", params=(
    param("id", "uuid", entity="network"), param("name"), param("zoneid", "uuid", entity="zone"), param("type"),
    param("issystem", "boolean"), param("acltype"), param("traffictype"), param("physicalnetworkid"),
    param("supportedservices", "list"), param("restartrequired", "boolean"), param("specifyipranges", "boolean"),
    param("vpcid"), param("canusefordeploy", "boolean"), param("forvpc", "boolean"), param("displaynetwork", "boolean"),
    param("networkofferingid"), param("associatednetworkid"), param("showicon", "boolean"), param("networkfilter"),
    param("retrieveonlyresourcecount", "boolean"), param("tags", "map"), param("account"),
    param("domainid", "uuid", entity="domain"), param("isrecursive", "boolean"), PROJECT_ID) + LIST_PARAMS,
    fields=NETWORK_FIELDS)
def list_networks(ctx, values):
    """Lists all available networks."""
    found = visible_networks(ctx, values)
    if values.get("retrieveonlyresourcecount"):  # ListNetworksCmd.execute: the count without the responses
        return {"count": len(found)} if found else {}
    return listing("network", [network_response(ctx, n) for n in found], values)


# ListNicsCmd (BaseListCmd): virtualmachineid required
@command("listNics", cmdclass="vm.ListNicsCmd", params=(
    param("nicid", "uuid", entity="nic"), param("virtualmachineid", "uuid", required=True, entity="vm"),
    param("networkid", "uuid", entity="network"), param("fordisplay", "boolean")) + PAGE_PARAMS, fields=NIC_FIELDS)
def list_nics(ctx, values):
    """List the Instance NICs IP to NIC."""
    vm = ctx.check_access(values["virtualmachineid"])
    nics = vm_nics(ctx.store, vm)
    for key, field in (("nicid", "id"), ("networkid", "network_id")):
        if key in values:
            nics = [nic for nic in nics if nic[field] == values[key]["id"]]
    return listing("nic", [nic_response(ctx.store, nic, vm["uuid"]) for nic in nics], values)


# the simulator has no public IPs, so no NAT rules: ListIpForwardingRulesCmd (BaseListProjectAndAccountResourcesCmd),
# ListPortForwardingRulesCmd (BaseListTaggedResourcesCmd)
empty_list("listIpForwardingRules", "ipforwardingrule", "projectid account domainid id ipaddressid virtualmachineid")
empty_list("listPortForwardingRules", "portforwardingrule", "projectid account domainid id ipaddressid networkid")
