"""The official gRPC Python helloworld server, as an independent peer for `greeter hello`.

Modelled on grpc/examples/python/helloworld/greeter_server.py (with the Go example's reply,
"Hello " + name), plus the two streaming methods of the helloworld proto, a port the kernel
picks, a readiness line, and stderr lines per SayHello naming the deadline and the metadata it
saw.

Optionally it serves TLS (--tls-cert/--tls-key, with --tls-client-ca requiring client
certificates), requires a bearer token (--require-token), limits the request size
(--max-recv), and accepts only uncompressed requests (--identity-only).
"""

import argparse
import os
import signal
import sys
import time
from concurrent import futures

sys.path.insert(0, os.environ["PYTHON_PEER_GEN"])

import grpc  # noqa: E402
import helloworld_pb2  # noqa: E402
import helloworld_pb2_grpc  # noqa: E402


class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def __init__(self, delay, token):
        self.delay = delay
        self.token = token

    def SayHello(self, request, context):
        remaining = context.time_remaining()
        shown = "none" if remaining is None else f"{remaining:.3f}"
        print(f"SayHello name={request.name!r} deadline_remaining={shown}", file=sys.stderr, flush=True)
        metadata = context.invocation_metadata()
        for key, value in metadata:
            print(f"metadata {key}: {value}", file=sys.stderr, flush=True)
        if self.token is not None:
            expected = f"Bearer {self.token}"
            given = [value for key, value in metadata if key == "authorization"]
            if given != [expected]:
                # Like a real server: say what is wrong, never echo what was sent.
                why = "missing bearer token" if not given else "invalid bearer token"
                context.abort(grpc.StatusCode.UNAUTHENTICATED, why)
        if self.delay:
            # Sleeps like a slow handler, but gives up when the client does.
            deadline = time.monotonic() + self.delay
            while context.is_active() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not context.is_active():
                print("SayHello cancelled", file=sys.stderr, flush=True)
        return helloworld_pb2.HelloReply(message="Hello " + request.name)

    def SayHelloStreamReply(self, request, context):
        for _ in range(3):
            yield helloworld_pb2.HelloReply(message="Hello " + request.name)

    def SayHelloBidiStream(self, request_iterator, context):
        for request in request_iterator:
            yield helloworld_pb2.HelloReply(message="Hello " + request.name)


def main():
    # SIGTERM and SIGINT are taken with sigwait below, never by a handler: a handler that sets
    # a threading.Event can interrupt the main thread inside Event.wait() while it holds the
    # event's lock, and deadlock. Blocked before grpc starts its threads, so they inherit it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--addr", default="127.0.0.1:0", help="loopback HOST:PORT, or unix:PATH, to listen on"
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds SayHello takes")
    parser.add_argument("--tls-cert", help="serve TLS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    parser.add_argument("--tls-client-ca", help="require client certificates signed by this CA")
    parser.add_argument("--require-token", help="require 'authorization: Bearer TOKEN'")
    parser.add_argument("--max-recv", type=int, help="the largest request message, in bytes")
    parser.add_argument(
        "--identity-only", action="store_true", help="accept no compressed request"
    )
    args = parser.parse_args()

    options = []
    if args.max_recv is not None:
        options.append(("grpc.max_receive_message_length", args.max_recv))
    if args.identity_only:
        # Bit 0 alone: identity. A gzip request then fails with UNIMPLEMENTED, which proves
        # that the client really compressed it (the server never shows grpc-encoding).
        options.append(("grpc.compression_enabled_algorithms_bitset", 1))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10), options=options)
    helloworld_pb2_grpc.add_GreeterServicer_to_server(
        Greeter(args.delay, args.require_token), server
    )
    if args.tls_cert:
        with open(args.tls_key, "rb") as f:
            key = f.read()
        with open(args.tls_cert, "rb") as f:
            chain = f.read()
        client_ca = None
        if args.tls_client_ca:
            with open(args.tls_client_ca, "rb") as f:
                client_ca = f.read()
        credentials = grpc.ssl_server_credentials(
            [(key, chain)],
            root_certificates=client_ca,
            require_client_auth=client_ca is not None,
        )
        port = server.add_secure_port(args.addr, credentials)
    else:
        port = server.add_insecure_port(args.addr)
    if port == 0:
        sys.exit(f"could not listen on {args.addr}")
    server.start()

    if args.addr.startswith("unix:"):
        # add_*_port returns 1 for a unix socket: the path is the address.
        print(f"listening on {args.addr}", flush=True)
    else:
        host = args.addr.rsplit(":", 1)[0]
        print(f"listening on {host}:{port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop(grace=0.5).wait()


if __name__ == "__main__":
    main()
