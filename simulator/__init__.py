"""CloudStack API simulator: a real HTTP server over SQLite state and libvirt hosts (see README.md)."""
