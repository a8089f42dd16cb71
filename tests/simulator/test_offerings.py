"""create/update/delete/listServiceOfferings: validation texts and semantics (spec 2.6-2.8)."""

import pytest

from simulator.testing import InProcessSimulator

from .conftest import World, build_seed


@pytest.fixture
def admin(make_sim):
    """Root admin client of a fresh in-process simulator with scalable, Running VMs."""
    return make_sim().client()


@pytest.mark.parametrize("params, text", [
    ({"customized": "true", "cpunumber": 2}, "For creating a custom compute offering cpu and memory all should be null"),
    ({"customized": "true", "mincpunumber": 1, "maxcpunumber": 4},
     "For creating a custom compute offering min/max cpu and min/max memory/cpu speed should all be null or all"
     " specified"),
    ({"cpunumber": 0, "cpuspeed": 1000, "memory": 1024, "customized": "false"},
     "Failed to create service offering Bad: specify the cpu number value between 1 and 2147483647"),
    ({"cpunumber": 1, "memory": 1024, "customized": "false"},
     "Failed to create service offering Bad: specify the cpu speed value between 0 and 2147483647"),
    ({"cpunumber": 1, "cpuspeed": 1000, "memory": 16, "customized": "false"},
     "Failed to create service offering Bad: specify the memory value between 32 and 2147483647 MB"),
    ({"customized": "true", "mincpunumber": 0, "maxcpunumber": 4, "minmemory": 512, "maxmemory": 1024,
      "cpuspeed": 1000},
     "Failed to create service offering Bad: specify the minimum or minimum cpu number value between 1 and 2147483647"),
    ({"customized": "true", "mincpunumber": 1, "maxcpunumber": 4, "minmemory": 16, "maxmemory": 1024,
      "cpuspeed": 1000},
     "Failed to create service offering Bad: specify the memory value between 32 and 2147483647 MB"),
    ({"customized": "true", "mincpunumber": 1, "maxcpunumber": 4, "minmemory": 512, "maxmemory": 1024,
      "cpuspeed": -1},
     "Failed to create service offering Bad: specify the cpu speed value between 1 and 2147483647"),
])
def test_create_validation(admin, params, text):
    status, body = admin.call("createServiceOffering", name="Bad", **params)
    assert status == 431
    assert body["createserviceofferingresponse"]["errortext"] == text
    assert admin.ok("listServiceOfferings", name="Bad") == {}


def test_cpu_cores_max_setting_bounds_fixed_offerings(admin):
    admin.ok("updateConfiguration", name="vm.serviceoffering.cpu.cores.max", value="4")
    status, body = admin.call("createServiceOffering", name="Wide", cpunumber=8, cpuspeed=1000, memory=1024)
    assert status == 431
    assert body["createserviceofferingresponse"]["errortext"].endswith("between 1 and 4")


def test_created_offering_kinds(admin):
    fixed = admin.ok("createServiceOffering", name="Fixed", cpunumber=2, cpuspeed=2000, memory=2048,
                     limitcpuuse="true")["serviceoffering"]
    assert (fixed["iscustomized"], fixed["dynamicscalingenabled"], fixed["limitcpuuse"]) == (False, True, True)
    constrained = admin.ok("createServiceOffering", name="Box", customized="true", mincpunumber=1, maxcpunumber=4,
                           minmemory=512, maxmemory=4096, cpuspeed=1500,
                           dynamicscalingenabled="false")["serviceoffering"]
    assert "cpunumber" not in constrained and "memory" not in constrained and constrained["cpuspeed"] == 1500
    assert constrained["serviceofferingdetails"] == {"mincpunumber": "1", "maxcpunumber": "4", "minmemory": "512",
                                                     "maxmemory": "4096"}
    assert (constrained["iscustomized"], constrained["dynamicscalingenabled"]) == (True, False)
    open_ended = admin.ok("createServiceOffering", name="Open", customized="true")["serviceoffering"]
    assert not {"cpunumber", "cpuspeed", "memory", "serviceofferingdetails"} & set(open_ended)


def test_update_changes_names_and_state_never_size(admin):
    offering = admin.ok("listServiceOfferings", name="Small")["serviceoffering"][0]
    updated = admin.ok("updateServiceOffering", id=offering["id"], displaytext="Tiny", cpunumber=8,
                       state="Inactive")["serviceoffering"]
    assert (updated["displaytext"], updated["cpunumber"], updated["state"]) == ("Tiny", 1, "Inactive")
    assert admin.ok("listServiceOfferings", name="Small") == {}
    assert admin.ok("listServiceOfferings", name="Small", state="all")["count"] == 1
    admin.ok("deleteServiceOffering", id=offering["id"])
    assert admin.ok("listServiceOfferings", name="Small", state="all") == {}
    status, body = admin.call("updateServiceOffering", id=offering["id"], name="Again")
    assert (status, body["updateserviceofferingresponse"]["cserrorcode"]) == (431, 9999)


