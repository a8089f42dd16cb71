"""The events of a scaleVirtualMachine job, which vm_autoscale's cooldown and circuit breaker read.

CloudStack: ``ScaleVMCmd`` runs ``UserVmManagerImpl.upgradeVirtualMachine(ScaleVMCmd)``, annotated
``@ActionEvent(eventType = EventTypes.EVENT_VM_UPGRADE, eventDescription = "Upgrading VM", async = true)``; it sets the
event details to ``"Vm Id: " + vm.getUuid()`` and throws ``CloudRuntimeException("Failed to scale the VM")`` when the
scale returns false. Any exception out of it makes ``ActionEventInterceptor.interceptException`` write a Completed
event of level ERROR described ``"Error while " + description + ". " + details``
(server/src/main/java/com/cloud/event/ActionEventInterceptor.java), after the Scheduled event of the job
(``ApiServer.processAsyncCmd``) and the Started one (``interceptStart``, written before the details are set).
``VM.DYNAMIC.SCALE`` is only a usage event
(``VirtualMachineManagerImpl.reConfigureVm`` ``generateUsageEvent``), never listed by listEvents; the agent's answer
is what management-server.log shows (the simulator's ``simulatorListAgentAnswers``).
"""

from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale as autoscale
from ansible_collections.livescale.cloudstack.plugins.module_utils import _autoscale_policy as policy
from ansible_collections.livescale.cloudstack.plugins.module_utils._api import CloudStackApi

from .test_scaling import capacity_world, job_error, vm_events, world  # noqa: F401  pylint: disable=unused-import


def scale_events(world_, name):
    """(type, level, state, description) of the VM's VM.UPGRADE (and any VM.DYNAMIC.SCALE) events, newest first."""
    rows = world_.client.ok("listEvents", listall="true", **vm_events(world_.vms[name]["id"])).get("event", [])
    return [(row["type"], row["level"], row["state"], row["description"]) for row in rows
            if row["type"] in ("VM.UPGRADE", "VM.DYNAMIC.SCALE")]


def error_event(world_, name):
    return ("VM.UPGRADE", "ERROR", "Completed", "Error while Upgrading VM. Vm Id: %s" % world_.vms[name]["id"])


def failed_scale(world_, name):
    """The events of one failed scale, newest first: the ERROR Completed, the Started, the Scheduled."""
    events = scale_events(world_, name)
    assert [(level, state) for _kind, level, state, _text in events] == [
        ("ERROR", "Completed"), ("INFO", "Started"), ("INFO", "Scheduled")]
    assert events[1][3] == "Upgrading VM" and events[2][3].startswith(
        "Upgrading Instance with ID: %s to service offering with ID: " % world_.vms[name]["id"])
    return events[0]


def test_a_scale_refused_in_the_job_writes_an_error_event(world):  # noqa: F811
    """Inactive offering: checkIfCanUpgrade throws inside upgradeVirtualMachine, so interceptException writes it."""
    code, text = job_error(world.scale("web-01", "Medium Retired"))
    assert (code, text) == (431, "New service offering is inactive: [%s]." % world.offerings["Medium Retired"])
    assert failed_scale(world, "web-01") == error_event(world, "web-01")


def test_failed_to_scale_writes_an_error_event(make_sim):
    """No host has room: upgradeVirtualMachine(ScaleVMCmd) throws "Failed to scale the VM"; one ERROR event."""
    capacity = capacity_world(make_sim, second_host_free=False)
    assert job_error(capacity.scale("web-01", "Large")) == (530, "Failed to scale the VM")
    assert failed_scale(capacity, "web-01") == error_event(capacity, "web-01")


def test_a_successful_scale_writes_no_error_event(world):  # noqa: F811
    job = world.scale("web-01", "Medium")
    assert job["jobstatus"] == 1, job
    assert scale_events(world, "web-01") and all(
        (kind, level) == ("VM.UPGRADE", "INFO") for kind, level, _state, _text in scale_events(world, "web-01"))


def test_three_failed_scales_open_vm_autoscale_breaker(world):  # noqa: F811
    """vm_autoscale reads the events as an outcome each (scale_attempts): three refused scales of web-01 open a
    breaker of 3, a success after them closes it."""
    sim = world.sim
    api = CloudStackApi(sim.url, sim.admin_key, sim.admin_secret)
    vm_id = world.vms["web-01"]["id"]
    for _attempt in range(3):
        job_error(world.scale("web-01", "Medium Retired"))
        sim.app.clock.advance(1)
    attempts, outcomes = autoscale.scale_attempts(api, [vm_id], sim.app.clock())
    assert outcomes == (False, False, False) and len(attempts[vm_id]) == 3
    assert policy.breaker_open(outcomes, 3)
    assert world.scale("web-01", "Medium")["jobstatus"] == 1
    sim.app.clock.advance(1)
    _attempts, outcomes = autoscale.scale_attempts(api, [vm_id], sim.app.clock())
    assert outcomes[0] is True and not policy.breaker_open(outcomes, 3)
