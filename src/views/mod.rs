//! One component per card. Each reads the shared [`crate::Ctx`] and keeps protocol logic in `kommo`.

pub mod api_check;
pub mod consent;
pub mod exchange;
pub mod have_token;
pub mod inspect;
pub mod later;
pub mod refresh;
pub mod result;
pub mod return_panel;
pub mod setup;
pub mod widgets;
