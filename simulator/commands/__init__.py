"""API command handlers; importing this package registers every command (see simulator.registry)."""

from simulator.commands import (
    affinity, annotations, config, infra, jobs, metrics, network, offerings, systemvms, tags, vms)

MODULES = (affinity, annotations, config, infra, jobs, metrics, network, offerings, systemvms, tags, vms)
