"""create/update/delete/listServiceOfferings: validation texts and semantics (spec 2.6-2.8)."""

import pytest

from .conftest import World


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
