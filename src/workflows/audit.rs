//! (being moved here from src/api/audit.rs)
