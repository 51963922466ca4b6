//! What every handler shares, built once from the [`Config`]: the allowed suffixes, the rate limits, the pacing per
//! account host and the turns (behind `Arc`s, so every worker counts in the same windows), and the HTTP client (one
//! per worker runtime: its pooled connections are driven by tasks of the runtime that opened them).

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::limit::{SlidingWindow, WINDOW};

/// The User-Agent the proxy sends upstream.
pub const USER_AGENT: &str = concat!("kommo-oauth-helper-proxy/", env!("CARGO_PKG_VERSION"));

/// The state behind the router. [`AppState::for_worker`] gives another worker the same windows and turns with a
/// client of its own.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub client: reqwest::Client,
    /// [`kommo::host::DEFAULT_SUFFIXES`] and [`Config::extra_suffixes`].
    pub suffixes: Arc<[String]>,
    /// [`Config::response_headers`], parsed once (a pair that is no valid header is left out, as it always was).
    pub response_headers: Arc<[(HeaderName, HeaderValue)]>,
    /// Per (client IP, account host): refuses what is over [`Config::rate_limit_per_second`].
    pub limiter: Arc<SlidingWindow<(Option<IpAddr>, String)>>,
    /// Per client IP: refuses what is over [`Config::client_rate_limit_per_second`].
    pub client_limiter: Arc<SlidingWindow<Option<IpAddr>>>,
    /// Per account host: when each request may leave ([`Config::pace_per_second`]).
    pub pacer: Arc<SlidingWindow<String>>,
    /// Turns for token and API requests ([`Config::max_in_flight`]); `None` without a cap.
    pub in_flight: Option<Arc<Semaphore>>,
}

/// The router's state type.
pub type Shared = Arc<AppState>;

impl AppState {
    pub fn new(config: Config) -> Self {
        let client = client(&config);
        let suffixes = kommo::host::DEFAULT_SUFFIXES
            .iter()
            .map(|s| s.to_string())
            .chain(config.extra_suffixes.iter().cloned())
            .collect();
        let response_headers = config
            .response_headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(value).ok()?,
                ))
            })
            .collect();
        let in_flight = (config.max_in_flight > 0).then(|| {
            Arc::new(Semaphore::new(
                config.max_in_flight.min(Semaphore::MAX_PERMITS),
            ))
        });
        AppState {
            limiter: Arc::new(SlidingWindow::new(config.rate_limit_per_second)),
            client_limiter: Arc::new(SlidingWindow::new(config.client_rate_limit_per_second)),
            pacer: Arc::new(SlidingWindow::with_window(
                config.pace_per_second,
                WINDOW + config.pace_margin,
            )),
            config: Arc::new(config),
            client,
            suffixes,
            response_headers,
            in_flight,
        }
    }

    /// The same configuration, windows and turns, with an HTTP client of its own (for another worker runtime).
    pub fn for_worker(&self) -> Self {
        AppState {
            client: client(&self.config),
            ..self.clone()
        }
    }
}

/// The HTTP client towards Kommo: no redirects followed, the configured timeouts, HTTP/1.1 (Kommo's token endpoint
/// and API answer it; one request per pooled connection at a time, as nginx does), `TCP_NODELAY` (the request is
/// written whole; Nagle would only hold back its last segment).
fn client(config: &Config) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .user_agent(USER_AGENT)
        .http1_only()
        .tcp_nodelay(true)
        .build()
        .expect("the HTTP client builds with a rustls backend")
}
