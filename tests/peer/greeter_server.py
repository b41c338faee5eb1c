"""The official gRPC Python helloworld server, as an independent peer for `greeter hello`.

Modelled on grpc/examples/python/helloworld/greeter_server.py (with the Go example's reply,
"Hello " + name), plus the two streaming methods of the helloworld proto, a port the kernel
picks, a readiness line, and stderr lines per SayHello naming the deadline and the metadata it
saw.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.environ["PYTHON_PEER_GEN"])

import grpc  # noqa: E402
import helloworld_pb2  # noqa: E402
import helloworld_pb2_grpc  # noqa: E402


class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def __init__(self, delay):
        self.delay = delay

    def SayHello(self, request, context):
        remaining = context.time_remaining()
        shown = "none" if remaining is None else f"{remaining:.3f}"
        print(f"SayHello name={request.name!r} deadline_remaining={shown}", file=sys.stderr, flush=True)
        for key, value in context.invocation_metadata():
            print(f"metadata {key}: {value}", file=sys.stderr, flush=True)
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", default="127.0.0.1:0", help="loopback HOST:PORT to listen on")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds SayHello takes")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(args.delay), server)
    port = server.add_insecure_port(args.addr)
    if port == 0:
        sys.exit(f"could not listen on {args.addr}")
    server.start()

    stopped = threading.Event()

    def stop(signum, frame):
        server.stop(grace=0.5)
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host = args.addr.rsplit(":", 1)[0]
    print(f"listening on {host}:{port}", flush=True)
    stopped.wait()


if __name__ == "__main__":
    main()
