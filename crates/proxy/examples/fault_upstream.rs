//! A misbehaving account host for `faults.sh`: plain HTTP/1.1 on a raw socket, so that it can do what a real server
//! does on a bad day. The fault is chosen by the account host the proxy names in `X-Forwarded-Host` (it sends that
//! header with `--upstream-base`), by its first label up to a `-` (`slow.kommo.com`, `slow-7.kommo.com`):
//!
//! | label     | what the upstream does                                                         |
//! |-----------|--------------------------------------------------------------------------------|
//! | `ok`      | `200 application/json` with a token-like body (keep-alive)                     |
//! | `slow`    | reads the request, waits 35 s, then answers like `ok`                           |
//! | `reset`   | reads the request, then resets the connection (RST, `SO_LINGER` 0)              |
//! | `html`    | `502 text/html` with an error page (keep-alive)                                 |
//! | `big`     | `200 application/json` with a 20 MB body                                         |
//! | `trickle` | `200 application/json`, `Content-Length: 64`, one byte per second               |
//!
//! Without `X-Forwarded-Host`, the first segment of the path after `/api/v4/` chooses (`GET /api/v4/slow`), so it
//! can be tried with curl directly. `fault_upstream [ADDR]` (default 127.0.0.1:0) prints `listening on http://…`.
//! The `ok` answer's tokens are `FAULT_ACCESS_TOKEN` / `FAULT_REFRESH_TOKEN` from the environment (so a caller can
//! check they never reach a log). Counts per fault are printed to stdout every 10 s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KINDS: [&str; 6] = ["ok", "slow", "reset", "html", "big", "trickle"];
/// How long `slow` waits before answering (the proxy's default total timeout is 20 s).
const SLOW: Duration = Duration::from_secs(35);
/// The size of `big`'s body (the proxy's default upstream answer cap is 8 MiB).
const BIG_BYTES: usize = 20 * 1000 * 1000;
/// The declared length of `trickle`'s body, sent one byte a second.
const TRICKLE_BYTES: usize = 64;
/// A request head larger than this is refused (the proxy sends a few hundred bytes).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

struct Counts([AtomicU64; KINDS.len()]);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let access = std::env::var("FAULT_ACCESS_TOKEN").unwrap_or_else(|_| "a.b.c".to_string());
    let refresh = std::env::var("FAULT_REFRESH_TOKEN").unwrap_or_else(|_| "def502".to_string());
    let ok_body: Arc<str> = format!(
        r#"{{"token_type":"Bearer","expires_in":86400,"access_token":"{access}","refresh_token":"{refresh}","server_time":1764252000}}"#
    )
    .into();
    let counts = Arc::new(Counts(Default::default()));
    {
        let counts = counts.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            tick.tick().await;
            loop {
                tick.tick().await;
                let line: Vec<String> = KINDS
                    .iter()
                    .zip(&counts.0)
                    .map(|(k, c)| format!("{k}={}", c.load(Ordering::Relaxed)))
                    .collect();
                println!("served {}", line.join(" "));
            }
        });
    }
    loop {
        let (sock, _) = listener.accept().await?;
        let _ = sock.set_nodelay(true);
        let ok_body = ok_body.clone();
        let counts = counts.clone();
        tokio::spawn(async move {
            let _ = connection(sock, &ok_body, &counts).await;
        });
    }
}

/// One request's head, as far as the faults need it.
struct Head {
    path: String,
    forwarded_host: Option<String>,
    content_length: usize,
    close: bool,
}

fn parse_head(head: &str) -> Option<Head> {
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let _method = request_line.next()?;
    let path = request_line.next()?.to_string();
    let mut h = Head {
        path,
        forwarded_host: None,
        content_length: 0,
        close: false,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-host" => h.forwarded_host = Some(value.to_ascii_lowercase()),
            "content-length" => h.content_length = value.parse().ok()?,
            "connection" => h.close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    Some(h)
}

fn kind_of(h: &Head) -> &'static str {
    let label = match &h.forwarded_host {
        Some(host) => host.split(['.', '-']).next().unwrap_or(""),
        None => h
            .path
            .strip_prefix("/api/v4/")
            .and_then(|p| p.split(['/', '?', '-']).next())
            .unwrap_or(""),
    };
    KINDS.iter().find(|k| **k == label).copied().unwrap_or("ok")
}

async fn connection(mut sock: TcpStream, ok_body: &str, counts: &Counts) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        // Read one request: the head up to the blank line, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                return Ok(());
            }
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let Some(head) = std::str::from_utf8(&buf[..head_end])
            .ok()
            .and_then(parse_head)
        else {
            return Ok(());
        };
        if head.content_length > MAX_BODY {
            return Ok(());
        }
        while buf.len() < head_end + head.content_length {
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + head.content_length);

        let kind = kind_of(&head);
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        counts.0[i].fetch_add(1, Ordering::Relaxed);
        match kind {
            "slow" => {
                tokio::time::sleep(SLOW).await;
                answer(&mut sock, "200 OK", "application/json", ok_body.as_bytes()).await?;
                return Ok(());
            }
            "reset" => {
                // A zero linger makes close() send RST instead of FIN.
                sock.set_zero_linger()?;
                drop(sock);
                return Ok(());
            }
            "html" => {
                let page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
                answer(&mut sock, "502 Bad Gateway", "text/html", page).await?;
            }
            "big" => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {BIG_BYTES}\r\n\r\n"
                );
                sock.write_all(head.as_bytes()).await?;
                // A JSON string of 20 MB, written in 64 KiB pieces (the proxy gives up at its cap and drops us).
                let piece = vec![b'x'; 64 * 1024];
                let mut left = BIG_BYTES;
                sock.write_all(b"\"").await?;
                left -= 1;
                while left > 1 {
                    let n = piece.len().min(left - 1);
                    sock.write_all(&piece[..n]).await?;
                    left -= n;
                }
                sock.write_all(b"\"").await?;
                return Ok(());
            }
            "trickle" => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {TRICKLE_BYTES}\r\n\r\n"
                );
                sock.write_all(head.as_bytes()).await?;
                let body = format!("{{\"t\":\"{}\"}}", "x".repeat(TRICKLE_BYTES - 8));
                for b in body.as_bytes() {
                    sock.write_all(std::slice::from_ref(b)).await?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                return Ok(());
            }
            _ => {
                answer(&mut sock, "200 OK", "application/json", ok_body.as_bytes()).await?;
            }
        }
        if head.close {
            return Ok(());
        }
    }
}

async fn answer(
    sock: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    sock.write_all(&out).await
}
