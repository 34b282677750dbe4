//! (being moved here from src/api/competencies.rs)
