"""TCP reachability probe for the kvm_host molecule scenario.

`connect HOST PORT` prints open (and the greeting), refused or timeout;
`accept HOST PORT` waits for one connection and prints where it came from.
Both exit 0; the caller judges the outcome.
"""
import argparse
import socket


def connect(host, port, timeout):
    """Try one TCP connection and describe the outcome."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            return "open " + connection.recv(64).decode(errors="replace").strip()
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"


def accept(host, port, timeout):
    """Accept one TCP connection and name its source address."""
    with socket.create_server((host, port)) as listener:
        listener.settimeout(timeout)
        try:
            connection, source = listener.accept()
        except TimeoutError:
            return "timeout"
        connection.close()
        return "accepted " + source[0]


def main():
    """Parse the command line and print the outcome."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["connect", "accept"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    action = connect if args.mode == "connect" else accept
    print(action(args.host, args.port, args.timeout))


if __name__ == "__main__":
    main()
