//! # Kommo double
//!
//! A local stand-in for Kommo/amoCRM that behaves as `shared/docs/kommo-oauth.md` says the real service does:
//! consent page, token endpoint (codes, refresh rotation, the documented error hints), RS256 access tokens and a
//! small `/api/v4`. It serves the tests and the no-account demo.
//!
//! ## Which account a request is for
//! The account host is `X-Forwarded-Host` (first value) when present — the proxy sets it when it sends every account
//! host to the double (`--upstream-base`) — else `Host`, without the port. A configured `{subdomain}.{base_domain}`
//! is that account. `www.kommo.com`, a bare base domain, `127.0.0.1`, `localhost` or any other name is "no account":
//! the consent page works there (it is Kommo's `www` page), the token endpoint answers
//! `Send request to account` (400) and the API answers 404. A well-formed account host that is not configured
//! (`nobody.kommo.com`) answers **404 with an HTML page** on every path except `/_double/*`, as an unknown
//! subdomain would — a proxy must cope with a non-JSON answer.
//!
//! ## Consent: `GET /oauth?client_id=…&state=…&mode=popup|post_message`
//! An HTML page naming the integration, with `<select id="account">` when several accounts are configured (a hidden
//! `#account` input otherwise) and `<button id="allow">` / `<button id="deny">`. Unknown `client_id` → 400 error page,
//! no redirect. The buttons post the form to `POST /oauth`. Allow → the registered redirect URI with
//! `code`, `state` (only if sent), `referer` (`{subdomain}.{base_domain}`), `client_id`; Deny →
//! `error=access_denied&client_id=…&state=…`, appended to any query the URI already has.
//! `mode=post_message` (and a missing/unknown mode): a **302** in the consenting window. `mode=popup`: a small page
//! whose inline script sets `window.opener.location` to the URL and closes itself, or navigates itself when there
//! is no opener (the URL is also a `#continue` link).
//!
//! ## Token endpoint: `POST /oauth2/access_token` (JSON or form body)
//! Errors are [`kommo::Hint::error`] bodies with [`kommo::Hint::status`], content type `application/json`. Checks,
//! in order: `www` host → `Send request to account`; body unreadable → 400 `Check that all required parameters have
//! been provided`; unknown `client_id` → ``Check the `client_id` parameter``; wrong secret → ``Check the
//! `client_secret` parameter`` (401); missing `grant_type` → ``Check the `grant_type` parameter``; missing
//! `redirect_uri` → ``Check the `redirect_uri` parameter``; `redirect_uri` not byte-equal to the registered one →
//! `Redirect URI is not associated with client`. Code grant: unknown code or another integration's →
//! `Cannot decrypt the authorization code`; issued for another account → `Invalid account`; older than 20 minutes
//! (double clock) → `Authorization code has expired`; already exchanged → `Authorization code has been revoked`.
//! A failed exchange does not spend the code. Success: `{"token_type":"Bearer","expires_in":86400,
//! "access_token":<RS256 JWT>,"refresh_token":"def50200…","server_time":<now>}`.
//!
//! ## Refresh rotation
//! `grant_type=refresh_token` (with `redirect_uri`) returns a new pair whose predecessor is the posted one. The
//! **first use** of a pair — an API call with its access token, or a refresh with its refresh token — revokes its
//! predecessor (both tokens) and every *other* successor of that predecessor: refreshing twice with one old token
//! before using either result gives two pairs, and whichever is used first is the one that counts. Revoked refresh
//! token → 401 `Token has been revoked`; unknown → 401 `Cannot decrypt the refresh token`; another integration's →
//! 401 `Token is not linked to client`; unused for 90 days → 401 `Token has expired`.
//!
//! ## API (`Authorization: Bearer …`)
//! `GET /api/v4/account`, `/api/v4/users` (403 unless the account's user is an admin), `/api/v4/leads/pipelines`,
//! `/api/v4/leads?limit=N&page=P` (limit 1..=250, default 50, otherwise 400; past the last page → 204, no body).
//! Missing/unknown/expired/revoked token, or a token of another account → 401 `application/problem+json`.
//! Rate limit: 7 requests in any sliding 1-second window (by the double's clock) **per account and integration**
//! (all tokens of one integration in one account share it) → 429. Only authorized requests count; a refused one
//! does not. Long-lived tokens work like access tokens.
//!
//! ## No CORS
//! `OPTIONS` on any path → 405; no response carries `Access-Control-*` headers.
//!
//! ## Test controls (JSON)
//! - `GET /_double/log` — every request: `seq, at, arrived_us, method, path, host, grant_type, client_id,
//!   credential_id, status, hint`; `arrived_us` is when it arrived, in microseconds since the double started by the
//!   real monotonic clock (the injectable clock does not move it). `credential_id` is [`fingerprint`] (first 8 hex of SHA-256) of the posted code/refresh token or the
//!   bearer token; no code, token or secret is ever stored in the log.
//! - `POST /_double/clock/advance?secs=N` → `{"now": unix}`.
//! - `POST /_double/long-lived-token?account=demo&days=N[&client_id=…]` (days 1..=1826, default 1; client defaults to
//!   the first integration) → `{"access_token","expires_at","client_id","account_id"}`. No refresh token.
//! - `GET /_double/issued` → every [`IssuedPair`], tokens in clear (they are the double's fake tokens).
//! - `GET /_double/public-key` → the PEM that verifies access tokens.

