"""listAccounts scoping, following QueryManagerImpl.searchForAccountIdsAndCount ([main])."""

from simulator.testing import SimulatorProcess

DOMAIN_ADMIN = (SimulatorProcess.domain_admin_key, SimulatorProcess.domain_admin_secret)
USER = (SimulatorProcess.user_key, SimulatorProcess.user_secret)


def names(client, **params):
    """Account names listAccounts answers."""
    return sorted(account["name"] for account in client.ok("listAccounts", **params).get("account", []))


def test_without_listall_or_domain_every_caller_lists_its_own_account(make_sim):
    """searchForAccountIdsAndCount: no id, no listall, no domainid: accountId = the caller's account, for admins too;
    a name filter then finds nothing outside it."""
    sim = make_sim(scalable=False)
    assert names(sim.client()) == ["admin"]
    assert names(sim.client(), name="acme") == []
    assert names(sim.client(*DOMAIN_ADMIN)) == ["customers-admin"]
    assert names(sim.client(*USER), listall="true") == ["acme"]


def test_listall_and_domainid_widen_the_scope_for_admins(make_sim):
    """listall for admins: the caller's domain, recursive; an admin's domainid: that domain (its tree with
    isrecursive); a user's domainid still lists its own account."""
    sim = make_sim(scalable=False)
    admin = sim.client()
    assert names(admin, listall="true") == ["acme", "admin", "customers-admin"]
    assert names(admin, name="acme", listall="true") == ["acme"]
    customers = admin.ok("listDomains", name="customers")["domain"][0]["id"]
    root = admin.ok("listDomains", name="ROOT")["domain"][0]["id"]
    assert names(admin, domainid=root) == ["admin"]
    assert names(admin, domainid=root, isrecursive="true") == ["acme", "admin", "customers-admin"]
    assert names(sim.client(*DOMAIN_ADMIN), listall="true") == ["acme", "customers-admin"]
    assert names(sim.client(*USER), domainid=customers) == ["acme"]


def test_domain_setting_lets_users_see_their_domains_accounts(make_sim):
    """QueryService.AllowUserViewAllDomainAccounts (allow.user.view.all.domain.accounts, Domain scope) widens a
    user's listing to its domain tree, less the domain-admin accounts (type2NEQ)."""
    sim = make_sim(scalable=False, accounts=[{"name": "globex", "domain": "customers", "role": "User",
                                              "users": [{"username": "gus", "apikey": "GUS-KEY",
                                                         "secretkey": "GUS-SECRET"}]}])
    assert names(sim.client(*USER)) == ["acme"]
    customers = sim.client().ok("listDomains", name="customers")["domain"][0]["id"]
    sim.client().ok("updateConfiguration", name="allow.user.view.all.domain.accounts", value="true",
                    domainid=customers)
    assert names(sim.client(*USER)) == ["acme", "globex"]


def test_a_domain_outside_the_callers_tree_is_refused(make_sim):
    """searchForAccountIdsAndCount: accountMgr.checkAccess(caller, domain) -> DomainChecker's text (531)."""
    sim = make_sim(scalable=False)
    root = sim.client().ok("listDomains", name="ROOT")["domain"][0]["id"]
    status, body = sim.client(*DOMAIN_ADMIN).call("listAccounts", domainid=root)
    assert status == 531
    assert body["listaccountsresponse"]["errortext"].endswith(f"does not have permission to operate within domain"
                                                              f" id={root}")
