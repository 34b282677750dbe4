//! (being moved here from src/api/loops.rs)
