//! The domain crate of the Cloud Operations Center: models and their validation,
//! the error type, storage and queue ports with their light adapters (SQLite, files), and the handlers
//! that the Lambda binaries and the local server both run.

pub mod adapters;
pub mod app;
pub mod auth;
pub mod clock;
pub mod domain;
pub mod engine;
pub mod error;
pub mod handlers;
pub mod http;
pub mod ids;
pub mod limits;
pub mod logging;
pub mod notify;
pub mod ports;
pub mod repositories;
pub mod routes;
pub mod scheduler;
pub mod secrets;
pub mod wakeups;

pub use app::App;
pub use error::ApiError;
