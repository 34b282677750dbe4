//! (being moved here from src/api/auth.rs)
