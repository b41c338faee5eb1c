//! Fake servers on loopback: they speak only as much as a test needs to see what a client
//! does with an answer of the wrong kind.

use std::time::{Duration, Instant};

use super::BOUND;

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
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
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
