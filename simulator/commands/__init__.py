"""API command handlers; importing this package registers every command (see simulator.registry)."""

from simulator.commands import config, infra, jobs, network, offerings, vms

MODULES = (config, infra, jobs, network, offerings, vms)
