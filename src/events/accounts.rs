//! Events of this area (to be filled as its handlers move into workflows).

use super::{Action, Effects};

pub const ACTIONS: &[&Action] = &[];

#[derive(Debug)]
pub enum AccountEvent {}

impl AccountEvent {
    pub fn effects(self) -> Effects {
        match self {}
    }
}
