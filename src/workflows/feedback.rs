//! (being moved here from src/api/feedback.rs)
