//! (being moved here from src/api/interviews.rs)
