"""The official gRPC Python helloworld client, as an independent peer for `greeter serve`.

Modelled on grpc/examples/python/helloworld/greeter_client.py. Prints each reply's message
alone on a line; on an RPC error prints `error: CODE: details` on stderr and exits with
64 + the status number, like `greeter hello`.
"""

import argparse
import os
import sys

sys.path.insert(0, os.environ["PYTHON_PEER_GEN"])

import grpc  # noqa: E402
import helloworld_pb2  # noqa: E402
import helloworld_pb2_grpc  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="HOST:PORT of the server")
    parser.add_argument("--name", action="append", help="name(s) to greet (default: world)")
    parser.add_argument("--timeout", type=float, default=5.0, help="deadline in seconds")
    parser.add_argument("--method", choices=["unary", "server-stream", "bidi"], default="unary")
    args = parser.parse_args()
    names = args.name or ["world"]

    with grpc.insecure_channel(args.target) as channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        try:
            if args.method == "unary":
                replies = [stub.SayHello(helloworld_pb2.HelloRequest(name=names[0]), timeout=args.timeout)]
            elif args.method == "server-stream":
                replies = stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name=names[0]), timeout=args.timeout)
            else:
                requests = (helloworld_pb2.HelloRequest(name=name) for name in names)
                replies = stub.SayHelloBidiStream(requests, timeout=args.timeout)
            for reply in replies:
                print(reply.message, flush=True)
        except grpc.RpcError as err:
            print(f"error: {err.code().name}: {err.details()}", file=sys.stderr, flush=True)
            sys.exit(64 + err.code().value[0])


if __name__ == "__main__":
    main()
