//! Thread per core: one single-threaded runtime per worker, one acceptor handing connections to
//! the workers in turn.
//!
//! A work-stealing runtime moves tasks between threads and wakes threads across cores; under
//! many connections that shows as a tail latency of 100 ms and more. Here a connection, once
//! accepted, lives on one worker for good, and nothing crosses threads on the hot path. One
//! acceptor (rather than an `SO_REUSEPORT` listener per worker) keeps the spread exact even with
//! a handful of long-lived connections, and works the same for Unix sockets.

use std::future::Future;
use std::io;
use std::thread;

use color_eyre::eyre::{Result, WrapErr};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use super::admission::{AcceptFailures, Admission, Ticket};
use super::metered_io::Metered;
use super::metrics::WorkerMetrics;
use super::services::Services;

/// A listener the acceptor takes connections from.
pub trait Accept {
    type Conn: Adopt;

    /// The next connection, detached from this runtime so another worker can adopt it.
    fn accept_detached(&self) -> impl Future<Output = io::Result<Self::Conn>>;
}

/// A connection a worker takes over and serves on its own runtime.
pub trait Adopt: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    fn adopt(self) -> io::Result<Self::Io>;

    /// Who is on the other end, for the logs.
    fn peer(&self) -> String;
}

impl Accept for tokio::net::TcpListener {
    type Conn = std::net::TcpStream;

    async fn accept_detached(&self) -> io::Result<Self::Conn> {
        let (stream, _peer) = self.accept().await?;
        stream.into_std()
    }
}

impl Adopt for std::net::TcpStream {
    type Io = tokio::net::TcpStream;

    fn adopt(self) -> io::Result<Self::Io> {
        let stream = tokio::net::TcpStream::from_std(self)?;
        // A unary reply is one small write: Nagle's algorithm would hold it back waiting for
        // the client's delayed ACK.
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn peer(&self) -> String {
        self.peer_addr()
            .map_or_else(|_| "unknown".to_owned(), |addr| addr.to_string())
    }
}

impl Accept for tokio::net::UnixListener {
    type Conn = std::os::unix::net::UnixStream;

    async fn accept_detached(&self) -> io::Result<Self::Conn> {
        let (stream, _peer) = self.accept().await?;
        stream.into_std()
    }
}

impl Adopt for std::os::unix::net::UnixStream {
    type Io = tokio::net::UnixStream;

    fn adopt(self) -> io::Result<Self::Io> {
        tokio::net::UnixStream::from_std(self)
    }

    fn peer(&self) -> String {
        "unix".to_owned()
    }
}

/// A connection handed to a worker, with its place under --max-connections.
pub struct Admitted<C> {
    conn: C,
    ticket: Ticket,
}

/// The workers beyond the first, each on its own thread. The first runs on the caller's
/// thread, so a one-core container has exactly one thread.
pub struct Pool<C> {
    inboxes: Vec<mpsc::UnboundedSender<Admitted<C>>>,
    finished: mpsc::Receiver<Result<()>>,
}

impl<C: Adopt> Pool<C> {
    /// Starts `count - 1` worker threads; the caller serves the first share itself with
    /// [`serve_connections`] on the receiver returned.
    /// `metrics`, when there are any, has one entry per worker.
    pub fn start(
        count: usize,
        services: &Services,
        metrics: Option<&[WorkerMetrics]>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Admitted<C>>)> {
        let (first_inbox, first_connections) = mpsc::unbounded_channel();
        let mut inboxes = vec![first_inbox];
        // Cannot panic: tokio refuses a capacity of 0 (hence `max(1)`) or beyond usize::MAX / 8,
        // and `count` is --workers (at most 1024, see `config`) or the CPUs we may use.
        let (finished_tx, finished) = mpsc::channel(count.max(1));
        for index in 1..count {
            let (inbox, connections) = mpsc::unbounded_channel();
            inboxes.push(inbox);
            let shutdown = shutdown.clone();
            let finished_tx = finished_tx.clone();
            // Cannot fail: `metrics` has one entry per worker (see above), and index < count.
            let metrics = metrics.map(|all| all[index].clone());
            let services = services.clone();
            thread::Builder::new()
                .name(format!("greeter-worker-{index}"))
                .spawn(move || {
                    let result = crate::runtime::single_threaded().and_then(|runtime| {
                        runtime.block_on(serve_connections(
                            connections,
                            services,
                            metrics,
                            shutdown,
                        ))
                    });
                    let _ = finished_tx.try_send(result);
                })
                .wrap_err("could not start a worker thread")?;
        }
        Ok((Pool { inboxes, finished }, first_connections))
    }

