//! Configuration: the library [`Config`] and the command line [`Cli`] that builds it (every flag also reads an
//! environment variable).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The origins `trunk serve` uses by default; allowed when no origin is configured explicitly.
pub const DEV_ORIGINS: &[&str] = &["http://127.0.0.1:8080", "http://localhost:8080"];
/// The default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The default per-client limit across accounts: two accounts at Kommo's full rate.
pub const DEFAULT_CLIENT_RATE_LIMIT: u32 = 2 * kommo::RATE_LIMIT_PER_SECOND;
/// The default cap on token and API requests handled at once (with 8 MiB answers, at most 2 GiB buffered).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// Everything the proxy needs to run. `Config::default()` is a safe local setup: no held secret, the default
/// Kommo/amoCRM suffixes, the `trunk serve` origins, Kommo's 7 requests/second.
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
    let url =
        reqwest::Url::parse(base.trim()).map_err(|e| format!("--upstream-base {base:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || url.query().is_some() {
        return Err(format!(
            "--upstream-base {base:?}: expected http(s)://host[:port]"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}