pub mod api;
pub mod clock;
pub mod config;
mod http;
pub mod keys;
mod pages;
mod store;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use clock::Clock;
pub use config::{
    Account, DoubleConfig, Integration, DEMO_ACCOUNT, DEMO_CLIENT_ID, DEMO_INTEGRATION_NAME,
    DEMO_SECRET, SALES_ACCOUNT,
};
pub use keys::fingerprint;
pub use store::{IssuedPair, LogEntry};

/// Whether `ip` only accepts connections from this machine: `127.0.0.0/8`, `::1`, or `::ffff:127.x.x.x`.
/// `0.0.0.0` and `::` listen on every interface, so they are not.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// What the `kommo-double` and `kommo-demo` binaries print when the double is to listen on `addr` and that is not
/// a loopback address; `None` on loopback.
pub fn exposed_warning(addr: SocketAddr) -> Option<String> {
    if is_loopback(addr.ip()) {
        return None;
    }
    Some(format!(
        "the Kommo double listens on {addr}, which is not a loopback address: anyone who can reach it gets a TEST \
         DOUBLE with fake data and fake secrets, whose /_double/* control endpoints (clock, token issuing, request \
         log) need no authentication and which trusts X-Forwarded-Host. Bind 127.0.0.1 unless that is what you want."
    ))
}

/// Longest long-lived token Kommo offers: 5 years.
pub const MAX_LONG_LIVED_DAYS: u64 = 5 * 366;

struct Inner {
    store: Mutex<store::Store>,
    clock: Clock,
    /// The start of [`Double::since_start`].
    started: Instant,
}

/// The double: a cheap `Clone` handle to shared state.
#[derive(Clone)]
pub struct Double {
    inner: Arc<Inner>,
}

impl Double {
    /// Start a double. Panics if the configuration is invalid (duplicate or non-account hosts, duplicate ids); use
    /// [`Double::try_new`] to get the reason instead.
    pub fn new(config: DoubleConfig) -> Double {
        Double::try_new(config).unwrap_or_else(|e| panic!("invalid double configuration: {e}"))
    }

    /// Start a double, refusing an invalid configuration.
    pub fn try_new(config: DoubleConfig) -> Result<Double, String> {
        config.validate()?;
        keys::warm_up();
        Ok(Double {
            inner: Arc::new(Inner {
                store: Mutex::new(store::Store::new(config)),
                clock: Clock::new(),
                started: Instant::now(),
            }),
        })
    }

