"""API command handlers; importing this package registers every command (see simulator.registry)."""

from simulator.commands import config, infra, jobs, offerings, vms

MODULES = (config, infra, jobs, offerings, vms)
