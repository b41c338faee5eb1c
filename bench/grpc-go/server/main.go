// A grpc-go helloworld server for the benchmark: the peer greeter is measured against.
//
// It is the official example's server (grpc-go examples/helloworld/greeter_server) with two
// changes: the generated helloworld types are replaced by google.protobuf.StringValue, which
// is wire-identical (one string in field 1) and ships with Debian's golang-goprotobuf-dev, so no
// protoc is needed; and it listens where -addr says and prints the readiness line greeter uses.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"

	"github.com/golang/protobuf/ptypes/wrappers"
	"google.golang.org/grpc"
)

func sayHello(_ interface{}, ctx context.Context, decode func(interface{}) error, intercept grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(wrappers.StringValue)
	if err := decode(in); err != nil {
		return nil, err
	}
	handle := func(ctx context.Context, req interface{}) (interface{}, error) {
		return &wrappers.StringValue{Value: "Hello " + req.(*wrappers.StringValue).Value}, nil
	}
	if intercept == nil {
		return handle(ctx, in)
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/helloworld.Greeter/SayHello"}
	return intercept(ctx, in, info, handle)
}

var greeter = grpc.ServiceDesc{
	ServiceName: "helloworld.Greeter",
	HandlerType: (*interface{})(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "SayHello", Handler: sayHello}},
	Metadata:    "helloworld.proto",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "where to listen")
	flag.Parse()
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("failed to listen: %v", err)
	}
	server := grpc.NewServer()
	server.RegisterService(&greeter, struct{}{})
	fmt.Printf("listening on %s\n", listener.Addr())
	if err := server.Serve(listener); err != nil {
		log.Fatalf("failed to serve: %v", err)
	}
}
