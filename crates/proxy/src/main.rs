use clap::Parser;
use kommo_proxy::Cli;

/// mimalloc instead of glibc's allocator: a request allocates and frees many small buffers (headers, URIs, bodies)
/// on the thread that serves it, which mimalloc's per-thread heaps serve without locks (measured in docs/hosting.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    kommo_proxy::init_tracing(cli.log_format == "json");
    let bind = cli.bind;
    let workers = kommo_proxy::workers::worker_count(cli.workers);
    let config = match cli.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kommo-proxy: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let listeners = match kommo_proxy::workers::bind(bind, workers) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kommo-proxy: cannot listen on {bind}: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let addr = listeners[0]
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| bind.to_string());
    tracing::info!(
        target: "kommo_proxy",
        listen = %addr,
        holds_secret = config.held().is_some(),
        held_secret_signs_refresh = config.held().is_some() && config.held_secret_signs_refresh,
        upstream = config.upstream_base.as_deref().unwrap_or("https://{account}"),
        static_dir = ?config.static_dir,
        origins = ?config.allow_origins,
        workers = listeners.len(),
        startup_ms = started.elapsed().as_millis() as u64,
        "kommo-proxy listening on http://{addr}"
    );
    let shutdown = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    match kommo_proxy::workers::serve(config, listeners, shutdown) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kommo-proxy: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
