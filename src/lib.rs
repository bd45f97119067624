//! `instore`: in-store personalization — shoppers within a geofence of a promoted product.
//!
//! - [`engine`]: the pure streaming join (the original ksqlDB pipeline's semantics, indexed).
//! - [`io`]: adapters: dumps, the store simulator, the in-process bus, the engine thread.
//! - [`ui`]: the operator console (eframe + walkers).
//! - [`cli`]: the command-line commands the binary dispatches to.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod engine;
pub mod io;
pub mod ui;
