//! (being moved here from src/api/debrief.rs)
