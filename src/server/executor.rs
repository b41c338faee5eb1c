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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

type Stream = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Default)]
struct Shared {
    waiting: Mutex<VecDeque<Stream>>,
    /// The connection's task is in [`StreamQueue::drive`], and will run what is queued.
    driving: AtomicBool,
}

/// One connection's streams, accepted by hyper and not yet polled. Owned by the connection's
/// task; hyper gets [`StreamQueue::executor`].
#[derive(Default)]
pub struct StreamQueue {
    shared: Arc<Shared>,
}

/// The executor hyper keeps, in the connection and in a clone inside every stream.
#[derive(Clone)]
pub struct QueueExecutor {
    shared: Arc<Shared>,
}

impl StreamQueue {
    pub fn executor(&self) -> QueueExecutor {
        QueueExecutor {
            shared: self.shared.clone(),
        }
    }

    /// Polls the connection with `poll_connection`, and after each poll runs the streams it
    /// took in, until the connection waits with nothing left to run, or ends.
    pub fn drive<T>(&self, mut poll_connection: impl FnMut() -> Poll<T>) -> Poll<T> {
        // Only this connection's task and its streams' tasks, all on one worker thread, touch
        // the flag.
        self.shared.driving.store(true, Ordering::Relaxed);
        let outcome = loop {
            let served = poll_connection();
            if served.is_ready() || !self.run() {
                break served;
            }
        };
        self.shared.driving.store(false, Ordering::Relaxed);
        outcome
    }

    /// Polls each waiting stream once; the ones that must wait go on as tasks of the worker.
    /// Returns whether any stream was run (its reply may be waiting to be written).
    fn run(&self) -> bool {
        let mut ran = false;
        while let Some(mut stream) = self.shared.pop() {
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
}

impl Drop for StreamQueue {
    /// Streams still queued when the connection ends (the client left in the same read that
    /// brought them) are dropped with it. Each holds a clone of the executor, so the queue
    /// would otherwise keep them, and they it, for good.
    fn drop(&mut self) {
        let left = std::mem::take(&mut *self.shared.lock());
        drop(left);
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Stream>> {
        // Only pushes, pops and the final take hold the lock, and none of them panics: a
        // poisoned lock would still guard a sound queue.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pop(&self) -> Option<Stream> {
        self.lock().pop_front()
    }
}

impl<F> hyper::rt::Executor<F> for QueueExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        if self.shared.driving.load(Ordering::Relaxed) {
            self.shared.lock().push_back(Box::pin(stream));
        } else {
            // Handed over from outside the connection's poll (hyper does this for an upgrade,
            // from a stream's own task): nothing would run the queue soon.
            tokio::spawn(stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
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

    fn counting(done: &Arc<AtomicUsize>) -> impl Future<Output = ()> + Send + 'static {
        let done = done.clone();
        async move {
            done.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn runs_a_ready_stream_in_place_and_spawns_one_that_waits() {
        let queue = StreamQueue::default();
        let executor = queue.executor();
        let done = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let mut released = Some(released);
        let mut polls = 0;
        let outcome = queue.drive(|| {
            polls += 1;
            if let Some(released) = released.take() {
                executor.execute(counting(&done));
                let waiting = counting(&done);
                executor.execute(async move {
                    let _ = released.await;
                    waiting.await;
                });
                assert_eq!(done.load(Ordering::SeqCst), 0, "queued, not run yet");
            }
            Poll::<()>::Pending
        });
        assert!(outcome.is_pending());
        assert_eq!(
            polls, 2,
            "the connection is polled again to write the replies"
        );
        assert_eq!(
            done.load(Ordering::SeqCst),
            1,
            "the ready stream finished in place"
        );

        release.send(()).unwrap();
        until(&done, 2).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panicking_stream_is_dropped_and_the_others_go_on() {
        let queue = StreamQueue::default();
        let executor = queue.executor();
        let done = Arc::new(AtomicUsize::new(0));
        let mut first = true;
        let _ = queue.drive(|| {
            if std::mem::take(&mut first) {
                executor.execute(async { panic!("a handler's bug") });
                executor.execute(counting(&done));
            }
            Poll::<()>::Pending
        });
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_stream_handed_over_outside_the_connections_poll_is_spawned() {
        let queue = StreamQueue::default();
        let done = Arc::new(AtomicUsize::new(0));
        queue.executor().execute(counting(&done));
        until(&done, 1).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn streams_queued_when_the_connection_ends_are_dropped_with_it() {
        let queue = StreamQueue::default();
        let executor = queue.executor();
        let in_stream = Arc::new(());
        let outcome = queue.drive(|| {
            // As hyper's streams do, the stream holds a clone of the executor.
            let held = (executor.clone(), in_stream.clone());
            executor.execute(async move {
                let _held = &held;
            });
            Poll::Ready(())
        });
        assert!(outcome.is_ready());
        assert_eq!(Arc::strong_count(&in_stream), 2, "still queued");
        drop(executor);
        drop(queue);
        assert_eq!(Arc::strong_count(&in_stream), 1, "queued streams leaked");
    }
}
