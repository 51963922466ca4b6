//! The command line: [`Cli`], every option also an environment variable, checked into a [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{
    default_response_headers, normalize_origin, Config, DEFAULT_CLIENT_RATE_LIMIT,
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_PACE, DEFAULT_PACE_MARGIN_MS, DEFAULT_PACE_MAX_WAIT_MS,
    DEV_ORIGINS,
};

/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The exchange proxy for the Kommo OAuth helper.
///
/// Forwards `POST /oauth2/access_token` and `GET /api/v4/...` to the account host named in the `X-Kommo-Account`
/// header (checked against a strict allowlist), because Kommo refuses browser (CORS) calls. Every option can also be
/// given as an environment variable; prefer the environment for the client secret so it does not show in `ps`.
#[derive(Debug, Clone, Parser)]
#[command(name = "kommo-proxy", version, about, long_about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "KOMMO_PROXY_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// The origin(s) the page is served from, e.g. https://oauth.example.org (repeatable; env: comma list). Allowed
    /// for CORS. When neither this nor --allow-origin is given, the proxy allows its own origin from --bind and the
    /// `trunk serve` origins http://127.0.0.1:8080 and http://localhost:8080.
    #[arg(
        long = "public-origin",
        env = "KOMMO_PROXY_PUBLIC_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub public_origins: Vec<String>,

    /// Another origin whose pages may call the proxy (repeatable; env: comma list). Exact match; credentials are
    /// never allowed.
    #[arg(
        long = "allow-origin",
        env = "KOMMO_PROXY_ALLOW_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub allow_origins: Vec<String>,

    /// An extra account-host suffix besides kommo.com, amocrm.ru, amocrm.com (repeatable; env: comma list).
    #[arg(
        long = "allow-suffix",
        env = "KOMMO_PROXY_ALLOW_SUFFIX",
        value_delimiter = ',',
        value_name = "SUFFIX"
    )]
    pub allow_suffixes: Vec<String>,

    /// Integration id whose secret the proxy holds.
    #[arg(long, env = "KOMMO_CLIENT_ID", requires = "client_secret")]
    pub client_id: Option<String>,

    /// The held client secret. Prefer the environment variable: a flag shows in `ps`.
    #[arg(
        long,
        env = "KOMMO_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    pub client_secret: Option<String>,

    /// With a held secret: also pass through token requests for other integrations (as sent).
    #[arg(long, env = "KOMMO_PROXY_PASS_THROUGH_OTHER_CLIENTS")]
    pub pass_through_other_clients: bool,

    /// With a held secret: sign refreshes with it too, not only code exchanges. Only for a proxy not everyone can
    /// reach: it then refreshes any refresh token of the integration for whoever sends one.
    #[arg(long, env = "KOMMO_PROXY_HELD_SECRET_SIGNS_REFRESH")]
    pub held_secret_signs_refresh: bool,

    /// Send every account's requests to this base URL instead of https://{account} (tests, demo). The account host
    /// is sent in X-Forwarded-Host; the allowlist still applies.
    #[arg(long, env = "KOMMO_PROXY_UPSTREAM_BASE", value_name = "URL")]
    pub upstream_base: Option<String>,

    /// Also serve the built page from this directory, with index.html for unknown page paths.
    #[arg(long = "static", env = "KOMMO_PROXY_STATIC", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,

    /// Request body cap in bytes.
    #[arg(long, env = "KOMMO_PROXY_MAX_BODY_BYTES", default_value_t = 16 * 1024)]
    pub max_body_bytes: usize,

    /// Upstream answer cap in bytes.
    #[arg(long, env = "KOMMO_PROXY_MAX_UPSTREAM_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_upstream_body_bytes: usize,

    /// Token and API requests handled at once (each may buffer an upstream answer); more wait for a turn. 0: no cap.
    #[arg(long, env = "KOMMO_PROXY_MAX_IN_FLIGHT", default_value_t = DEFAULT_MAX_IN_FLIGHT)]
    pub max_in_flight: usize,

    /// Upstream connect timeout in milliseconds.
    #[arg(long, env = "KOMMO_PROXY_CONNECT_TIMEOUT_MS", default_value_t = 5_000)]
    pub connect_timeout_ms: u64,

    /// Upstream total timeout in milliseconds.
    #[arg(long, env = "KOMMO_PROXY_TIMEOUT_MS", default_value_t = 20_000)]
    pub timeout_ms: u64,

    /// Requests per second allowed per client IP and account host (Kommo allows 7); 0 turns the limit off.
    #[arg(long, env = "KOMMO_PROXY_RATE_LIMIT", default_value_t = kommo::RATE_LIMIT_PER_SECOND)]
    pub rate_limit: u32,

    /// Requests per second allowed per client IP across all account hosts (one client rotating accounts would
    /// otherwise multiply --rate-limit, and Kommo may block the proxy's address for every user); 0 turns it off.
    #[arg(long, env = "KOMMO_PROXY_CLIENT_RATE_LIMIT", default_value_t = DEFAULT_CLIENT_RATE_LIMIT)]
    pub client_rate_limit: u32,

    /// Requests per second sent on to one account host, from all clients together (Kommo allows 7); more wait
    /// for room, up to --pace-max-wait-ms. Counted over one second plus --pace-margin-ms. 0 turns pacing off.
    #[arg(long, env = "KOMMO_PROXY_PACE", default_value_t = DEFAULT_PACE)]
    pub pace: u32,

    /// Milliseconds added to the pacing window, so that requests taking different times to reach Kommo cannot
    /// bring one more into a second there.
    #[arg(long, env = "KOMMO_PROXY_PACE_MARGIN_MS", default_value_t = DEFAULT_PACE_MARGIN_MS)]
    pub pace_margin_ms: u64,

    /// The longest a request waits for room in the pacing window, in milliseconds; one that would wait longer is
    /// refused (429 rate_limited with Retry-After).
    #[arg(long, env = "KOMMO_PROXY_PACE_MAX_WAIT_MS", default_value_t = DEFAULT_PACE_MAX_WAIT_MS)]
    pub pace_max_wait_ms: u64,

    /// Take the client IP for the rate limits from the rightmost entry of the last X-Forwarded-For header (X-Real-IP
    /// only when there is no X-Forwarded-For; unparsable: the socket address). Only when a front proxy is the last
    /// hop and appends the address it saw (nginx $proxy_add_x_forwarded_for) or overwrites the header (Vercel).
    #[arg(long, env = "KOMMO_PROXY_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// An origin the served page may fetch from besides its own, for its Content-Security-Policy connect-src
    /// (repeatable; env: comma list). Only when the page should call an exchange proxy on another origin.
    #[arg(
        long = "connect-src",
        env = "KOMMO_PROXY_CONNECT_SRC",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub connect_src: Vec<String>,

    /// An extra header on every answer, "Name: value" (repeatable; env: one per line). Added to the defaults
    /// Referrer-Policy: no-referrer and X-Content-Type-Options: nosniff; a Content-Security-Policy given here
    /// replaces the page's.
    #[arg(
        long = "header",
        env = "KOMMO_PROXY_HEADER",
        value_delimiter = '\n',
        value_name = "NAME: VALUE"
    )]
    pub headers: Vec<String>,

    /// Worker threads, each serving its own share of the connections (0: one per core).
    #[arg(long, env = "KOMMO_PROXY_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Log format: text or json (one line per request either way; RUST_LOG sets the filter, default info).
    #[arg(long, env = "KOMMO_PROXY_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

