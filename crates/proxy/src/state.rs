//! What every handler shares, built once from the [`Config`]: the HTTP client, the allowed suffixes, the rate limits,
//! the pacing per account host and the turns.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::Config;
use crate::limit::{SlidingWindow, WINDOW};

/// The User-Agent the proxy sends upstream.
pub const USER_AGENT: &str = concat!("kommo-oauth-helper-proxy/", env!("CARGO_PKG_VERSION"));

/// The state behind the router.
pub struct AppState {
    pub config: Config,
    pub client: reqwest::Client,
    /// [`kommo::host::DEFAULT_SUFFIXES`] and [`Config::extra_suffixes`].
    pub suffixes: Vec<String>,
    /// Per (client IP, account host): refuses what is over [`Config::rate_limit_per_second`].
    pub limiter: SlidingWindow<(Option<IpAddr>, String)>,
    /// Per client IP: refuses what is over [`Config::client_rate_limit_per_second`].
    pub client_limiter: SlidingWindow<Option<IpAddr>>,
    /// Per account host: when each request may leave ([`Config::pace_per_second`]).
    pub pacer: SlidingWindow<String>,
    /// Turns for token and API requests ([`Config::max_in_flight`]); `None` without a cap.
    pub in_flight: Option<Arc<Semaphore>>,
}

/// The router's state type.
pub type Shared = Arc<AppState>;

impl AppState {
    pub fn new(config: Config) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(USER_AGENT)
            .build()
            .expect("the HTTP client builds with a rustls backend");
        let suffixes = kommo::host::DEFAULT_SUFFIXES
            .iter()
            .map(|s| s.to_string())
            .chain(config.extra_suffixes.iter().cloned())
            .collect();
        let in_flight = (config.max_in_flight > 0).then(|| {
            Arc::new(Semaphore::new(
                config.max_in_flight.min(Semaphore::MAX_PERMITS),
            ))
        });
        AppState {
            limiter: SlidingWindow::new(config.rate_limit_per_second),
            client_limiter: SlidingWindow::new(config.client_rate_limit_per_second),
            pacer: SlidingWindow::with_window(config.pace_per_second, WINDOW + config.pace_margin),
            config,
            client,
            suffixes,
            in_flight,
        }
    }
}
