//! The single-threaded tokio runtime both sides run on: each server worker, and `hello`.

use color_eyre::eyre::{Result, WrapErr};

/// A single-threaded runtime with I/O and timers: what each worker, and the client, runs on.
pub fn single_threaded() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("could not start the async runtime")
}
