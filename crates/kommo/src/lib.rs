//! Pure Kommo/amoCRM OAuth protocol core, shared by the page (wasm), the exchange proxy and the Kommo double.
//!
//! No browser, no server, no IO: everything here is plain data in, plain data out, unit-tested natively.
//! The facts follow `shared/docs/kommo-oauth.md` (the verified behaviour of the real service).

pub mod api;
pub mod apicheck;
pub mod callback;
pub mod consent;
pub mod curl;
pub mod env;
pub mod envfile;
pub mod hints;
pub mod host;
pub mod json;
pub mod jwt;
pub mod kommo_error;
pub mod outcome;
pub mod proxy;
pub mod refresh;
pub mod setup;
pub mod token;

pub use callback::{parse_callback, Callback, CodeReturn, ErrorReturn, StateProblem};
pub use consent::{consent_url, Mode, Service, Way};
pub use hints::{Hint, Lang};
pub use host::{AccountHost, HostError};
pub use kommo_error::KommoError;
pub use proxy::{Health, ProxyError, ProxyErrorCode, ACCOUNT_HEADER};
pub use token::{GrantType, TokenFailure, TokenRequest, TokenResponse};

/// How long an authorization code stays valid, in seconds (20 minutes).
pub const CODE_LIFETIME_SECS: i64 = 20 * 60;
/// How long an access token from the exchange lives, in seconds (24 hours).
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// How long an unused refresh token lives, in seconds (3 months, counted as 90 days).
pub const REFRESH_TOKEN_LIFETIME_SECS: i64 = 90 * 24 * 60 * 60;
/// Kommo's API rate limit, requests per second.
pub const RATE_LIMIT_PER_SECOND: u32 = 7;