def test_list_for_a_running_vm_offers_only_scale_up_targets(admin):
    world = World(admin)
    offered = {o["name"] for o in admin.ok("listServiceOfferings", virtualmachineid=world.vms["db-01"]["id"])
               ["serviceoffering"]}
    assert offered == {"Large", "Custom", "Custom Unconstrained"}
    admin.run("stopVirtualMachine", id=world.vms["db-01"]["id"])
    offered = {o["name"] for o in admin.ok("listServiceOfferings", virtualmachineid=world.vms["db-01"]["id"])
               ["serviceoffering"]}
    assert offered == {"Small", "Large", "Custom", "Custom Unconstrained", "Small NoScale"}


def offered_names(admin, **params):
    """Names of the offerings listServiceOfferings answers."""
    return {o["name"] for o in admin.ok("listServiceOfferings", **params).get("serviceoffering", [])}


def test_running_vm_offers_follow_the_maxmemory_detail(admin):
    """QueryManagerImpl.searchForServiceOfferingIdsAndCount, Running VM: ram_size >= vmMemory OR (ram_size IS NULL
    AND (maxmemory IS NULL OR maxmemory >= vmMemory)); the same with maxcpunumber for cpu."""
    world = World(admin)
    admin.ok("createServiceOffering", name="Box", customized="true", mincpunumber=1, maxcpunumber=8, minmemory=512,
             maxmemory=1536, cpuspeed=1000)
    admin.ok("createServiceOffering", name="Narrow", customized="true", mincpunumber=1, maxcpunumber=1,
             minmemory=512, maxmemory=8192, cpuspeed=1000)
    offered = offered_names(admin, virtualmachineid=world.vms["db-01"]["id"])  # Medium: 2 vCPU, 2048 MiB
    assert {"Box", "Narrow"}.isdisjoint(offered) and "Custom" in offered


