//! The app's state.

pub mod api_check;
pub mod kept;
