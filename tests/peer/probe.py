"""Health and reflection checks against a gRPC server with the official Python packages
(grpcio-health-checking, grpcio-reflection), printing what the server answered, one line each.

  probe.py TARGET check SERVICE      SERVING | NOT_SERVING | error: CODE
  probe.py TARGET list               one `NAME=STATUS` line per service, sorted
  probe.py TARGET watch SERVICE SECS each status as it arrives, then `end: CODE`
  probe.py TARGET reflect v1|v1alpha the services listed, sorted, then `methods: ...` for
                                     helloworld.Greeter, from the descriptor the server sent
  probe.py TARGET call PATH          the status of a call to any method PATH (`/pkg.Svc/Method`)
  probe.py TARGET explain PATH       the same, with the status message: `CODE: message`
"""

import sys

import grpc
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2


def say(line):
    print(line, flush=True)


def status_name(response):
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def check(channel, service):
    try:
        response = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
        say(status_name(response))
    except grpc.RpcError as err:
        say(f"error: {err.code().name}")


def list_services(channel):
    # grpcio-health-checking may predate List: call it by name with its messages if absent.
    request = health_pb2.HealthListRequest()
    response = channel.unary_unary(
        "/grpc.health.v1.Health/List",
        request_serializer=health_pb2.HealthListRequest.SerializeToString,
        response_deserializer=health_pb2.HealthListResponse.FromString,
    )(request, timeout=5)
    for name in sorted(response.statuses):
        say(f"{name}={status_name(response.statuses[name])}")


def watch(channel, service, seconds):
    stream = health_pb2_grpc.HealthStub(channel).Watch(
        health_pb2.HealthCheckRequest(service=service), timeout=seconds
    )
    try:
        for response in stream:
            say(status_name(response))
        say("end: OK")
    except grpc.RpcError as err:
        say(f"end: {err.code().name}")


def reflect(channel, version):
    # v1 and v1alpha have the same messages, field for field; only the service name differs.
    info = channel.stream_stream(
        f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="helloworld.Greeter"),
    ]
    responses = list(info(iter(requests), timeout=5))
    for service in sorted(s.name for s in responses[0].list_services_response.service):
        say(service)
    methods = []
    for encoded in responses[1].file_descriptor_response.file_descriptor_proto:
        file = descriptor_pb2.FileDescriptorProto.FromString(encoded)
        for service in file.service:
            if f"{file.package}.{service.name}" == "helloworld.Greeter":
                methods = [method.name for method in service.method]
    say("methods: " + " ".join(methods))


def call(channel, path, explain=False):
    try:
        channel.unary_unary(path)(b"", timeout=5)
        say("OK")
    except grpc.RpcError as err:
        say(f"{err.code().name}: {err.details()}" if explain else err.code().name)


def main():
    target, command, *rest = sys.argv[1:]
    with grpc.insecure_channel(target) as channel:
        if command == "check":
            check(channel, rest[0])
        elif command == "list":
            list_services(channel)
        elif command == "watch":
            watch(channel, rest[0], float(rest[1]))
        elif command == "reflect":
            reflect(channel, rest[0])
        elif command == "explain":
            call(channel, rest[0], explain=True)
        elif command == "call":
            call(channel, rest[0])
        else:
            sys.exit(f"unknown command {command!r}: see the docstring")


if __name__ == "__main__":
    main()
