//! Events of this area (to be filled as its handlers move into workflows).

use super::{Action, Effects};

pub const ACTIONS: &[&Action] = &[];

#[derive(Debug)]
pub enum LoopEvent {}

impl LoopEvent {
    pub fn effects(self) -> Effects {
        match self {}
    }
}
