//! `kommo-demo`: the page, the exchange proxy and the local Kommo double in one process. Ctrl-C stops all of it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kommo_demo::{start, DemoOptions};

/// Serve the Kommo OAuth Helper page with its exchange proxy and, by default, a local Kommo double so the whole
/// flow can be tried without a Kommo account.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "BIND_IP", default_value = "127.0.0.1")]
    ip: IpAddr,
    /// Port of the page and the proxy (one origin).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Port of the Kommo double (its consent page opens there).
    #[arg(long, env = "DOUBLE_PORT", default_value_t = 8081)]
    double_port: u16,
    /// The built page (trunk build --release --offline writes dist/).
    #[arg(long = "static", env = "STATIC_DIR", default_value = "dist")]
    static_dir: PathBuf,
    /// Do not start the double: the proxy forwards to real Kommo/amoCRM account hosts.
    #[arg(long, env = "NO_DOUBLE")]
    no_double: bool,
    /// The demo integration's Redirect URI (default: the page). Another address, e.g.
    /// http://127.0.0.1:8081/app/callback, tries the way of an app's own callback: after "Allow", copy the address
    /// and paste it in step 2.
    #[arg(long, env = "DEMO_REDIRECT_URI")]
    redirect_uri: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    if !cli.no_double {
        let double = std::net::SocketAddr::new(cli.ip, cli.double_port);
        if let Some(warning) = kommo_double::exposed_warning(double) {
            tracing::warn!("{warning}");
        }
    }
    let opts = DemoOptions {
        ip: cli.ip,
        port: cli.port,
        double_port: cli.double_port,
        static_dir: Some(cli.static_dir),
        with_double: !cli.no_double,
        proxy_holds_secret: true,
        held_secret_signs_refresh: true,
        redirect_uri: cli.redirect_uri,
    };
    let running = match start(opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    if let Some(addr) = running.double_addr {
        println!("  Kommo double (consent page, token endpoint, API): http://{addr}");
        println!(
            "  Demo integration {} — registered redirect URI {}",
            kommo_double::DEMO_CLIENT_ID,
            running.redirect_uri
        );
    } else {
        println!("  Proxy forwards to real Kommo/amoCRM account hosts.");
    }
    println!();
    println!("  Open this URL: {}", running.page_url);
    println!();
    println!("  Ctrl-C stops everything.");
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    drop(running);
    ExitCode::SUCCESS
}
