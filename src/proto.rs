//! The code build.rs generates from `proto/`: the helloworld messages, client and server, the
//! health service, and the descriptor set reflection serves.

#![allow(clippy::all, clippy::pedantic)]

tonic::include_proto!("helloworld");

pub mod health {
    tonic::include_proto!("grpc.health.v1");
}

/// Every file in `proto/`, encoded, for server reflection.
pub const DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("descriptor_set");