def test_host_tags_filter_follows_the_current_offering(make_sim):
    """searchForServiceOfferingIdsAndCount: hostTags are the current offering's tags (plus the VM's cluster's with
    allow.different.host.tags.offerings.for.vm.scale); none means no host tag filter; otherwise an offering is kept
    when untagged or when FIND_IN_SET finds one of them in its tags."""
    tagged = [{"name": "Tagged", "cpunumber": 4, "cpuspeed": 1000, "memory": 4096, "hosttags": "gpu"},
              {"name": "Both", "cpunumber": 4, "cpuspeed": 1000, "memory": 4096, "hosttags": "ssd,gpu"},
              {"name": "SSD Medium", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "ssd"}]
    admin = make_sim(offerings=tagged).client()
    world = World(admin)
    db_id = world.vms["db-01"]["id"]
    assert {"Tagged", "Both"} <= offered_names(admin, virtualmachineid=db_id)  # Medium has no tags: no filter
    admin.run("stopVirtualMachine", id=db_id)
    admin.ok("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["SSD Medium"])
    offered = offered_names(admin, virtualmachineid=db_id)
    assert "Both" in offered and "Large" in offered and "Tagged" not in offered


@pytest.mark.parametrize("version, kept", [("4.23", {"Tagged", "SSD Medium", "Both"}), ("4.22", {"Both"})])
def test_an_offering_with_several_host_tags_keeps_any_or_all_of_them_by_version(tmp_path, version, kept):
    """QueryManagerImpl.searchForServiceOfferingIdsAndCount: [main] (PR #12919) keeps an offering sharing any one of
    the current offering's host tags (FIND_IN_SET joined by or); [4.22] only those with every one of them (joined by
    and; alexandremattioli/cloudstack @ 3d6cafe193). Untagged offerings stay in both."""
    tagged = [{"name": "Tagged", "cpunumber": 4, "cpuspeed": 1000, "memory": 4096, "hosttags": "gpu"},
              {"name": "Both", "cpunumber": 4, "cpuspeed": 1000, "memory": 4096, "hosttags": "ssd,gpu"},
              {"name": "Both Small", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "gpu,ssd"},
              {"name": "SSD Medium", "cpunumber": 2, "cpuspeed": 1000, "memory": 2048, "hosttags": "ssd"}]
    with InProcessSimulator(build_seed(tmp_path, offerings=tagged), tmp_path / "state.sqlite", version=version) as sim:
        admin = sim.client()
        world = World(admin)
        db_id = world.vms["db-01"]["id"]
        admin.run("stopVirtualMachine", id=db_id)
        admin.ok("changeServiceForVirtualMachine", id=db_id, serviceofferingid=world.offerings["Both Small"])
        offered = offered_names(admin, virtualmachineid=db_id)
    assert {"Tagged", "SSD Medium", "Both"} & offered == kept
    assert {"Small", "Large"} <= offered and "Both Small" not in offered  # untagged kept; the fixed current one not


def test_storage_type_of_the_root_volume_limits_the_offers(admin):
    """searchForServiceOfferingIdsAndCount with a VM: only disk offerings with useLocalStorage equal to
    isRootVolumeOnLocalStorage (the simulator's root volume is where the current offering put it)."""
    admin.ok("createServiceOffering", name="Local", cpunumber=4, cpuspeed=1000, memory=4096, storagetype="local")
    assert "Local" in offered_names(admin)
    assert "Local" not in offered_names(admin, virtualmachineid=World(admin).vms["db-01"]["id"])


def test_cpunumber_and_memory_filters_respect_custom_bounds(admin):
    """searchForServiceOfferingIdsAndCount cpuNumber/memory: a fixed offering with cpu >= X; an open one without
    a minimum detail, or with min <= X <= max."""
    assert offered_names(admin, cpunumber=2) == {"Medium", "Large", "Custom", "Custom Unconstrained"}
    assert offered_names(admin, cpunumber=9) == {"Custom Unconstrained"}
    assert offered_names(admin, memory=256) == {"Small", "Medium", "Large", "Custom Unconstrained", "Small NoScale"}
    assert offered_names(admin, memory=20000) == {"Custom Unconstrained"}


@pytest.mark.parametrize("params, code, cserrorcode, text", [
    ({"state": "foo"}, 431, 9999, "Invalid state value: foo"),  # ListServiceOfferingsCmd.getState
    ({"issystem": "true"}, 431, 4350, "Only ROOT admins can access system offerings."),
])
def test_list_parameter_errors(make_sim, params, code, cserrorcode, text):
    """ListServiceOfferingsCmd.getState's IllegalArgumentException (ApiServer: 431, 9999) and
    QueryManagerImpl.searchForServiceOfferingIdsAndCount's check of issystem for non-root callers (4350)."""
    sim = make_sim()
    alice = sim.client(sim.user_key, sim.user_secret)
    status, body = alice.call("listServiceOfferings", **params)
    error = body["listserviceofferingsresponse"]
    assert (status, error["cserrorcode"], error["errortext"]) == (code, cserrorcode, text)


def test_state_is_case_insensitive_and_keyword_matches_display_text(admin):
    """ListServiceOfferingsCmd.getState (EnumUtils.getEnumIgnoreCase); keyword: name OR displaytext LIKE."""
    assert "Small" in offered_names(admin, state="ACTIVE")
    assert offered_names(admin, keyword="vcpu") == {"Custom"}


def test_offerings_are_listed_by_sortkey(admin):
    """searchForServiceOfferingIdsAndCount: Filter on sortKey (ascending), then id; updateServiceOffering sets it."""
    large = admin.ok("listServiceOfferings", name="Large")["serviceoffering"][0]
    admin.ok("updateServiceOffering", id=large["id"], sortkey=-1)
    assert admin.ok("listServiceOfferings")["serviceoffering"][0]["name"] == "Large"


def test_create_fixed_offering_rules(admin):
    """ConfigurationManagerImpl.createServiceOffering: customized=false checks cpu number and memory only when given;
    storagetype is local or shared; no HA on local storage."""
    open_size = admin.ok("createServiceOffering", name="Speed Only", customized="false", cpuspeed=1000)
    assert "cpunumber" not in open_size["serviceoffering"]
    local = admin.ok("createServiceOffering", name="Local", cpunumber=1, cpuspeed=1000, memory=512, storagetype="LOCAL")
    assert local["serviceoffering"]["storagetype"] == "local"
    for params, text in (({"storagetype": "nfs"}, "Invalid storage type nfs specified, valid types are: 'local' and"
                                                  " 'shared'"),
                         ({"storagetype": "local", "offerha": "true"},
                          "HA offering with local storage is not supported. ")):
        status, body = admin.call("createServiceOffering", name="Bad", cpunumber=1, cpuspeed=1000, memory=512, **params)
        assert (status, body["createserviceofferingresponse"]["errortext"]) == (431, text)
