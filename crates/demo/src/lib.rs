//! Wiring for the no-account demo and the end-to-end tests: the exchange proxy (serving the built page on the same
//! origin) in front of the local Kommo double, in one process.
//!
//! The proxy runs with `upstream_base` pointing at the double, so every account host (`demo.kommo.com`) goes to the
//! double while the host stays visible to it; the allowlist still applies. The proxy holds the demo integration's
//! secret, so the page works without typing one (a secret typed into the page is passed as typed).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use kommo_double::{Double, DoubleConfig, DEMO_CLIENT_ID, DEMO_SECRET};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What to start.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Address both servers bind to (loopback by default).
    pub ip: IpAddr,
    /// The page + proxy port (0 = any free port).
    pub port: u16,
    /// The Kommo double's port (0 = any free port).
    pub double_port: u16,
    /// The built page (`dist/`); without it only the proxy API is served.
    pub static_dir: Option<PathBuf>,
    /// Start the Kommo double and send every account host to it. Without it the proxy talks to real Kommo.
    pub with_double: bool,
    /// Let the proxy hold the demo integration's secret.
    pub proxy_holds_secret: bool,
    /// With the held secret: sign refreshes too (the demo does; `kommo-proxy` does not unless told).
    pub held_secret_signs_refresh: bool,
    /// The demo integration's registered Redirect URI; `None`: the page itself (`http://{ip}:{port}/`). Another
    /// address stands for an app's own callback, where the user copies the return from the address bar.
    pub redirect_uri: Option<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            double_port: 8081,
            static_dir: None,
            with_double: true,
            proxy_holds_secret: true,
            held_secret_signs_refresh: true,
            redirect_uri: None,
        }
    }
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {port} on {ip} is busy (is another copy running?): {what} cannot start. Free it or pick another port, e.g. {hint}")]
    PortBusy {
        ip: IpAddr,
        port: u16,
        what: &'static str,
        hint: &'static str,
    },
    #[error("{what} cannot listen on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the page directory {0} has no index.html: build the page first (trunk build --release --offline)")]
    NoPage(PathBuf),
}

/// A running demo. Dropping it stops both servers.
pub struct Running {
    /// The URL a person opens: the page, pre-set for the demo through its URL fragment.
    pub page_url: String,
    /// The demo integration's Redirect URI: the page's origin (`http://127.0.0.1:8080/`) unless
    /// [`DemoOptions::redirect_uri`] named another.
    pub redirect_uri: String,
    pub proxy_addr: SocketAddr,
    pub double_addr: Option<SocketAddr>,
    /// Handle to the double's state (clock, request log, issued tokens).
    pub double: Option<Double>,
    /// The proxy runs on a runtime of its own so that stopping it also ends its open keep-alive connections, as a
    /// killed process would.
    proxy_runtime: Option<tokio::runtime::Runtime>,
    double_task: Option<JoinHandle<()>>,
}

impl Running {
    /// Stop the proxy and every connection it holds (the double keeps running) — "proxy stopped mid-way".
    pub fn stop_proxy(&mut self) {
        if let Some(rt) = self.proxy_runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_proxy();
        if let Some(t) = self.double_task.take() {
            t.abort();
        }
    }
}

async fn bind(
    ip: IpAddr,
    port: u16,
    what: &'static str,
    hint: &'static str,
) -> Result<TcpListener, StartError> {
    let addr = SocketAddr::new(ip, port);
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            StartError::PortBusy {
                ip,
                port,
                what,
                hint,
            }
        } else {
            StartError::Bind { what, addr, source }
        }
    })
}

/// The page URL with the demo setup in its fragment (never a secret).
pub fn demo_page_url(origin: &str, consent_base: &str) -> String {
    let link = kommo::setup::SetupLink {
        service: Some("custom".into()),
        consent_base: Some(consent_base.into()),
        client_id: Some(DEMO_CLIENT_ID.into()),
        demo: true,
        ..Default::default()
    };
    format!("{origin}/#{}", link.to_fragment())
}

/// Start the proxy (and the double) and return once both listen.
pub async fn start(opts: DemoOptions) -> Result<Running, StartError> {
    if let Some(dir) = &opts.static_dir {
        if !dir.join("index.html").is_file() {
            return Err(StartError::NoPage(dir.clone()));
        }
    }
    let proxy_listener = bind(opts.ip, opts.port, "the page and proxy", "PORT=9080").await?;
    let proxy_addr = proxy_listener
        .local_addr()
        .map_err(|source| StartError::Bind {
            what: "the page and proxy",
            addr: SocketAddr::new(opts.ip, opts.port),
            source,
        })?;
    let origin = format!("http://{proxy_addr}");
    let redirect_uri = opts
        .redirect_uri
        .clone()
        .unwrap_or_else(|| format!("{origin}/"));

    let mut config = kommo_proxy::Config {
        static_dir: opts.static_dir.clone(),
        allow_origins: vec![origin.clone()],
        ..kommo_proxy::Config::default()
    };

    let (double, double_addr, double_task) = if opts.with_double {
        let listener = bind(
            opts.ip,
            opts.double_port,
            "the Kommo double",
            "DOUBLE_PORT=9081",
        )
        .await?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            what: "the Kommo double",
            addr: SocketAddr::new(opts.ip, opts.double_port),
            source,
        })?;
        let double = Double::new(DoubleConfig::demo(&redirect_uri));
        let serving = double.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = serving.serve(listener).await {
                tracing::error!(error = %e, "the Kommo double stopped");
            }
        });
        config.upstream_base = Some(format!("http://{addr}"));
        // The double stands in for Kommo: let the page's CSP allow fetching it, so that pointing the page straight
        // at "Kommo" shows what the real service does — the browser's CORS preflight refused — not a CSP block.
        config.connect_src.push(format!("http://{addr}"));
        if opts.proxy_holds_secret {
            config.client_id = Some(DEMO_CLIENT_ID.to_string());
            config.client_secret = Some(DEMO_SECRET.to_string());
            // Local and with fake tokens: the demo's page refreshes without the secret too (by default).
            config.held_secret_signs_refresh = opts.held_secret_signs_refresh;
        }
        (Some(double), Some(addr), Some(task))
    } else {
        (None, None, None)
    };

    let proxy_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("proxy")
        .enable_all()
        .build()
        .map_err(|source| StartError::Bind {
            what: "the page and proxy",
            addr: proxy_addr,
            source,
        })?;
    let std_listener = proxy_listener
        .into_std()
        .map_err(|source| StartError::Bind {
            what: "the page and proxy",
            addr: proxy_addr,
            source,
        })?;
    proxy_runtime.spawn(async move {
        let served = match TcpListener::from_std(std_listener) {
            Ok(listener) => kommo_proxy::serve(config, listener).await,
            Err(e) => Err(e),
        };
        if let Err(e) = served {
            tracing::error!(error = %e, "the proxy stopped");
        }
    });

    let page_url = match double_addr {
        Some(addr) => demo_page_url(&origin, &format!("http://{addr}")),
        None => format!("{origin}/"),
    };
    Ok(Running {
        page_url,
        redirect_uri,
        proxy_addr,
        double_addr,
        double,
        proxy_runtime: Some(proxy_runtime),
        double_task,
    })
}
