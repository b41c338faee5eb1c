//! Several replicas: every address of every `--addr`, each with its own lazily connected
//! channels (`--connections` of them), and calls handed to them in turn (round-robin over the
//! replicas, and over each replica's channels). A replica whose connection fails is set aside
//! for a while and the call can go to the next one; host names are resolved again every few
//! seconds, so a Kubernetes headless Service's new pods join and gone ones leave.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tonic::Code;
use tonic::client::Grpc;

use super::connect::resolve;
use super::destination::Destination;
use super::diagnosis::Troubles;
use super::grpc_client::Messages;
use super::h2_channel::H2Channel;
use super::reconnect::Reconnect;
use super::transport::Transport;
use crate::address::{Target, Targets};
use crate::exit::CallFailed;

/// How often host names are resolved again.
pub const RESOLVE_EVERY: Duration = Duration::from_secs(5);

/// How long a replica whose connection failed is skipped before it is tried again.
const SET_ASIDE: Duration = Duration::from_secs(1);

/// The replicas a run spreads its calls over.
pub struct Replicas {
    targets: Targets,
    transport: Transport,
    messages: Messages,
    /// Channels per replica (`--connections`), at least one.
    connections: usize,
    members: RefCell<Vec<Member>>,
    next: Cell<usize>,
}

struct Member {
    addr: Option<SocketAddr>,
    /// Never empty: `connections` of them.
    channels: Vec<ReplicaChannel>,
    /// The channel the replica's next call goes on.
    next: Cell<usize>,
    set_aside_until: Option<Instant>,
}

struct ReplicaChannel {
    client: Grpc<H2Channel>,
    reconnect: Reconnect,
}

/// A replica picked for one call.
pub struct Pick {
    pub client: Grpc<H2Channel>,
    member: Option<SocketAddr>,
}

impl Replicas {
    /// The replicas of `targets`: every resolved address (a single Unix socket is its own
    /// only replica), each with `connections` channels (at least one).
    pub async fn new(
        targets: &Targets,
        transport: &Transport,
        messages: Messages,
        connections: usize,
    ) -> Result<Replicas, CallFailed> {
        let connections = connections.max(1);
        let members = match targets.0.as_slice() {
            [target @ Target::Unix(path)] => {
                let destination = Destination::Unix(path.clone());
                vec![member(
                    transport,
                    messages,
                    target,
                    destination,
                    None,
                    connections,
                )]
            }
            // Cannot fail: `target` is an index resolve_all took from these very targets.
            _ => resolve_all(targets)
                .await?
                .into_iter()
                .map(|(addr, target)| {
                    tcp_member(transport, messages, &targets.0[target], addr, connections)
                })
                .collect(),
        };
        Ok(Replicas {
            targets: targets.clone(),
            transport: transport.clone(),
            messages,
            connections,
            members: RefCell::new(members),
            next: Cell::new(0),
        })
    }

    /// How many connections the calls have been made on so far, reconnections included.
    pub fn connections_opened(&self) -> u64 {
        self.transport.connections_opened()
    }

    /// What the connections saw go wrong.
    pub fn troubles(&self) -> &Troubles {
        self.transport.troubles()
    }

    /// The next replica in turn that is not set aside; if every one is, the one whose time
    /// comes first.
    pub fn pick(&self) -> Pick {
        // Never empty, so every index below is in range: `new` stores the one Unix socket or
        // what resolve_all found, and resolve_all fails rather than find nothing; after that,
        // `keep_resolving` replaces the members only with another successful resolution (the
        // addresses kept plus the new ones are exactly it), and keeps them while DNS fails or
        // answers nothing.
        let members = self.members.borrow();
        let now = Instant::now();
        let start = self.next.get();
        let count = members.len();
        let index = (0..count)
            .map(|offset| (start + offset) % count)
            .find(|&index| {
                members[index]
                    .set_aside_until
                    .is_none_or(|until| until <= now)
            })
            .unwrap_or_else(|| {
                (0..count)
                    .min_by_key(|&index| members[index].set_aside_until)
                    .unwrap_or(0)
            });
        self.next.set(index + 1);
        let member = &members[index];
        let channel = member.next.get();
        member.next.set((channel + 1) % member.channels.len());
        Pick {
            client: member.channels[channel].client.clone(),
            member: member.addr,
        }
    }

