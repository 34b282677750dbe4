//! bar-raiser: a REST backend for the Bar Raiser interview process, where
//! every interviewer's feedback is written and sealed independently and the
//! server can prove it.
//!
//! Layers (see ARCHITECTURE.md): `api` (HTTP) → `domain` (rules, pure) → `db`
//! (diesel); `notify` delivers mail from the outbox.

pub mod api;
pub mod app;
pub mod auth;
#[cfg(feature = "tools")]
pub mod bench;
pub mod bootstrap;
pub mod config;
pub mod db;
#[cfg(feature = "tools")]
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod metrics;
pub mod notify;
pub mod problems;
pub mod workflows;
