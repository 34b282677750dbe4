//! Integration tests: the real App over real databases, one per test.

// Shared helpers; not every test module uses every one of them.
#[allow(dead_code)]
mod helpers;

mod analytics;
mod auth;
mod backpressure;
mod basics;
mod calendar;
mod census;
mod conventions;
mod corrupt;
mod debrief;
mod export;
mod feedback;
#[allow(dead_code)]
mod fixtures;
mod hostile;
mod idempotency;
mod insiders;
mod loops;
mod matrix;
mod metrics;
mod notify;
mod notify_loop;
mod oauth;
mod openapi;
mod outage;
mod preconditions;
mod program;
mod quickvote;
mod recovery;
mod scim;
mod settings;
mod smtp;
mod sso;
mod stress;
mod timestamps;
mod tokens;
mod users;
mod viewcache;
mod webhooks;
