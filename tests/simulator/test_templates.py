"""listTemplates: template filters, the admin-only `all` and the access check of a listing by id.

Sources ([main]): server/.../api/query/QueryManagerImpl.java searchForTemplatesInternal (both overloads) and
applyPublicTemplateSharingRestrictions, server/.../acl/DomainChecker.java checkAccess (VirtualMachineTemplate) and
checkPublicTemplateAccess, api/.../template/VirtualMachineTemplate.java TemplateFilter.
"""

import pytest
import yaml

from simulator.testing import InProcessSimulator, SimulatorProcess

from .conftest import build_seed

DOMAIN_ADMIN = (SimulatorProcess.domain_admin_key, SimulatorProcess.domain_admin_secret)
USER = (SimulatorProcess.user_key, SimulatorProcess.user_secret)
PRIVATE = {"name": "private-base", "ispublic": False, "isfeatured": False}
COMMUNITY = {"name": "community-base", "ispublic": True, "isfeatured": False}


@pytest.fixture
def sim(tmp_path):
    """Default seed plus a private and a public non-featured template of the root admin."""
    path = build_seed(tmp_path, scalable=False)
    seed = yaml.safe_load(path.read_text())
    seed["templates"] += [PRIVATE, COMMUNITY]
    path.write_text(yaml.safe_dump(seed))
    simulator = InProcessSimulator(path, tmp_path / "state.sqlite").start()
    yield simulator
    simulator.stop()


def names(client, **params):
    """Names of the templates listed."""
    return {t["name"] for t in client.ok("listTemplates", **params).get("template", [])}


def ids(sim):
    """{name: id} of every template (root admin, filter all)."""
    return {t["name"]: t["id"] for t in sim.client().ok("listTemplates", templatefilter="all")["template"]}


def test_filter_all_is_refused_to_users_only(sim):
    """searchForTemplatesInternal: Account.Type.NORMAL with TemplateFilter.all is an InvalidParameterValueException;
    a domain admin lists public templates and those of its subtree (not the root admin's private one)."""
    status, body = sim.client(*USER).call("listTemplates", templatefilter="all")
    answer = body["listtemplatesresponse"]
    assert (status, answer["errortext"], answer["cserrorcode"]) == (
        431, "Filter all can be specified by admin only", 4350)
    status = sim.client(*USER).call("listTemplates", templatefilter="all", id=ids(sim)["debian-12-generic"])[0]
    assert status == 431
    assert names(sim.client(*DOMAIN_ADMIN), templatefilter="all") == {"debian-12-generic", "community-base"}
    assert names(sim.client(), templatefilter="all") == {"debian-12-generic", "community-base", "private-base"}


def test_filters_a_user_may_use(sim):
    """featured: public and featured; community: public, not featured; executable: public or own; self: own;
    shared/sharedexecutable: granted by others (none here)."""
    user = sim.client(*USER)
    assert names(user, templatefilter="featured") == {"debian-12-generic"}
    assert names(user, templatefilter="community") == {"community-base"}
    assert names(user, templatefilter="executable") == {"debian-12-generic", "community-base"}
    assert names(user, templatefilter="self") == set()
    assert user.ok("listTemplates", templatefilter="shared") == {}
    assert names(sim.client(), templatefilter="self") == {"debian-12-generic", "community-base", "private-base"}
    assert names(sim.client(), templatefilter="executable") == {
        "debian-12-generic", "community-base", "private-base"}


def test_with_an_id_the_filter_is_not_applied_only_the_access_check(sim):
    """With templateId the search is by id alone after DomainChecker.checkAccess: a user reads a public template's
    flag with any filter it may use; another account's private template is 531."""
    template_ids = ids(sim)
    user = sim.client(*USER)
    listed = user.ok("listTemplates", templatefilter="self", id=template_ids["debian-12-generic"])["template"]
    assert [t["name"] for t in listed] == ["debian-12-generic"]
    assert "isdynamicallyscalable" in listed[0]
    status, body = user.call("listTemplates", templatefilter="executable", id=template_ids["private-base"])
    text = body["listtemplatesresponse"]["errortext"]
    assert status == 531 and "does not have permission to launch instances from template" in text
    assert names(sim.client(), templatefilter="featured", id=template_ids["private-base"]) == {"private-base"}


def test_public_templates_of_a_domain_that_does_not_share_them(sim):
    """applyPublicTemplateSharingRestrictions: with share.public.templates.with.other.domains false for ROOT, the
    root templates are not listed to other domains; checkPublicTemplateAccess still lets a child domain read one
    by id (the caller's domain is a child of the owner's)."""
    admin = sim.client()
    root = admin.ok("listDomains", name="ROOT")["domain"][0]["id"]
    admin.ok("updateConfiguration", name="share.public.templates.with.other.domains", value="false", domainid=root)
    user = sim.client(*USER)
    assert names(user, templatefilter="executable") == set()
    assert names(user, templatefilter="featured", id=ids(sim)["debian-12-generic"]) == {"debian-12-generic"}
    assert names(admin, templatefilter="featured") == {"debian-12-generic"}


def test_the_collection_reads_a_vm_template_flag_with_a_user_key(sim):
    """The collection's template lookups by id (_scalable.blockers, _scaling) must not use `all`, which CloudStack
    refuses to a User: the template's missing dynamic-scaling flag is found with a User-role key too."""
    from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi
    from ansible_collections.livescale.cloudstack.plugins.module_utils._scalable import TEMPLATE_BLOCKED, blockers
    vm = {"name": "web-01", "templateid": ids(sim)["debian-12-generic"], "serviceofferingid": None}
    for key, secret in (USER, (sim.admin_key, sim.admin_secret)):
        assert TEMPLATE_BLOCKED in blockers(CloudStackApi(sim.url, key, secret), vm, None)
