//! One component per step. Each reads the shared [`crate::Ctx`] and keeps protocol logic in `kommo`.

pub mod consent;
pub mod exchange;
pub mod result;
pub mod ret;
pub mod setup;
