//! The Kommo OAuth helper page: a Leptos client-side app that walks a developer from a new Kommo/amoCRM
//! integration to a ready env block (Setup → Consent → Return → Exchange → Result), then refreshes the tokens,
//! inspects the access token and checks the API with them ([`state::api_check`]); a long-lived token or a saved
//! refresh token skips straight to the result ([`state::kept`]).
//!
//! The protocol lives in the `kommo` crate; this crate is the thin browser layer: [`app`] (the root and its
//! effects), [`state`] (the shared [`Ctx`], one part per concern), [`views`] (one component per card), and the IO
//! modules [`api`], [`storage`] and [`browser`]. [`AppWith`] takes an [`AppConfig`] so tests can mount the whole
//! app with a fake [`Api`] and their own storage namespace.

pub mod api;
pub mod app;
pub mod browser;
pub mod i18n;
pub mod ids;
pub mod json;
pub mod lazy;
pub mod part;
pub mod state;
pub mod storage;
pub mod views;

pub use api::{Api, ApiAnswer, ApiError, HttpApi, RawAnswer};
pub use app::{App, AppConfig, AppWith, STORE_NS};
pub use state::{
    use_ctx, Answer, Check, Ctx, Kept, KeptKind, Piece, Popup, ProxyHealth, Received, Refresh,
    RefreshBlocked, RefreshFrom, SecretWas, Setup, Step, LAST_PART,
};
pub use storage::{keys, Area, Store};
