//! What every handler shares, built once from the [`Config`]: the allowed suffixes, the rate limits, the pacing per
//! account host and the turns (behind `Arc`s, so every worker counts in the same windows), and the HTTP client (one
//! per worker runtime: its pooled connections are driven by tasks of the runtime that opened them).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, Uri};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
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
    pub client: UpstreamClient,
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

/// The client towards Kommo (or `--upstream-base`): hyper-util's pooled client, as reqwest used underneath, without
/// reqwest's layers (redirect policy, URL parsing, header maps) that were a fifth of a request's CPU (issue 17).
pub type UpstreamClient = Client<ConnectTimeout<HttpsConnector<HttpConnector>>, Full<Bytes>>;

/// The HTTP client towards Kommo: no redirects followed (the client has none to follow), the connect timeout over
/// DNS, TCP and TLS (the overall timeout is [`crate::forward::forward`]'s), HTTP/1.1 (Kommo's token endpoint and API
/// answer it; one request per pooled connection at a time, as nginx does), `TCP_NODELAY` (the request is written
/// whole; Nagle would only hold back its last segment). TLS is rustls with the platform verifier and aws-lc-rs, the
/// same trust as the reqwest client it replaces; plain http only when `--upstream-base` is an http:// URL (the
/// account host's URL is always https://). TCP keepalive and the pool's 90 s idle timeout are reqwest's defaults.
fn client(config: &Config) -> UpstreamClient {
    let mut http = HttpConnector::new();
    // The scheme is the TLS layer's to check.
    http.enforce_http(false);
    http.set_nodelay(true);
    // Not the same job as the `ConnectTimeout` wrapper below: hyper-util divides this one among the host's
    // addresses, so an address that never answers its SYN gives way to the next one (an account host may resolve
    // to several) instead of using up the whole budget; the wrapper bounds DNS + TCP + TLS together.
    http.set_connect_timeout(Some(config.connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(15)));
    http.set_keepalive_interval(Some(Duration::from_secs(15)));
    http.set_keepalive_retries(Some(3));
    #[cfg(target_os = "linux")]
    http.set_tcp_user_timeout(Some(Duration::from_secs(30)));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .expect("the platform certificate verifier builds");
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the TLS versions suit the provider")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let schemes = HttpsConnectorBuilder::new().with_tls_config(tls);
    let plain_base = config
        .upstream_base
        .as_deref()
        .is_some_and(|b| b.starts_with("http://"));
    let schemes = if plain_base {
        schemes.https_or_http()
    } else {
        schemes.https_only()
    };
    let https = schemes.enable_http1().wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(ConnectTimeout {
            inner: https,
            timeout: config.connect_timeout,
        })
}

/// A connector whose whole connect (DNS, TCP and TLS) ends with an `io::ErrorKind::TimedOut` error after `timeout`,
/// as reqwest's connect timeout did ([`crate::forward`] reads it as "could not connect within").
#[derive(Clone)]
pub struct ConnectTimeout<C> {
    inner: C,
    timeout: Duration,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<C> tower::Service<Uri> for ConnectTimeout<C>
where
    C: tower::Service<Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(done) => done.map_err(Into::into),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connect timed out after {} ms", timeout.as_millis()),
                )
                .into()),
            }
        })
    }
}
