// A grpc-go helloworld client for the benchmark: the official example's greeter_client
// (connect, one SayHello with a one-second deadline, print the greeting), with the generated
// types replaced by the wire-identical google.protobuf.StringValue.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/golang/protobuf/ptypes/wrappers"
	"google.golang.org/grpc"
)

func main() {
	addr := flag.String("addr", "localhost:50051", "the server")
	name := flag.String("name", "world", "who to greet")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		log.Fatalf("did not connect: %v", err)
	}
	defer conn.Close()
	reply := new(wrappers.StringValue)
	if err := conn.Invoke(ctx, "/helloworld.Greeter/SayHello", &wrappers.StringValue{Value: *name}, reply); err != nil {
		log.Fatalf("could not greet: %v", err)
	}
	fmt.Println(reply.Value)
}
