//! Whether and when the acceptor takes a connection in: at most --max-connections open at once
//! (one more is told so and closed, counted and logged, while the open ones are served as
//! before), and a pause that grows while `accept` itself fails (out of file descriptors), so a
//! full descriptor table is logged once in a while instead of spun on.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// How often a condition that repeats (refused connections, failing accepts) is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The connections open now, against the limit.
pub struct Admission {
    /// 0: no limit.
    limit: usize,
    open: Arc<AtomicUsize>,
    refused: Option<Counter>,
    refusals: Repeated,
    /// What a refused plaintext connection is told (a TLS one is closed without a word: a
    /// handshake per refusal would cost what the limit is there to save).
    refusal: Option<Arc<[u8]>>,
    /// Refused connections still being told, each for at most [`LINGER`].
    telling: Arc<AtomicUsize>,
}

/// How long a refused connection is kept to read what its client still sends: closing with
/// unread bytes would reset the connection, and the client might lose the GOAWAY.
const LINGER: Duration = Duration::from_secs(1);

/// At most this many refused connections are told why at once; beyond, under a flood, they
/// are closed at once.
const TELLING_AT_MOST: usize = 64;

/// An admitted connection's place; the place frees when it drops, with the connection.
pub struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// `limit` connections at once (0: any number); refusals counted in `refused` if the
    /// metrics are on. A `plaintext` server tells a refused client why, in HTTP/2.
    pub fn new(limit: usize, refused: Option<Counter>, plaintext: bool) -> Admission {
        Admission {
            limit,
            open: Arc::default(),
            refused,
            refusals: Repeated::default(),
            refusal: plaintext.then(|| goaway(limit).into()),
            telling: Arc::default(),
        }
    }

    /// Closes a refused connection: on a plaintext server after an HTTP/2 GOAWAY that says
    /// why (on a task of its own, lingering at most [`LINGER`]).
    pub fn refuse<IO>(&self, io: io::Result<IO>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (Ok(io), Some(refusal)) = (io, &self.refusal) else {
            return;
        };
        if self.telling.fetch_add(1, Ordering::AcqRel) >= TELLING_AT_MOST {
            self.telling.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let (refusal, telling) = (Arc::clone(refusal), Arc::clone(&self.telling));
        tokio::spawn(async move {
            tell_and_close(io, &refusal).await;
            telling.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// A place for one more connection, or None (counted and logged) if every place is taken.
    pub fn admit(&mut self) -> Option<Ticket> {
        let open = self.open.fetch_add(1, Ordering::AcqRel);
        let ticket = Ticket(Arc::clone(&self.open));
        if self.limit == 0 || open < self.limit {
            return Some(ticket);
        }
        drop(ticket);
        if let Some(refused) = &self.refused {
            refused.inc();
        }
        let limit = self.limit;
        self.refusals.happened(|times| {
            tracing::warn!(
                "refused {times} connection{}: --max-connections {limit} are open; the open \
                 ones are served as before",
                if times == 1 { "" } else { "s" }
            );
        });
        None
    }
}

/// The server's HTTP/2 preface (an empty SETTINGS) and a GOAWAY that lets no stream in:
/// ENHANCE_YOUR_CALM, with the reason as its debug data, which h2 and grpc-go clients show.
fn goaway(limit: usize) -> Vec<u8> {
    let why = format!("greeter: --max-connections {limit} are open; try again later");
    let mut frames = vec![0, 0, 0, 0x4, 0, 0, 0, 0, 0];
    let length = u32::try_from(8 + why.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes();
    // The frame length is 24 bits: the low three bytes of a u32 (the reason is ~80 bytes).
    frames.extend_from_slice(&length[1..]);
    frames.extend_from_slice(&[0x7, 0, 0, 0, 0, 0]);
    frames.extend_from_slice(&0u32.to_be_bytes()); // last stream id: none was let in
    frames.extend_from_slice(&0xbu32.to_be_bytes()); // ENHANCE_YOUR_CALM
    frames.extend_from_slice(why.as_bytes());
    frames
}

async fn tell_and_close<IO: AsyncRead + AsyncWrite + Unpin>(mut io: IO, refusal: &[u8]) {
    if io.write_all(refusal).await.is_err() || io.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0; 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// What to do after `accept` failed: a client that gave up before we accepted costs nothing;
/// running out of file descriptors or memory does, and accepting again at once would spin, so
/// pause (5 ms, doubling up to 1 s, as Go's HTTP server does) until an accept succeeds.
#[derive(Default)]
pub struct AcceptFailures {
    pause: Option<Duration>,
    logged: Repeated,
}

impl AcceptFailures {
    pub fn succeeded(&mut self) {
        self.pause = None;
    }

    /// Logs `err` (at most every [`LOG_EVERY`]) and waits before the next accept.
    pub async fn failed(&mut self, err: &io::Error) {
        if matches!(
            err.kind(),
            io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
        ) {
            return;
        }
        // Cannot overflow: a pause is at most 1 s before it is doubled.
        let pause = self.pause.map_or(Duration::from_millis(5), |pause| {
            (pause * 2).min(Duration::from_secs(1))
        });
        self.pause = Some(pause);
        self.logged.happened(|times| {
            tracing::warn!(
                "accepting a connection failed{}: {err}; the open connections are served as \
                 before, and accepting goes on once it works again",
                if times == 1 {
                    String::new()
                } else {
                    format!(" {times} times")
                }
            );
        });
        tokio::time::sleep(pause).await;
    }
}

/// Something that may happen thousands of times a second, logged at most every
/// [`LOG_EVERY`] with how many times it happened since it was last logged.
#[derive(Default)]
struct Repeated {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl Repeated {
    fn happened(&mut self, log: impl FnOnce(u64)) {
        // Cannot overflow: a u64 counts one event a nanosecond for 584 years.
        self.unlogged += 1;
        let now = Instant::now();
        if self
            .last_logged
            .is_none_or(|last| now.duration_since(last) >= LOG_EVERY)
        {
            log(self.unlogged);
            self.unlogged = 0;
            self.last_logged = Some(now);
        }
    }
}

/// Raises the soft limit of open files to the hard one, as Go programs do at start: a server
/// holds a descriptor per connection, and a default soft limit of 1024 is soon reached.
pub fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max
        {
            return;
        }
        let soft = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
            tracing::debug!(
                "raised the open-files limit from {soft} to {}",
                limit.rlim_max
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_the_limit_connections_are_refused_until_a_place_frees() {
        let refused = Counter::default();
        let mut admission = Admission::new(2, Some(refused.clone()), true);
        let first = admission.admit().expect("one");
        let _second = admission.admit().expect("two");
        assert!(admission.admit().is_none(), "a third is refused");
        assert_eq!(refused.get(), 1);
        drop(first);
        assert!(admission.admit().is_some(), "a place freed");
        assert_eq!(refused.get(), 1);
    }

    #[test]
    fn no_limit_admits_any_number() {
        let mut admission = Admission::new(0, None, true);
        let tickets: Vec<Ticket> = (0..1000).filter_map(|_| admission.admit()).collect();
        assert_eq!(tickets.len(), 1000);
    }

    #[test]
    fn the_refusal_is_a_settings_and_a_goaway_frame_with_the_reason() {
        let frames = goaway(3);
        assert_eq!(
            frames[..9],
            [0, 0, 0, 0x4, 0, 0, 0, 0, 0],
            "an empty SETTINGS"
        );
        let goaway = &frames[9..];
        let length = usize::from(goaway[1]) << 8 | usize::from(goaway[2]);
        assert_eq!(goaway[0], 0);
        assert_eq!(length, goaway.len() - 9, "the length covers the payload");
        assert_eq!(goaway[3..9], [0x7, 0, 0, 0, 0, 0], "GOAWAY on stream 0");
        assert_eq!(
            goaway[9..17],
            [0, 0, 0, 0, 0, 0, 0, 0xb],
            "no stream, ENHANCE_YOUR_CALM"
        );
        assert_eq!(
            &goaway[17..],
            b"greeter: --max-connections 3 are open; try again later"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_condition_is_logged_once_per_interval_with_its_count() {
        let mut repeated = Repeated::default();
        let mut logged = Vec::new();
        for _ in 0..5 {
            repeated.happened(|times| logged.push(times));
        }
        tokio::time::advance(LOG_EVERY).await;
        repeated.happened(|times| logged.push(times));
        assert_eq!(logged, [1, 5]);
    }
}
