//! One component per step. Each reads the shared [`crate::Ctx`] and keeps protocol logic in `kommo`.

pub mod check;
pub mod consent;
pub mod exchange;
pub mod have_token;
pub mod inspect;
pub mod refresh;
pub mod result;
pub mod ret;
pub mod setup;
