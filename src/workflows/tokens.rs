//! (being moved here from src/api/tokens.rs)
