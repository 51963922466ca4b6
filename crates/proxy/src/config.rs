//! Configuration: the library [`Config`], what the proxy needs to run (the command line in `cli.rs`
//! builds one), and the origin rules it is checked with.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The origins `trunk serve` uses by default; allowed when no origin is configured explicitly.
pub const DEV_ORIGINS: &[&str] = &["http://127.0.0.1:8080", "http://localhost:8080"];
/// The default per-client limit across accounts: two accounts at Kommo's full rate.
pub const DEFAULT_CLIENT_RATE_LIMIT: u32 = 2 * kommo::RATE_LIMIT_PER_SECOND;
/// The default cap on token and API requests handled at once (with 8 MiB answers, at most 2 GiB buffered).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// The default pace per account host: the page's own, one under Kommo's 7 requests per second.
pub const DEFAULT_PACE: u32 = kommo::api::PACE_PER_SECOND;
/// The default pacing margin in milliseconds (see [`Config::pace_margin`]).
pub const DEFAULT_PACE_MARGIN_MS: u64 = 100;
/// The default longest wait for room in the pacing window, in milliseconds.
pub const DEFAULT_PACE_MAX_WAIT_MS: u64 = 2_000;

/// Everything the proxy needs to run. `Config::default()` is a safe local setup: no held secret, the default
/// Kommo/amoCRM suffixes, the `trunk serve` origins, Kommo's 7 requests/second, 6 a second sent on to one
/// account host.
#[derive(Clone)]
pub struct Config {
    /// Origins (`scheme://host[:port]`) whose browser requests are allowed (CORS). Matched exactly, after
    /// lowercasing and dropping a trailing `/`.
    pub allow_origins: Vec<String>,
    /// Account-host suffixes accepted besides [`kommo::host::DEFAULT_SUFFIXES`].
    pub extra_suffixes: Vec<String>,
    /// The integration id of the held secret.
    pub client_id: Option<String>,
    /// The held client secret, filled into token requests for `client_id` that arrive with an empty secret.
    pub client_secret: Option<String>,
    /// With held credentials: also pass through requests for other integrations (otherwise `client_not_allowed`).
    pub pass_through_other_clients: bool,
    /// With held credentials: fill the held secret into refreshes (`grant_type=refresh_token`) too. Off by default:
    /// then only code exchanges are signed, and a refresh must bring the secret (`secret_required`), so a leaked
    /// refresh token alone cannot be refreshed through this proxy.
    pub held_secret_signs_refresh: bool,
    /// Send every account's requests to this base (`http://127.0.0.1:PORT`) instead of `https://{account}`; the
    /// account host travels in `X-Forwarded-Host`. For tests and the demo.
    pub upstream_base: Option<String>,
    /// Also serve the built page from this directory (SPA fallback to `index.html`).
    pub static_dir: Option<PathBuf>,
    /// Request body cap in bytes.
    pub max_body_bytes: usize,
    /// Upstream answer cap in bytes.
    pub max_upstream_body_bytes: usize,
    /// Token and API requests handled at once; more wait for a turn. Each may hold a request body and an upstream
    /// answer (up to `max_upstream_body_bytes`) in memory until the answer is sent, so this bounds that memory.
    /// 0: no cap.
    pub max_in_flight: usize,
    /// Upstream connect timeout.
    pub connect_timeout: Duration,
    /// Upstream total timeout (connect, send, answer).
    pub timeout: Duration,
    /// Requests per second per (client IP, account host); 0 turns the limit off.
    pub rate_limit_per_second: u32,
    /// Requests per second per client IP across all account hosts, so one client rotating account hosts cannot
    /// send Kommo a flood from the proxy's address; 0 turns the limit off.
    pub client_rate_limit_per_second: u32,
    /// Requests that leave for one account host in any window of one second plus [`Config::pace_margin`], from
    /// all clients together: as the account host counts them (the default, 6, is one under Kommo's 7). A request
    /// that finds the window full waits until it has room, up to [`Config::pace_max_wait`]; one that would wait
    /// longer is refused (`rate_limited`, with `Retry-After`). 0 turns pacing off.
    pub pace_per_second: u32,
    /// Added to the pacing window, so that requests taking up to this much longer or shorter to reach Kommo than
    /// one another still cannot bring `pace_per_second + 1` of them into one second there.
    pub pace_margin: Duration,
    /// The longest a request waits for room in the pacing window.
    pub pace_max_wait: Duration,
    /// Take the client IP from the rightmost entry of the last `X-Forwarded-For` header (`X-Real-IP` when there is
    /// none). Only behind a front proxy that is the last hop and appends or overwrites it (nginx
    /// `$proxy_add_x_forwarded_for`, Vercel); anything to the left of that entry was written by the client.
    pub trust_forwarded_for: bool,
    /// Headers added to every answer (unless the handler already set them): security headers such as
    /// `Referrer-Policy`, `X-Content-Type-Options`. A `content-security-policy` entry here replaces the page's own
    /// ([`Config::page_csp`]).
    pub response_headers: Vec<(String, String)>,
    /// Origins (`scheme://host[:port]`) the served page may `fetch` besides its own: its CSP `connect-src`. Only
    /// needed when the page is told to use an exchange proxy on another origin.
    pub connect_src: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allow_origins: DEV_ORIGINS.iter().map(|s| s.to_string()).collect(),
            extra_suffixes: Vec::new(),
            client_id: None,
            client_secret: None,
            pass_through_other_clients: false,
            held_secret_signs_refresh: false,
            upstream_base: None,
            static_dir: None,
            max_body_bytes: 16 * 1024,
            max_upstream_body_bytes: 8 * 1024 * 1024,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            rate_limit_per_second: kommo::RATE_LIMIT_PER_SECOND,
            client_rate_limit_per_second: DEFAULT_CLIENT_RATE_LIMIT,
            pace_per_second: DEFAULT_PACE,
            pace_margin: Duration::from_millis(DEFAULT_PACE_MARGIN_MS),
            pace_max_wait: Duration::from_millis(DEFAULT_PACE_MAX_WAIT_MS),
            trust_forwarded_for: false,
            response_headers: default_response_headers(),
            connect_src: Vec::new(),
        }
    }
}

