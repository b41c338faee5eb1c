//! A TCP relay on loopback that slows the network down, since this kernel has no `netem`:
//! every byte is held `delay` before it goes on, each way, and [`Relay::stall`] stops the
//! traffic altogether (a connection that hangs). Dropping it stops and joins its threads.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::BOUND;

pub struct Relay {
    pub addr: String,
    stalled: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    threads: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

/// How often a waiting thread looks at the stop and stall flags.
const TICK: Duration = Duration::from_millis(5);

impl Relay {
    /// Relays connections to `upstream` (`HOST:PORT`), `delay` each way.
    pub fn start(upstream: &str, delay: Duration) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stalled, stop) = (Arc::default(), Arc::<AtomicBool>::default());
        let flags = (Arc::clone(&stalled), Arc::clone(&stop));
        let upstream = upstream.to_owned();
        let threads = thread::spawn(move || {
            let (stalled, stop) = flags;
            let mut pumps = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let server = TcpStream::connect(&upstream).expect("relay upstream");
                        for (from, to) in [
                            (client.try_clone().unwrap(), server.try_clone().unwrap()),
                            (server, client),
                        ] {
                            let flags = (Arc::clone(&stalled), Arc::clone(&stop));
                            pumps.extend(pump(from, to, delay, flags));
                        }
                    }
                    Err(_) => thread::sleep(TICK),
                }
            }
            pumps
        });
        Relay {
            addr,
            stalled,
            stop,
            threads: Some(threads),
        }
    }

    /// From now on nothing gets through, either way; the connections stay open.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::Relaxed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(threads) = self.threads.take()
            && let Ok(pumps) = threads.join()
        {
            for pump in pumps {
                let _ = pump.join();
            }
        }
    }
}

/// Two threads carrying `from`'s bytes to `to`, each chunk `delay` after it was read: a reader
/// that stamps them, and a writer that waits for their time.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Duration,
    (stalled, stop): (Arc<AtomicBool>, Arc<AtomicBool>),
) -> [JoinHandle<()>; 2] {
    let (chunks, due) = mpsc::channel::<(Instant, Vec<u8>)>();
    let reading_stop = Arc::clone(&stop);
    let reader = thread::spawn(move || {
        from.set_read_timeout(Some(TICK)).unwrap();
        let mut buffer = [0; 16 * 1024];
        while !reading_stop.load(Ordering::Relaxed) {
            match from.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => {
                    if chunks
                        .send((Instant::now() + delay, buffer[..read].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
                Err(err) if is_timeout(&err) => {}
                Err(_) => break,
            }
        }
    });
    let writer = thread::spawn(move || {
        loop {
            let (at, chunk) = match due.recv_timeout(TICK) {
                Ok(next) => next,
                Err(mpsc::RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => continue,
                Err(_) => break,
            };
            // Held until its time, and for as long as the relay is stalled (bounded: a test
            // that stalls it ends within BOUND, and stop ends the wait).
            let give_up = Instant::now() + BOUND;
            while (Instant::now() < at || stalled.load(Ordering::Relaxed))
                && !stop.load(Ordering::Relaxed)
                && Instant::now() < give_up
            {
                thread::sleep(
                    TICK.min(at.saturating_duration_since(Instant::now()))
                        .max(Duration::from_millis(1)),
                );
            }
            if stop.load(Ordering::Relaxed) || to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    [reader, writer]
}

fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
