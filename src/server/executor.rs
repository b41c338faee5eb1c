//! Where hyper runs the streams of a connection.
//!
//! hyper hands each new stream to an executor as a future: the call through the services,
//! then the reply written out. A unary call to a ready handler finishes in its first poll,
//! so making every stream a task of its own (an allocation, a trip through the scheduler,
//! the future copied into the task) costs more than the call itself. Instead the streams
//! hyper accepts wait in the connection's queue; once hyper has taken every stream it could
//! read, the connection's own task polls each of them once, and spawns only a stream that has
//! to wait. Polling them in hyper's accept loop instead would write each reply out alone:
//! a `writev` per call where a batch of calls shares one.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

type Stream = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One connection's streams, accepted by hyper and not yet polled.
#[derive(Clone, Default)]
pub struct StreamQueue {
    waiting: Arc<Mutex<VecDeque<Stream>>>,
}

impl StreamQueue {
    /// Polls each waiting stream once; the ones that must wait go on as tasks of the worker.
    /// Returns whether any stream was run (its reply may be waiting to be written).
    pub fn run(&self) -> bool {
        let mut ran = false;
        while let Some(mut stream) = self.pop() {
            ran = true;
            // Nothing is lost by the no-op waker: a stream that waits is spawned, and a new
            // task is always polled, which puts its own waker wherever this poll left one.
            let mut first = Context::from_waker(Waker::noop());
            match catch_unwind(AssertUnwindSafe(|| stream.as_mut().poll(&mut first))) {
                Ok(Poll::Ready(())) => {}
                Ok(Poll::Pending) => {
                    tokio::spawn(stream);
                }
                // As a panicking task would: the stream is dropped (hyper resets it), the
                // connection and its other calls go on.
                Err(_) => tracing::error!("a call panicked; its stream is reset"),
            }
        }
        ran
    }

    fn pop(&self) -> Option<Stream> {
        // Only pushes and pops hold the lock, and neither panics: a poisoned lock would still
        // guard a sound queue.
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }
}

impl<F> hyper::rt::Executor<F> for StreamQueue
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(Box::pin(stream));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use hyper::rt::Executor;

    use super::*;

    async fn until(done: &AtomicUsize, count: usize) {
        let waited = tokio::time::timeout(Duration::from_secs(5), async {
            while done.load(Ordering::SeqCst) < count {
                tokio::task::yield_now().await;
            }
        });
        waited.await.expect("the spawned stream never finished");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn runs_a_ready_stream_in_place_and_spawns_one_that_waits() {
        let queue = StreamQueue::default();
        let done = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let ready = done.clone();
        queue.execute(async move {
            ready.fetch_add(1, Ordering::SeqCst);
        });
        let waiting = done.clone();
        queue.execute(async move {
            let _ = released.await;
            waiting.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(
            done.load(Ordering::SeqCst),
            0,
            "nothing runs before the queue does"
        );

        assert!(queue.run());
        assert_eq!(
            done.load(Ordering::SeqCst),
            1,
            "the ready stream finished in place"
        );
        assert!(!queue.run(), "each stream is taken from the queue once");

        release.send(()).unwrap();
        until(&done, 2).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panicking_stream_is_dropped_and_the_others_go_on() {
        let queue = StreamQueue::default();
        let done = Arc::new(AtomicUsize::new(0));
        queue.execute(async { panic!("a handler's bug") });
        let after = done.clone();
        queue.execute(async move {
            after.fetch_add(1, Ordering::SeqCst);
        });
        assert!(queue.run());
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
