//! How the binary serves: one worker thread per core, each with a current-thread tokio runtime, a listening socket
//! of its own on the one address (`SO_REUSEPORT`: the kernel spreads new connections over them) and an HTTP client
//! of its own, all on one [`AppState`]'s windows and turns, so the rate limits, the pacing and `--max-in-flight`
//! count across workers as they did in one runtime.
//!
//! A request stays on the thread that accepted its connection, and so do its upstream connection and its answer:
//! no work stealing, no wakeups from one thread to another (nginx's worker model). On two cores beside nginx this
//! took the proxy from 0.30× to about 0.5× of nginx's throughput (docs/hosting.md, `crates/proxy/nginx-bench.sh`).
//!
//! The price: a connection that is busy keeps its worker busy — fine for a proxy whose every request is short and
//! whose slow part (Kommo) is awaited, not computed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::router::router_with_state;
use crate::state::AppState;

/// The number of workers for `requested` (0: one per core the process may use).
pub fn worker_count(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One listening socket per worker on `addr` (nonblocking, for [`serve`]).
///
/// The address is first bound alone, without `SO_REUSEPORT`: that fails, as one socket always did, when anything
/// listens there — a second proxy too, whose reuse-port group would otherwise quietly share its connections. It
/// also fixes the port when `addr` asks for any (`:0`).
pub fn bind(addr: SocketAddr, workers: usize) -> io::Result<Vec<std::net::TcpListener>> {
    let first = listener(addr, false)?;
    let workers = if cfg!(unix) { workers.max(1) } else { 1 };
    if workers == 1 {
        return Ok(vec![first]);
    }
    let addr = first.local_addr()?;
    drop(first);
    (0..workers).map(|_| listener(addr, true)).collect()
}

fn listener(addr: SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As tokio's `TcpListener::bind`: a restart can listen again while old connections are in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(unix))]
    let _ = reuse_port;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Serve `config` on `listeners` (from [`bind`]), one worker thread each, until `shutdown` completes (then open
/// requests are finished first) or a worker fails (then the others are stopped and its error returned). Blocks the
/// calling thread, which only waits for those two.
pub fn serve(
    config: Config,
    listeners: Vec<std::net::TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Built inside a runtime, as the HTTP client expects.
    let state = main.block_on(async { AppState::new(config) });
    let (stop, stopped) = watch::channel(false);
    let (done, mut finished) = mpsc::unbounded_channel::<io::Result<()>>();
    let mut threads = Vec::with_capacity(listeners.len());
    // Every worker but the last gets the same windows and turns with a client of its own; the last takes this one.
    let mut states: Vec<AppState> = (1..listeners.len()).map(|_| state.for_worker()).collect();
    states.push(state);
    for (i, (listener, state)) in listeners.into_iter().zip(states).enumerate() {
        let mut stopped = stopped.clone();
        let done = done.clone();
        let thread = std::thread::Builder::new()
            .name(format!("kommo-proxy-{i}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|rt| {
                        rt.block_on(async move {
                            let listener = tokio::net::TcpListener::from_std(listener)?;
                            let app = router_with_state(state)
                                .into_make_service_with_connect_info::<SocketAddr>();
                            axum::serve(listener, app)
                                .with_graceful_shutdown(async move {
                                    let _ = stopped.wait_for(|s| *s).await;
                                })
                                .await
                        })
                    });
                let _ = done.send(result);
            });
        match thread {
            Ok(t) => threads.push(t),
            Err(e) => {
                let _ = stop.send(true);
                for t in threads {
                    let _ = t.join();
                }
                return Err(e);
            }
        }
    }
    drop(done);
    let early = main.block_on(async {
        tokio::select! {
            () = shutdown => None,
            r = finished.recv() => r,
        }
    });
    let _ = stop.send(true);
    for t in threads {
        let _ = t.join();
    }
    let mut result = early.unwrap_or(Ok(()));
    while let Ok(r) = finished.try_recv() {
        if result.is_ok() {
            result = r;
        }
    }
    result
}