    /// Accepts connections and hands them to the workers in turn until shutdown is asked for
    /// (those beyond `admission`'s limit are closed at once); then closes the listener, so new
    /// connections are refused while the workers drain, and says so.
    pub async fn accept<L: Accept<Conn = C>>(
        &self,
        listener: L,
        mut admission: Admission,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut next_worker = self.inboxes.iter().cycle();
        let mut failures = AcceptFailures::default();
        loop {
            let accepted = tokio::select! {
                biased;
                _ = shutdown.wait_for(|&stop| stop) => break,
                accepted = listener.accept_detached() => accepted,
            };
            match accepted {
                Ok(conn) => {
                    failures.succeeded();
                    let Some(ticket) = admission.admit() else {
                        admission.refuse(conn.adopt());
                        continue;
                    };
                    // Always Some: the first worker's inbox is always there, and cycle() repeats
                    // a non-empty list for good.
                    if let Some(inbox) = next_worker.next() {
                        // A worker only hangs up when its runtime failed; that is reported on
                        // join.
                        let _ = inbox.send(Admitted { conn, ticket });
                    }
                }
                Err(err) => failures.failed(&err).await,
            }
        }
        drop(listener);
        tracing::info!("no longer accepting connections");
    }

    /// Waits for the other workers to finish draining.
    pub async fn join(mut self) -> Result<()> {
        self.inboxes.clear();
        let mut outcome = Ok(());
        while let Some(result) = self.finished.recv().await {
            outcome = outcome.and(result);
        }
        outcome
    }
}

/// Serves every connection handed to this worker until shutdown, then waits for them to
/// drain (each gets a graceful GOAWAY; the grace period is enforced by the caller).
pub async fn serve_connections<C: Adopt>(
    mut connections: mpsc::UnboundedReceiver<Admitted<C>>,
    services: Services,
    metrics: Option<WorkerMetrics>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let worker = services.for_worker(metrics.clone(), &shutdown)?;
    // Each connection's task holds a sender; when all are gone, every connection is closed.
    let (open, mut all_closed) = mpsc::channel::<()>(1);
    let for_connections = shutdown.clone();
    let take_on = |Admitted { conn, ticket }: Admitted<C>| {
        let peer = conn.peer();
        let io = match conn.adopt() {
            Ok(io) => Metered::new(io, metrics.clone()),
            Err(err) => {
                tracing::warn!("could not take over the connection from {peer}: {err}");
                return;
            }
        };
        let (worker, shutdown, open) = (worker.clone(), for_connections.clone(), open.clone());
        tokio::spawn(async move {
            worker.serve_connection(io, peer, shutdown).await;
            drop((open, ticket));
        });
    };
    loop {
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|&stop| stop) => break,
            conn = connections.recv() => match conn {
                Some(conn) => take_on(conn),
                None => break,
            },
        }
    }
    // Connections handed over but not yet taken on are served too: their GOAWAY comes at
    // once, so they end cleanly instead of being reset.
    connections.close();
    while let Ok(conn) = connections.try_recv() {
        take_on(conn);
    }
    drop(open);
    let _ = all_closed.recv().await;
    Ok(())
}
