//! (being moved here from src/api/webhooks.rs)
