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
    parser.add_argument("--repeat", type=int, default=1,
                        help="make the unary call this many times, on one channel and connection")
    parser.add_argument("--compression", choices=["none", "gzip", "deflate"], default="none",
                        help="compress the requests (the channel's default compression)")
    parser.add_argument("--ca-cert", help="speak TLS, trusting this CA (PEM)")
    parser.add_argument("--cert", help="client certificate (PEM), with --key, for mutual TLS")
    parser.add_argument("--key", help="the client certificate's private key (PEM)")
    parser.add_argument("--token", help="send `authorization: Bearer TOKEN`")
    parser.add_argument("--authority", help="the :authority the channel sends (grpc.default_authority)")
    parser.add_argument("--header", action="append", default=[],
                        help="send request metadata NAME=VALUE (repeatable)")
    args = parser.parse_args()
    names = args.name or ["world"]
    compression = {
        "none": grpc.Compression.NoCompression,
        "gzip": grpc.Compression.Gzip,
        "deflate": grpc.Compression.Deflate,
    }[args.compression]
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
    for header in args.header:
        name, value = header.split("=", 1)
        # grpcio takes -bin values as the bytes themselves (it base64-encodes them).
        metadata.append((name, value.encode() if name.endswith("-bin") else value))
    metadata = metadata or None
    options = [("grpc.default_authority", args.authority)] if args.authority else None

    if args.ca_cert:
        def read(path):
            with open(path, "rb") as f:
                return f.read()
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.ca_cert),
            private_key=read(args.key) if args.key else None,
            certificate_chain=read(args.cert) if args.cert else None,
        )
        channel = grpc.secure_channel(args.target, credentials, options=options, compression=compression)
    else:
        channel = grpc.insecure_channel(args.target, options=options, compression=compression)

    with channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        try:
            if args.method == "unary":
                replies = [stub.SayHello(helloworld_pb2.HelloRequest(name=names[0]), timeout=args.timeout, metadata=metadata)
                           for _ in range(args.repeat)]
            elif args.method == "server-stream":
                replies = stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name=names[0]), timeout=args.timeout, metadata=metadata)
            else:
                requests = (helloworld_pb2.HelloRequest(name=name) for name in names)
                replies = stub.SayHelloBidiStream(requests, timeout=args.timeout, metadata=metadata)
            for reply in replies:
                print(reply.message, flush=True)
        except grpc.RpcError as err:
            print(f"error: {err.code().name}: {err.details()}", file=sys.stderr, flush=True)
            sys.exit(64 + err.code().value[0])


if __name__ == "__main__":
    main()