    /// A double with [`DoubleConfig::demo`].
    pub fn demo(redirect_uri: &str) -> Double {
        Double::new(DoubleConfig::demo(redirect_uri))
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, store::Store> {
        self.inner.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The axum router serving everything described in the crate docs.
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Serve on a bound listener until the task is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    /// Bind `127.0.0.1:0`, serve in a background task, return the address.
    pub async fn spawn(self) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            if let Err(e) = self.serve(listener).await {
                tracing::error!(error = %e, "kommo double stopped");
            }
        });
        Ok(addr)
    }

    /// The injectable clock (code, token and rate-limit time).
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Real time since the double started (monotonic; [`LogEntry::arrived_us`] is measured on it).
    pub fn since_start(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// The configuration the double runs with.
    pub fn config(&self) -> DoubleConfig {
        self.store().config.clone()
    }

    /// Every request received so far.
    pub fn log(&self) -> Vec<LogEntry> {
        self.store().log().to_vec()
    }

    /// How many `POST /oauth2/access_token` were received.
    pub fn token_posts(&self) -> usize {
        self.store()
            .log()
            .iter()
            .filter(|e| e.method == "POST" && e.path == kommo::token::TOKEN_PATH)
            .count()
    }

    /// How many token posts carried this code or refresh token.
    pub fn posts_of(&self, code_or_refresh_token: &str) -> usize {
        let id = fingerprint(code_or_refresh_token);
        self.store()
            .log()
            .iter()
            .filter(|e| {
                e.path == kommo::token::TOKEN_PATH
                    && e.credential_id.as_deref() == Some(id.as_str())
            })
            .count()
    }

    /// Every token pair issued, oldest first.
    pub fn issued(&self) -> Vec<IssuedPair> {
        self.store().issued()
    }

    /// The pairs issued in exchange for this code or refresh token.
    pub fn issued_for(&self, code_or_refresh_token: &str) -> Vec<IssuedPair> {
        let id = fingerprint(code_or_refresh_token);
        self.issued().into_iter().filter(|p| p.from == id).collect()
    }

    /// What pressing Allow on the consent page does, without a browser: a fresh code for this account
    /// (subdomain or full host) and integration. Panics if either is unknown.
    pub fn grant_code(&self, account: &str, integration_id: &str) -> String {
        let now = self.clock().now_millis();
        let mut store = self.store();
        let a = store
            .account_by_subdomain(account)
            .unwrap_or_else(|| panic!("unknown account {account:?}"));
        let i = store
            .integration_index(integration_id)
            .unwrap_or_else(|| panic!("unknown integration {integration_id:?}"));
        store.issue_code(i, a, now)
    }

    /// A private integration's long-lived token (a JWT, no refresh token). Panics if the account or integration is
    /// unknown.
    pub fn mint_long_lived_token(
        &self,
        account_subdomain: &str,
        integration_id: &str,
        valid_for: Duration,
    ) -> String {
        self.try_mint_long_lived_token(account_subdomain, integration_id, valid_for)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Double::mint_long_lived_token`] that says why it cannot.
    pub fn try_mint_long_lived_token(
        &self,
        account: &str,
        integration_id: &str,
        valid_for: Duration,
    ) -> Result<String, String> {
        let now = self.clock().now_millis();
        let mut store = self.store();
        let a = store
            .account_by_subdomain(account)
            .ok_or_else(|| format!("unknown account {account:?}"))?;
        let i = store
            .integration_index(integration_id)
            .ok_or_else(|| format!("unknown integration {integration_id:?}"))?;
        Ok(store.mint_long_lived(a, i, valid_for.as_secs() as i64, now))
    }

    /// The public key (SPKI PEM) that verifies every access token's RS256 signature.
    pub fn public_key_pem(&self) -> String {
        keys::public_key_pem()
    }
}

#[cfg(test)]
mod exposure_tests {
    use super::*;

    #[test]
    fn only_loopback_binds_go_without_a_warning() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_loopback(ip), "{ip}");
            assert_eq!(exposed_warning(SocketAddr::new(ip, 8081)), None, "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "::",
            "192.168.1.10",
            "10.0.0.1",
            "203.0.113.5",
            "2001:db8::1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_loopback(ip), "{ip}");
            let warning = exposed_warning(SocketAddr::new(ip, 8081)).expect("a warning");
            for needed in [
                "not a loopback",
                "TEST",
                "fake data",
                "/_double/",
                "X-Forwarded-Host",
                "127.0.0.1",
            ] {
                assert!(warning.contains(needed), "{needed}: {warning}");
            }
        }
    }
}