impl Cli {
    /// Check every option and build the [`Config`].
    pub fn into_config(self) -> Result<Config, String> {
        let mut config = Config {
            allow_origins: Vec::new(),
            extra_suffixes: Vec::new(),
            client_id: self.client_id.filter(|s| !s.is_empty()),
            client_secret: self.client_secret.filter(|s| !s.is_empty()),
            pass_through_other_clients: self.pass_through_other_clients,
            held_secret_signs_refresh: self.held_secret_signs_refresh,
            upstream_base: None,
            static_dir: self.static_dir,
            max_body_bytes: self.max_body_bytes,
            max_upstream_body_bytes: self.max_upstream_body_bytes,
            max_in_flight: self.max_in_flight,
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            timeout: Duration::from_millis(self.timeout_ms),
            rate_limit_per_second: self.rate_limit,
            client_rate_limit_per_second: self.client_rate_limit,
            pace_per_second: self.pace,
            pace_margin: Duration::from_millis(self.pace_margin_ms),
            pace_max_wait: Duration::from_millis(self.pace_max_wait_ms),
            trust_forwarded_for: self.trust_forwarded_for,
            response_headers: default_response_headers(),
            connect_src: Vec::new(),
        };
        if config.client_id.is_some() != config.client_secret.is_some() {
            return Err(
                "give both KOMMO_CLIENT_ID and KOMMO_CLIENT_SECRET, or neither".to_string(),
            );
        }
        let public: Vec<String> = nonempty(self.public_origins);
        let allow: Vec<String> = nonempty(self.allow_origins);
        let mut origins = Vec::new();
        if public.is_empty() {
            origins.extend(own_origins(self.bind));
            if allow.is_empty() {
                origins.extend(DEV_ORIGINS.iter().map(|s| s.to_string()));
            }
        }
        origins.extend(public);
        origins.extend(allow);
        for o in origins {
            let o = normalize_origin(&o)?;
            if !config.allow_origins.contains(&o) {
                config.allow_origins.push(o);
            }
        }
        for o in nonempty(self.connect_src) {
            let o = normalize_origin(&o).map_err(|e| format!("--connect-src: {e}"))?;
            if !config.connect_src.contains(&o) {
                config.connect_src.push(o);
            }
        }
        for s in nonempty(self.allow_suffixes) {
            let suffix =
                kommo::host::parse_suffix(&s).map_err(|e| format!("--allow-suffix {s:?}: {e}"))?;
            config.extra_suffixes.push(suffix);
        }
        if let Some(base) = self.upstream_base.filter(|s| !s.trim().is_empty()) {
            config.upstream_base = Some(check_upstream_base(&base)?);
        }
        for h in nonempty(self.headers) {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| format!("--header {h:?}: expected \"Name: value\""))?;
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
            axum::http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("--header: bad name {name:?}"))?;
            axum::http::HeaderValue::from_str(&value)
                .map_err(|_| format!("--header: bad value for {name}"))?;
            config.response_headers.retain(|(n, _)| n != &name);
            config.response_headers.push((name, value));
        }
        if let Some(dir) = &config.static_dir {
            if !dir.join("index.html").is_file() {
                return Err(format!(
                    "--static {}: no index.html in that directory",
                    dir.display()
                ));
            }
        }
        if config.timeout.is_zero() || config.connect_timeout.is_zero() {
            return Err("timeouts must be above zero".to_string());
        }
        Ok(config)
    }
}

fn nonempty(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The origins a browser uses for a proxy bound to `bind`: `http://{bind}`, and for loopback or unspecified
/// addresses both `http://127.0.0.1:{port}` and `http://localhost:{port}`.
pub fn own_origins(bind: SocketAddr) -> Vec<String> {
    let port = bind.port();
    let ip = bind.ip();
    let mut v = Vec::new();
    if ip.is_loopback() || ip.is_unspecified() {
        v.push(format!("http://127.0.0.1:{port}"));
        v.push(format!("http://localhost:{port}"));
    }
    if !ip.is_unspecified() && !ip.is_loopback() {
        v.push(format!("http://{bind}"));
    }
    v
}

/// `http(s)://host[:port][/prefix]` without query, trailing slash removed.
pub fn check_upstream_base(base: &str) -> Result<String, String> {
    let url = url::Url::parse(base.trim()).map_err(|e| format!("--upstream-base {base:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || url.query().is_some() {
        return Err(format!(
            "--upstream-base {base:?}: expected http(s)://host[:port]"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}
