"""How SO_REUSEPORT would spread a few long-lived connections over two workers.

The kernel picks a SO_REUSEPORT listener by hashing each connection's addresses and ports, so
four connections land 2/2 only as often as four coin tosses split evenly. greeter's single
acceptor hands connections out in turn instead (tests/metrics.rs checks the exact spread).

    python3 bench/reuseport_spread.py     # loopback only
"""

import collections
import socket

TRIALS = 500
CONNECTIONS = 4


def listener(port):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


def accept_all(sock):
    accepted = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return accepted
        conn.close()
        accepted += 1


def main():
    first = listener(0)
    port = first.getsockname()[1]
    workers = [first, listener(port)]
    outcomes = collections.Counter()
    for _ in range(TRIALS):
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        split = sorted((accept_all(worker) for worker in workers), reverse=True)
        for client in clients:
            client.close()
        outcomes["/".join(map(str, split))] += 1
    for split, count in sorted(outcomes.items()):
        print(f"{split}: {count / TRIALS:.0%} of {TRIALS} trials")


if __name__ == "__main__":
    main()