/// `Referrer-Policy: no-referrer` (the callback URL carries the code) and `X-Content-Type-Options: nosniff`.
pub fn default_response_headers() -> Vec<(String, String)> {
    vec![
        ("referrer-policy".to_string(), "no-referrer".to_string()),
        ("x-content-type-options".to_string(), "nosniff".to_string()),
    ]
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("allow_origins", &self.allow_origins)
            .field("extra_suffixes", &self.extra_suffixes)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<held>"),
            )
            .field(
                "pass_through_other_clients",
                &self.pass_through_other_clients,
            )
            .field("held_secret_signs_refresh", &self.held_secret_signs_refresh)
            .field("upstream_base", &self.upstream_base)
            .field("static_dir", &self.static_dir)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_upstream_body_bytes", &self.max_upstream_body_bytes)
            .field("max_in_flight", &self.max_in_flight)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field(
                "client_rate_limit_per_second",
                &self.client_rate_limit_per_second,
            )
            .field("pace_per_second", &self.pace_per_second)
            .field("pace_margin", &self.pace_margin)
            .field("pace_max_wait", &self.pace_max_wait)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("response_headers", &self.response_headers)
            .field("connect_src", &self.connect_src)
            .finish()
    }
}

impl Config {
    /// Send every request to `base` (tests, demo).
    pub fn with_upstream_base(mut self, base: impl Into<String>) -> Self {
        self.upstream_base = Some(base.into());
        self
    }

    /// Hold an integration's secret.
    pub fn with_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.client_id = Some(client_id.into());
        self.client_secret = Some(client_secret.into());
        self
    }

    /// Serve the built page from `dir`.
    pub fn with_static_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    /// Allow one more origin.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        if let Ok(o) = normalize_origin(origin) {
            if !self.allow_origins.contains(&o) {
                self.allow_origins.push(o);
            }
        }
        self
    }

    /// Let the served page `fetch` from one more origin (its CSP `connect-src`).
    pub fn connect_to(mut self, origin: &str) -> Self {
        if let Ok(o) = normalize_origin(origin) {
            if !self.connect_src.contains(&o) {
                self.connect_src.push(o);
            }
        }
        self
    }

    /// The Content-Security-Policy of the served page: [`crate::page::content_security_policy`] with
    /// [`Config::connect_src`], unless `response_headers` sets one.
    pub fn page_csp(&self) -> String {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(crate::page::CSP_HEADER))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| crate::page::content_security_policy(&self.connect_src))
    }

    /// Whether a request with this `Origin` may use the proxy.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        match normalize_origin(origin) {
            // Entries may have been pushed by hand (`config.allow_origins = vec![…]`): compare normalised.
            Ok(o) => self
                .allow_origins
                .iter()
                .any(|a| a == &o || normalize_origin(a).is_ok_and(|a| a == o)),
            Err(_) => false,
        }
    }

    /// The held credentials, when both parts are set and non-empty.
    pub fn held(&self) -> Option<(&str, &str)> {
        match (self.client_id.as_deref(), self.client_secret.as_deref()) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
            _ => None,
        }
    }
}

/// `scheme://host[:port]`, lowercased, without a trailing slash; anything with a path, query, user info or
/// whitespace is refused.
pub fn normalize_origin(input: &str) -> Result<String, String> {
    let s = input.trim().trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!(
            "{input:?} is not an origin like https://example.org"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "{input:?}: the origin must start with http:// or https://"
        ));
    }
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' ', '\t', '\\'])
        || !rest.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(format!(
            "{input:?} is not an origin like https://example.org (no path, query or user)"
        ));
    }
    Ok(format!("{scheme}://{rest}"))
}
