//! Fake servers on loopback: they speak only as much as a test needs to see what a client
//! does with an answer of the wrong kind, or with no answer at all.

use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::BOUND;
use super::frames::{self, ACK, FrameReader, Received, SETTINGS};

/// A loopback server that answers each of its first `connections` connections with `answer`
/// and closes its side, the way a server of the other kind answers; later connections wait in
/// the backlog, unanswered, until it is dropped. Dropping it stops and joins its thread.
pub struct AnsweringServer {
    pub addr: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl AnsweringServer {
    pub fn start(answer: &'static [u8], connections: usize) -> AnsweringServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + BOUND;
            let mut answered = 0;
            // A bounded poll for the next connection, until the test stops it.
            while answered < connections && Instant::now() < deadline {
                match stopped.try_recv() {
                    Err(std::sync::mpsc::TryRecvError::Empty) => {}
                    _ => return answered,
                }
                match listener.accept() {
                    Ok((stream, _)) => {
                        answer_once(stream, answer);
                        answered += 1;
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => return answered,
                }
            }
            // The listener stays open (later connections unanswered) until the test is done.
            let _ = stopped.recv_timeout(BOUND);
            drop(listener);
            answered
        });
        AnsweringServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server; how many connections it answered.
    pub fn finish(mut self) -> usize {
        self.stop.take();
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("answering server")
    }
}

impl Drop for AnsweringServer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the start of what the client sends, answers, closes our side (a FIN, after the
/// answer), then reads until the client closes its side: the sign it has read all it
/// wanted. Closing with the client's bytes unread would send a reset that could destroy the
/// answer before the client reads it.
fn answer_once(mut stream: std::net::TcpStream, answer: &[u8]) {
    use std::io::{Read, Write};
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    let mut first = [0u8; 24];
    let _ = stream.read(&mut first);
    let _ = stream.write_all(answer);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut rest = [0u8; 4096];
    while let Ok(read) = stream.read(&mut rest) {
        if read == 0 {
            break;
        }
    }
}

/// A server that speaks just enough HTTP/2 to take one connection (the preface, its SETTINGS,
/// the ack of the client's) and then reads and ignores everything: no PING is ever answered,
/// no call ever ends. It listens for at most [`BOUND`].
pub struct DeafServer {
    pub addr: String,
    thread: JoinHandle<Heard>,
}

/// What the one connection a [`DeafServer`] took brought: the client's frames as (type,
/// flags), and whether the client closed it within [`BOUND`].
pub struct Heard {
    pub frames: Vec<(u8, u8)>,
    pub closed_by_client: bool,
}

impl DeafServer {
    pub fn start() -> DeafServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + BOUND;
            // Polled, so a client that never comes cannot keep the thread (and the test) alive.
            let tcp = loop {
                match listener.accept() {
                    Ok((tcp, _)) => break tcp,
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "no client within {BOUND:?}");
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(err) => panic!("accept: {err}"),
                }
            };
            tcp.set_nonblocking(false).unwrap();
            listen(tcp, deadline)
        });
        DeafServer { addr, thread }
    }

    /// Waits for the connection to end (at most until [`BOUND`] after the start): what it heard.
    pub fn heard(self) -> Heard {
        self.thread.join().expect("the deaf server")
    }
}

fn listen(tcp: TcpStream, deadline: Instant) -> Heard {
    let mut conn = FrameReader::server(tcp);
    conn.send(&frames::frame(SETTINGS, 0, 0, &[]));
    let mut seen = Vec::new();
    let mut acked = false;
    let closed_by_client = loop {
        match conn.read(deadline) {
            Received::Frames(frames) => {
                seen.extend(frames.iter().map(|frame| (frame.kind, frame.flags)));
            }
            Received::Closed => break true,
            Received::Silent => break false,
        }
        if !acked && seen.contains(&(SETTINGS, 0)) {
            conn.send(&frames::frame(SETTINGS, ACK, 0, &[]));
            acked = true;
        }
    };
    Heard {
        frames: seen,
        closed_by_client,
    }
}

/// What [`H2Server`] does with a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Treatment {
    /// Answers `Hello ` + nothing, OK: a real server's reply, as far as a client can tell.
    Answer,
    /// Resets the stream with REFUSED_STREAM before reading it: the server never processed it.
    Refuse,
    /// Reads the request, then resets the stream with INTERNAL_ERROR: it reached the server.
    ResetAfterReading,
}

/// A plaintext HTTP/2 server on loopback (the h2 crate's, on its own runtime) that treats the
/// n-th request as `plan[n]` says, and answers every request past the plan. Counts them;
/// stopped and joined on drop.
pub struct H2Server {
    pub addr: String,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl H2Server {
    pub fn start(plan: &'static [Treatment]) -> H2Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = requests.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let Ok(mut connection) = h2::server::handshake(stream).await else {
                        return;
                    };
                    while let Some(Ok((request, respond))) = connection.accept().await {
                        let n = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let treatment = plan.get(n).copied().unwrap_or(Treatment::Answer);
                        tokio::spawn(treat(request, respond, treatment));
                    }
                });
            }
        });
        H2Server {
            addr,
            requests,
            runtime: Some(runtime),
        }
    }

    /// How many requests it has had so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn treat(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<bytes::Bytes>,
    treatment: Treatment,
) {
    if treatment == Treatment::Refuse {
        respond.send_reset(h2::Reason::REFUSED_STREAM);
        return;
    }
    let mut body = request.into_body();
    while let Some(Ok(data)) = body.data().await {
        let _ = body.flow_control().release_capacity(data.len());
    }
    if treatment == Treatment::ResetAfterReading {
        respond.send_reset(h2::Reason::INTERNAL_ERROR);
        return;
    }
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let Ok(mut stream) = respond.send_response(response, false) else {
        return;
    };
    // HelloReply { message: "Hello " }, length-prefixed.
    let reply = bytes::Bytes::from_static(b"\x00\x00\x00\x00\x08\x0a\x06Hello ");
    let _ = stream.send_data(reply, false);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let _ = stream.send_trailers(trailers);
}

impl Drop for H2Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(BOUND);
        }
    }
}
