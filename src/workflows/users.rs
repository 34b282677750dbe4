//! (being moved here from src/api/users.rs)
