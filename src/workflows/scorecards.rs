//! (being moved here from src/api/scorecards.rs)
