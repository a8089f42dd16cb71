"""python -m simulator --seed FILE --db FILE [--host 127.0.0.1] [--port 8080] [--job-delay SECONDS] [--version 4.22]."""

import argparse
import signal
import sys
import threading
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parent.parent / ".build" / "collections"


def parse_args(argv):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description="CloudStack API simulator")
    parser.add_argument("--seed", required=True, type=Path, help="YAML seed, loaded only when the db is new")
    parser.add_argument("--db", required=True, type=Path, help="SQLite state file (kept across restarts)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", default=8080, type=int, help="port (0 picks a free one; default 8080)")
    parser.add_argument("--job-delay", default=0.0, type=float,
                        help="seconds each async job waits before it runs, to observe jobstatus 0")
    parser.add_argument("--version", help="CloudStack version to run as: 4.18, 4.19, 4.20, 4.21, 4.22 or 4.23 (default:"
                        " the seed's version, else the database's, else 4.23)")
    args = parser.parse_args(argv)
    if args.job_delay < 0:
        parser.error(f"--job-delay must be >= 0, got {args.job_delay}")
    if not args.seed.is_file() and not args.db.exists():
        parser.error(f"--seed {args.seed}: no such file (needed to create the new database {args.db})")
    return args


def main(argv=None):
    """Start the server and serve until SIGTERM/SIGINT."""
    args = parse_args(argv)
    if COLLECTIONS.is_dir() and str(COLLECTIONS) not in sys.path:
        sys.path.append(str(COLLECTIONS))
    # imported after the path set-up: the host agent uses the collection's libvirt layer
    from simulator.app import Simulator  # pylint: disable=import-outside-toplevel
    from simulator.seed import SeedError  # pylint: disable=import-outside-toplevel
    from simulator.versions import version_named  # pylint: disable=import-outside-toplevel
    from simulator.server import SimulatorServer  # pylint: disable=import-outside-toplevel

    try:
        if args.version is not None:
            version_named(args.version)
    except ValueError as err:
        print(f"simulator: --version: {err}", file=sys.stderr)
        return 2
    try:
        app = Simulator(args.seed, args.db, job_delay=args.job_delay, version=args.version)
    except SeedError as err:
        print(f"simulator: bad seed {args.seed}: {err}", file=sys.stderr)
        return 2
    httpd = SimulatorServer(app, args.host, args.port)

    def stop(signum, frame):
        del signum, frame
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = httpd.server_address[:2]
    print(f"simulator ready on http://{host}:{port}/client/api", flush=True)
    httpd.serve_forever(poll_interval=0.1)
    httpd.server_close()
    with app.store.lock:
        app.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
