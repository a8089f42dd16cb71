"""Stand-in for libvirtd's network listeners in the kvm_host molecule scenario.

Reads what the kvm_host role writes (libvirtd.conf, and LIBVIRTD_ARGS in the
environment file) and, like libvirtd, listens on tcp_port / tls_port only when
LIBVIRTD_ARGS holds --listen. Every connection gets one greeting line.
`restart` replaces the running instance (found through the pid file) and
returns once the new one listens; `stop` ends it.
"""
import argparse
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
from pathlib import Path

GREETING = b"fake-libvirtd\n"
SETTING = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([^"#]*?)"?\s*(#.*)?$')


def read_settings(text):
    """Return the name = value settings of a libvirt-style file as strings."""
    settings = {}
    for line in text.splitlines():
        match = SETTING.match(line)
        if match:
            settings[match.group(1)] = match.group(2)
    return settings


def listening_ports(conf_text, env_text):
    """Return the ports libvirtd would listen on for these two files."""
    if "--listen" not in read_settings(env_text).get("LIBVIRTD_ARGS", ""):
        return []
    settings = read_settings(conf_text)
    ports = []
    if settings.get("listen_tls", "1") != "0":
        ports.append(int(settings.get("tls_port", "16514")))
    if settings.get("listen_tcp", "0") != "0":
        ports.append(int(settings.get("tcp_port", "16509")))
    return ports


def serve(ports):
    """Accept connections on every port forever, greeting each one."""
    selector = selectors.DefaultSelector()
    for port in ports:
        listener = socket.create_server(("", port), reuse_port=False)
        selector.register(listener, selectors.EVENT_READ)
    print("ready " + " ".join(map(str, ports)), flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    while True:
        for key, _events in selector.select():
            connection, _address = key.fileobj.accept()
            with connection:
                connection.sendall(GREETING)


def stop(pidfile):
    """End the instance named in the pid file, if it still runs."""
    path = Path(pidfile)
    if not path.exists():
        return
    pid = int(path.read_text())
    path.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except ProcessLookupError:
        return
    except ChildProcessError:
        # Not our child (started by an earlier run): wait until it is gone.
        while alive(pid):
            os.sched_yield()


def alive(pid):
    """Tell whether the process runs (a zombie whose parent never reaps it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def restart(args):
    """Replace the running instance and wait until the new one listens."""
    stop(args.pidfile)
    ports = listening_ports(Path(args.conf).read_text(), Path(args.env_file).read_text())
    child = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, __file__, "serve", *map(str, ports)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True)
    Path(args.pidfile).write_text(str(child.pid))
    line = child.stdout.readline().decode().strip()
    child.stdout.close()
    if not line.startswith("ready"):
        sys.exit(f"fake libvirtd did not start: {line!r}")
    print(line)


def main():
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    restart_cmd = commands.add_parser("restart")
    restart_cmd.add_argument("--conf", required=True, help="libvirtd.conf")
    restart_cmd.add_argument("--env-file", required=True, help="file with LIBVIRTD_ARGS")
    restart_cmd.add_argument("--pidfile", required=True)
    stop_cmd = commands.add_parser("stop")
    stop_cmd.add_argument("--pidfile", required=True)
    serve_cmd = commands.add_parser("serve")
    serve_cmd.add_argument("ports", nargs="*", type=int)
    args = parser.parse_args()
    if args.command == "restart":
        restart(args)
    elif args.command == "stop":
        stop(args.pidfile)
    else:
        serve(args.ports)


if __name__ == "__main__":
    main()