    /// How long until some replica may be tried again: zero if one is connected or due for
    /// its next attempt to connect.
    pub fn until_one_is_due(&self) -> Duration {
        let members = self.members.borrow();
        let due = members
            .iter()
            .flat_map(|member| &member.channels)
            .map(|channel| channel.reconnect.due_in())
            .min();
        due.unwrap_or_default()
    }

    /// Sets aside the replica of `pick`: its connection failed.
    pub fn set_aside(&self, pick: &Pick) {
        let mut members = self.members.borrow_mut();
        if let Some(member) = members.iter_mut().find(|member| member.addr == pick.member) {
            member.set_aside_until = Some(Instant::now() + SET_ASIDE);
        }
    }

    /// Resolves the host names again every [`RESOLVE_EVERY`], adding new addresses and dropping
    /// gone ones. Never returns (the type says so): the caller drops it when the calls are done.
    pub async fn keep_resolving(&self) -> Infallible {
        let names = self.targets.0.iter().any(|target| {
            matches!(
                target,
                Target::Tcp {
                    host: crate::address::Host::Name(_),
                    ..
                }
            )
        });
        loop {
            if !names {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(RESOLVE_EVERY).await;
            // While DNS is down, keep the replicas we have.
            if let Ok(now) = resolve_all(&self.targets).await {
                let mut members = self.members.borrow_mut();
                members.retain(|member| member.addr.is_some_and(|addr| now.contains_key(&addr)));
                let known: BTreeSet<SocketAddr> = members.iter().filter_map(|m| m.addr).collect();
                let new = now.into_iter().filter(|(addr, _)| !known.contains(addr));
                // Cannot fail: as in `new`, `target` indexes the targets resolved.
                members.extend(new.map(|(addr, target)| {
                    tcp_member(
                        &self.transport,
                        self.messages,
                        &self.targets.0[target],
                        addr,
                        self.connections,
                    )
                }));
            }
        }
    }
}

/// The replica at `addr`, one of `target`'s addresses.
fn tcp_member(
    transport: &Transport,
    messages: Messages,
    target: &Target,
    addr: SocketAddr,
    connections: usize,
) -> Member {
    let destination = Destination::Tcp(Arc::new([addr]));
    member(
        transport,
        messages,
        target,
        destination,
        Some(addr),
        connections,
    )
}

/// A replica with `connections` channels, each connected (through the same transport as every
/// other channel, TLS included) at its first call.
fn member(
    transport: &Transport,
    messages: Messages,
    target: &Target,
    destination: Destination,
    addr: Option<SocketAddr>,
    connections: usize,
) -> Member {
    let channels = (0..connections)
        .map(|_| {
            let (channel, origin, reconnect) = transport.replica(target, destination.clone());
            ReplicaChannel {
                client: messages.replica_client(channel, origin),
                reconnect,
            }
        })
        .collect();
    Member {
        addr,
        channels,
        next: Cell::new(0),
        set_aside_until: None,
    }
}

/// Every address of every target, each with the index of the first target it came from (its
/// TLS settings and certificate name are that target's); an error only if none resolves.
async fn resolve_all(targets: &Targets) -> Result<BTreeMap<SocketAddr, usize>, CallFailed> {
    let mut addrs = BTreeMap::new();
    let mut failure = None;
    for (index, target) in targets.0.iter().enumerate() {
        if let Target::Tcp { host, port, .. } = target {
            match resolve(host, *port).await {
                Ok(resolved) => {
                    for addr in resolved {
                        addrs.entry(addr).or_insert(index);
                    }
                }
                Err(err) => failure = Some(format!("{host}: {}", crate::report::describe_io(&err))),
            }
        }
    }
    if addrs.is_empty() {
        return Err(CallFailed::new(
            Code::Unavailable,
            format!(
                "could not resolve {targets} ({}): check the host names in --addr",
                failure.unwrap_or_else(|| "no address".into())
            ),
        ));
    }
    Ok(addrs)
}
