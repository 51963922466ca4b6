//! Safe to host: the page's headers from the proxy's `--static` mode (CSP, no-referrer, nosniff, caching, compression),
//! `vercel.json` holding the same headers (resolved by Vercel's own route compiler, `@vercel/routing-utils`), and
//! both CSPs checked with Google's CSP Evaluator (npm `csp_evaluator`).
//!
//! Needs `node` and the npm packages `scripts/ensure-tools.sh` installs into `.tools/node_modules` (or the directory
//! in `KOMMO_NODE_MODULES`). Without them these tests fail and say what to install; they never skip.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use common::*;
use kommo_proxy::page::{
    cache_control, content_security_policy, is_hashed_asset, CACHE_IMMUTABLE, CACHE_REVALIDATE,
    HASHED_ASSET_RE, VERCEL_HASHED_SOURCE, VERCEL_REVALIDATE_SOURCE,
};
use kommo_proxy::{Cli, Config};
use serde::Deserialize;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn node_modules() -> PathBuf {
    let dir = std::env::var_os("KOMMO_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/node_modules"));
    for pkg in ["csp_evaluator", "@vercel/routing-utils"] {
        assert!(
            dir.join(pkg).join("package.json").is_file(),
            "the npm package {pkg} is not installed in {}: run scripts/ensure-tools.sh (it installs it into .tools/)",
            dir.display()
        );
    }
    dir
}

/// Run one of the checked-in node scripts beside this file; its stdout is one JSON value.
fn node(script: &str, args: &[String]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let out = Command::new("node")
        .arg(&path)
        .arg(node_modules())
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run node ({e}): install Node.js (Debian: apt-get install nodejs npm)")
        });
    assert!(
        out.status.success(),
        "node {script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "node {script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn vercel_json() -> Value {
    let text = std::fs::read_to_string(repo().join("vercel.json")).expect("vercel.json");
    serde_json::from_str(&text).expect("vercel.json is JSON")
}

// ---- CSP Evaluator ------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Finding {
    severity: u32,
    level: String,
    directive: String,
    value: Option<String>,
    description: String,
}

/// CSP Evaluator's findings that fail a policy: HIGH (10), SYNTAX (20) and HIGH_MAYBE (40). MEDIUM_MAYBE
/// ("'self' can be problematic if you host JSONP…") and below are accepted: the page hosts no such files.
fn serious(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| matches!(f.severity, 10 | 20 | 40))
        .collect()
}

fn evaluate(policies: &[String]) -> Vec<Vec<Finding>> {
    let out = node("csp_check.mjs", policies);
    let results: Vec<Value> = serde_json::from_value(out).unwrap();
    assert_eq!(results.len(), policies.len());
    results
        .into_iter()
        .zip(policies)
        .map(|(r, csp)| {
            assert_eq!(r["csp"].as_str(), Some(csp.as_str()));
            serde_json::from_value(r["findings"].clone()).unwrap()
        })
        .collect()
}

fn describe(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}: {}",
                f.level,
                f.directive,
                f.value.as_deref().unwrap_or(""),
                f.description
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn both_csps_have_no_high_severity_finding() {
    let dist = page_dir();
    let plain = spawn_proxy(Config::default().with_static_dir(dist.path())).await;
    let with_proxy = spawn_proxy(
        Config::default()
            .with_static_dir(dist.path())
            .connect_to("https://proxy.example.org"),
    )
    .await;
    let mut policies = Vec::new();
    for proxy in [plain, with_proxy] {
        let a = answer(client().get(format!("http://{proxy}/"))).await;
        policies.push(
            a.header("content-security-policy")
                .expect("the page has a CSP"),
        );
    }
    assert!(policies[1].contains("connect-src 'self' https://proxy.example.org;"));
    let v = vercel_json();
    let vercel_csp = v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["headers"].as_array().unwrap())
        .find(|h| {
            h["key"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("content-security-policy")
        })
        .expect("vercel.json sets a Content-Security-Policy")["value"]
        .as_str()
        .unwrap()
        .to_string();
    policies.push(vercel_csp);

    for (csp, findings) in policies.iter().zip(evaluate(&policies)) {
        let bad = serious(&findings);
        assert!(bad.is_empty(), "{csp}\n{}", describe(&bad));
        for f in &findings {
            println!("accepted: {} {} {}", f.level, f.directive, f.description);
        }
    }
}

#[test]
fn the_csp_check_fails_weak_policies() {
    let good = content_security_policy(&[]);
    let weak = [
        good.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
        good.replace("script-src 'self'", "script-src *"),
        good.replace("script-src 'self'", "script-src https:"),
        good.replace("script-src 'self'", "script-src 'self' data:"),
        good.replace("default-src 'none'; ", "")
            .replace("; object-src 'none'", ""),
        good.replace("script-src", "scrpt-src"),
    ];
    let results = evaluate(&weak);
    for (csp, findings) in weak.iter().zip(&results) {
        assert!(
            !serious(findings).is_empty(),
            "the checker accepted a weak policy: {csp}"
        );
    }
    assert!(serious(&evaluate(&[good])[0]).is_empty());
}

// ---- the proxy's --static mode --------------------------------------------------------------------------------

const JS: &str = "kommo-oauth-helper-353f740ce4dec9e5.js";
const WASM: &str = "kommo-oauth-helper-353f740ce4dec9e5_bg.wasm";
const CSS: &str = "main-660a0aab17dfd5f0.css";
const BOOT: &str = "boot-0123456789abcdef.js";
/// The split build's loader and parts (scripts/post-build.pl names them like this).
const LOADER: &str = "__wasm_split-353f740ce4dec9e5.js";
const PART: &str = "split_after-9a0b1c2d3e4f5061.wasm";
const CHUNK: &str = "chunk_4-0f1e2d3c4b5a6978.wasm";
/// Trunk writes its hash without leading zeros: 15 hex digits in one build of 16.
const SHORT_HASH_JS: &str = "kommo-oauth-helper-bdbdb7d96cff4a7.js";
/// Not a hash: a version.
const VERSIONED_JS: &str = "lib-2024.js";

/// A built page like Trunk's: index.html and content-hashed assets, plus one file without a hash.
fn page_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("index.html"),
        format!(
            "<!doctype html><title>helper</title><script type=\"module\" src=\"/{BOOT}\"></script>"
        ),
    )
    .unwrap();
    std::fs::write(p.join(JS), "export default function init() {}\n".repeat(40)).unwrap();
    std::fs::write(p.join(WASM), b"\0asm\x01\0\0\0".repeat(64)).unwrap();
    std::fs::write(p.join(CSS), "body { margin: 0 }\n".repeat(40)).unwrap();
    std::fs::write(p.join(BOOT), "import init from './x.js';\n").unwrap();
    std::fs::write(p.join(LOADER), "export const load = 1;\n").unwrap();
    std::fs::write(p.join(PART), b"\0asm\x01\0\0\0".repeat(16)).unwrap();
    std::fs::write(p.join(CHUNK), b"\0asm\x01\0\0\0".repeat(8)).unwrap();
    std::fs::write(p.join(SHORT_HASH_JS), "export const x = 1;\n").unwrap();
    std::fs::write(p.join(VERSIONED_JS), "export const y = 2;\n").unwrap();
    std::fs::write(p.join("robots.txt"), "User-agent: *\n").unwrap();
    dir
}

#[tokio::test]
async fn the_page_is_served_with_its_headers() {
    let dist = page_dir();
    let proxy = spawn_proxy(Config::default().with_static_dir(dist.path())).await;
    let csp = content_security_policy(&[]);
    for (path, cache, content_type) in [
        ("/", CACHE_REVALIDATE, "text/html"),
        ("/index.html", CACHE_REVALIDATE, "text/html"),
        (
            "/callback?code=def502&state=s&referer=kwid.kommo.com",
            CACHE_REVALIDATE,
            "text/html",
        ),
        ("/deep/path", CACHE_REVALIDATE, "text/html"),
        (&format!("/{JS}"), CACHE_IMMUTABLE, "text/javascript"),
        (&format!("/{WASM}"), CACHE_IMMUTABLE, "application/wasm"),
        (&format!("/{CSS}"), CACHE_IMMUTABLE, "text/css"),
        (&format!("/{BOOT}"), CACHE_IMMUTABLE, "text/javascript"),
        (&format!("/{LOADER}"), CACHE_IMMUTABLE, "text/javascript"),
        (&format!("/{PART}"), CACHE_IMMUTABLE, "application/wasm"),
        (&format!("/{CHUNK}"), CACHE_IMMUTABLE, "application/wasm"),
        (
            &format!("/{SHORT_HASH_JS}"),
            CACHE_IMMUTABLE,
            "text/javascript",
        ),
        (
            &format!("/{VERSIONED_JS}"),
            CACHE_REVALIDATE,
            "text/javascript",
        ),
        ("/robots.txt", CACHE_REVALIDATE, "text/plain"),
    ] {
        let a = answer(client().get(format!("http://{proxy}{path}"))).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.header("cache-control").as_deref(), Some(cache), "{path}");
        assert_eq!(
            a.header("content-security-policy").as_deref(),
            Some(csp.as_str()),
            "{path}"
        );
        assert_eq!(
            a.header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            a.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert!(
            a.header("content-type").unwrap().starts_with(content_type),
            "{path}: {:?}",
            a.header("content-type")
        );
        assert!(
            a.header("content-encoding").is_none(),
            "not asked for compression"
        );
    }
    // A missing hashed name is not cached for a year.
    let a = answer(client().get(format!("http://{proxy}/app-0123456789abcdef.js"))).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("cache-control").as_deref(), Some(CACHE_REVALIDATE));
    // Revalidation works: index.html answers 304 to its own Last-Modified.
    let a = answer(client().get(format!("http://{proxy}/"))).await;
    let last_modified = a.header("last-modified").expect("Last-Modified");
    let a = answer(
        client()
            .get(format!("http://{proxy}/"))
            .header("if-modified-since", last_modified),
    )
    .await;
    assert_eq!(a.status, 304);
    assert_eq!(a.header("cache-control").as_deref(), Some(CACHE_REVALIDATE));
    // The proxy's own answers keep no-store and carry no page CSP.
    let a = answer(client().get(format!("http://{proxy}/healthz"))).await;
    assert_eq!(a.header("cache-control").as_deref(), Some("no-store"));
    assert!(a.header("content-security-policy").is_none());
}

#[tokio::test]
async fn the_page_is_compressed_when_the_browser_accepts_it() {
    let dist = page_dir();
    let proxy = spawn_proxy(Config::default().with_static_dir(dist.path())).await;
    for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
        for path in [
            "/".to_string(),
            format!("/{WASM}"),
            format!("/{JS}"),
            "/callback".into(),
        ] {
            let resp = client()
                .get(format!("http://{proxy}{path}"))
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let h = resp.headers();
            assert_eq!(
                h.get("content-encoding").and_then(|v| v.to_str().ok()),
                Some(expected),
                "{path} with {accept}"
            );
            assert!(
                h.get_all("vary").iter().any(|v| v
                    .to_str()
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("accept-encoding")),
                "{path}: Vary names Accept-Encoding"
            );
            assert!(h.get("content-security-policy").is_some());
            assert!(h.get("cache-control").is_some());
        }
    }
    // Decompressed, it is the file.
    let resp = client()
        .get(format!("http://{proxy}/{CSS}"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let gz = resp.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(dist.path().join(CSS)).unwrap()
    );
}

fn brotli(data: &[u8], quality: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out
}

fn unbrotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &data[..], &mut out).expect("a brotli stream");
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut out)
        .expect("a gzip stream");
    out
}

fn varies_on_accept_encoding(h: &reqwest::header::HeaderMap) -> bool {
    h.get_all("vary").iter().any(|v| {
        v.to_str()
            .unwrap()
            .split(',')
            .any(|n| n.trim().eq_ignore_ascii_case("accept-encoding"))
    })
}

/// The page with NAME.br and NAME.gz beside the hashed files, as scripts/precompress.mjs leaves it. They are made at
/// the lowest levels here, so their bytes differ from what the proxy would make on the fly (level 5).
fn precompressed_page_dir() -> tempfile::TempDir {
    let dir = page_dir();
    let p = dir.path();
    for name in [JS, WASM, CSS, SHORT_HASH_JS, LOADER, PART] {
        let raw = std::fs::read(p.join(name)).unwrap();
        std::fs::write(p.join(format!("{name}.br")), brotli(&raw, 0)).unwrap();
        std::fs::write(p.join(format!("{name}.gz")), gzip(&raw)).unwrap();
    }
    // Stale copies beside files whose name carries no hash must never be served.
    for name in ["index.html", VERSIONED_JS] {
        std::fs::write(p.join(format!("{name}.br")), brotli(b"stale", 0)).unwrap();
        std::fs::write(p.join(format!("{name}.gz")), gzip(b"stale")).unwrap();
    }
    dir
}

#[tokio::test]
async fn hashed_files_are_served_precompressed() {
    let dist = precompressed_page_dir();
    let p = dist.path();
    let proxy = spawn_proxy(Config::default().with_static_dir(p)).await;
    let csp = content_security_policy(&[]);
    for (name, content_type) in [
        (WASM, "application/wasm"),
        (JS, "text/javascript"),
        (CSS, "text/css"),
        (SHORT_HASH_JS, "text/javascript"),
        (LOADER, "text/javascript"),
        (PART, "application/wasm"),
    ] {
        let raw = std::fs::read(p.join(name)).unwrap();
        for (accept, encoding) in [
            (Some("gzip, deflate, br, zstd"), Some("br")),
            (Some("br"), Some("br")),
            (Some("gzip"), Some("gzip")),
            (Some("br;q=0, gzip"), Some("gzip")),
            (Some("gzip;q=0.5, br;q=0.4"), Some("gzip")),
            (Some("identity"), None),
            (None, None),
        ] {
            let mut req = client().get(format!("http://{proxy}/{name}"));
            if let Some(accept) = accept {
                req = req.header("accept-encoding", accept);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200, "{name} {accept:?}");
            let h = resp.headers().clone();
            let body = resp.bytes().await.unwrap().to_vec();
            let what = format!("{name} with Accept-Encoding {accept:?}");
            assert_eq!(
                h.get("content-encoding").map(|v| v.to_str().unwrap()),
                encoding,
                "{what}"
            );
            let (sent, decoded) = match encoding {
                Some("br") => (
                    std::fs::read(p.join(format!("{name}.br"))).unwrap(),
                    unbrotli(&body),
                ),
                Some("gzip") => (
                    std::fs::read(p.join(format!("{name}.gz"))).unwrap(),
                    gunzip(&body),
                ),
                _ => (raw.clone(), body.clone()),
            };
            assert_eq!(body, sent, "{what}: the file's bytes as they are on disk");
            assert_eq!(decoded, raw, "{what}: decoded, the file itself");
            assert_eq!(
                h.get("content-length")
                    .map(|v| v.to_str().unwrap().to_string()),
                Some(sent.len().to_string()),
                "{what}"
            );
            assert!(
                varies_on_accept_encoding(&h),
                "{what}: Vary names Accept-Encoding"
            );
            assert!(
                h["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(content_type),
                "{what}: {:?}",
                h["content-type"]
            );
            assert_eq!(h["cache-control"], CACHE_IMMUTABLE, "{what}");
            assert_eq!(h["content-security-policy"], csp.as_str(), "{what}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        }
        // HEAD announces the same representation.
        let resp = client()
            .head(format!("http://{proxy}/{name}"))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-encoding"], "br");
        assert_eq!(
            resp.headers()["content-length"].to_str().unwrap(),
            std::fs::metadata(p.join(format!("{name}.br")))
                .unwrap()
                .len()
                .to_string()
        );
    }
    // index.html (its name carries no hash) ignores the stale copies beside it: compressed on the fly.
    let html = std::fs::read(p.join("index.html")).unwrap();
    for path in ["/", "/index.html", "/callback?code=x"] {
        for accept in ["br", "gzip"] {
            let resp = client()
                .get(format!("http://{proxy}{path}"))
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let h = resp.headers().clone();
            let body = resp.bytes().await.unwrap();
            let decoded = if accept == "br" {
                unbrotli(&body)
            } else {
                gunzip(&body)
            };
            assert_eq!(decoded, html, "{path} {accept}");
            assert!(varies_on_accept_encoding(&h), "{path}");
            assert_eq!(h["cache-control"], CACHE_REVALIDATE, "{path}");
        }
    }
    // Nor does a file whose name carries a version, not a hash.
    let resp = client()
        .get(format!("http://{proxy}/{VERSIONED_JS}"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers().get("content-encoding").is_none(),
        "too small to compress on the fly"
    );
    assert_eq!(
        resp.bytes().await.unwrap(),
        std::fs::read(p.join(VERSIONED_JS)).unwrap()
    );
    // A hashed file without copies beside it is still compressed (on the fly), and unchanged when decoded.
    std::fs::remove_file(p.join(format!("{WASM}.br"))).unwrap();
    let resp = client()
        .get(format!("http://{proxy}/{WASM}"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "br");
    assert!(varies_on_accept_encoding(resp.headers()));
    let body = resp.bytes().await.unwrap();
    assert_eq!(unbrotli(&body), std::fs::read(p.join(WASM)).unwrap());
}

#[tokio::test]
async fn connect_src_and_a_replaced_csp() {
    let dist = page_dir();
    let cli = Cli::try_parse_from([
        "kommo-proxy",
        "--connect-src",
        "https://Proxy.Example.org/",
        "--connect-src",
        "http://127.0.0.1:9000,https://proxy.example.org",
        "--static",
        dist.path().to_str().unwrap(),
    ])
    .unwrap();
    let config = cli.into_config().unwrap();
    assert_eq!(
        config.connect_src,
        ["https://proxy.example.org", "http://127.0.0.1:9000"]
    );
    let proxy = spawn_proxy(config).await;
    let a = answer(client().get(format!("http://{proxy}/"))).await;
    assert!(a
        .header("content-security-policy")
        .unwrap()
        .contains("; connect-src 'self' https://proxy.example.org http://127.0.0.1:9000; "));

    for bad in [
        "proxy.example.org",
        "https://proxy.example.org/path",
        "javascript:alert(1)",
    ] {
        let err = Cli::try_parse_from(["kommo-proxy", "--connect-src", bad])
            .unwrap()
            .into_config()
            .unwrap_err();
        assert!(err.contains("--connect-src"), "{bad}: {err}");
    }

    // A CSP given with --header replaces the page's own.
    let cli = Cli::try_parse_from([
        "kommo-proxy",
        "--header",
        "Content-Security-Policy: default-src 'self'",
        "--static",
        dist.path().to_str().unwrap(),
    ])
    .unwrap();
    let proxy = spawn_proxy(cli.into_config().unwrap()).await;
    let a = answer(client().get(format!("http://{proxy}/callback"))).await;
    let csps: Vec<_> = a
        .headers
        .get_all("content-security-policy")
        .iter()
        .collect();
    assert_eq!(csps, ["default-src 'self'"]);
}

// ---- vercel.json ----------------------------------------------------------------------------------------------

#[test]
fn vercel_patterns_are_the_proxys_rule() {
    let v = vercel_json();
    let sources: Vec<&str> = v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&VERCEL_HASHED_SOURCE), "{sources:?}");
    assert!(sources.contains(&VERCEL_REVALIDATE_SOURCE), "{sources:?}");
    let re = regex::Regex::new(&format!("^/(?:{HASHED_ASSET_RE})$")).unwrap();
    for path in [
        "/",
        "/index.html",
        "/callback",
        "/app.js",
        "/main.css",
        "/-0123456789abcdef.js",
        "/main-660a0aab17dfd5f.css",
        "/main-660a0aab17df.css",
        "/main-660a0aab17d.css",
        "/lib-1.js",
        "/main-660a0aab17dfd5f00.css",
        "/main-660a0aab17dfd5fg.css",
        "/logo-0123456789abcdef.png",
        "/main-660a0aab17dfd5f0.css.map",
        "/main-660a0aab17dfd5f0.css/",
        "/a--0123456789abcdef.js",
        "/x/y-0123456789abcdef.js",
        &format!("/{JS}"),
        &format!("/{WASM}"),
        &format!("/{CSS}"),
        &format!("/{BOOT}"),
        &format!("/{LOADER}"),
        &format!("/{PART}"),
        &format!("/{CHUNK}"),
    ] {
        assert_eq!(re.is_match(path), is_hashed_asset(path), "{path}");
    }
}

#[tokio::test]
async fn vercel_json_sends_what_the_proxy_sends() {
    let v = vercel_json();
    assert_eq!(v["outputDirectory"], "dist");
    assert!(v["functions"]["api/exchange.rs"].is_object());

    let dist = page_dir();
    let proxy = spawn_proxy(Config::default().with_static_dir(dist.path())).await;
    let files = [
        "/".to_string(),
        "/index.html".into(),
        format!("/{JS}"),
        format!("/{WASM}"),
        format!("/{CSS}"),
        format!("/{BOOT}"),
        format!("/{LOADER}"),
        format!("/{PART}"),
        format!("/{CHUNK}"),
        format!("/{SHORT_HASH_JS}"),
        format!("/{VERSIONED_JS}"),
        "/robots.txt".into(),
    ];
    let page_paths = ["/callback", "/deep/callback", "/oauth"];
    let missing = ["/missing.js", "/img/logo.png"];
    let proxy_routes = [
        "/oauth2/access_token",
        "/api/v4/leads",
        "/api/v4/leads/7/notes",
        "/healthz",
    ];
    let all: Vec<String> = files
        .iter()
        .cloned()
        .chain(page_paths.iter().map(|s| s.to_string()))
        .chain(missing.iter().map(|s| s.to_string()))
        .chain(proxy_routes.iter().map(|s| s.to_string()))
        .collect();
    let resolved = node("vercel_routes.mjs", &{
        let mut args = vec![repo().join("vercel.json").display().to_string()];
        args.extend(all.iter().cloned());
        args
    });
    let resolved: Vec<Value> = serde_json::from_value(resolved).unwrap();
    let by_path = |p: &str| resolved.iter().find(|r| r["path"] == p).unwrap().clone();

    // Files and page paths: the same four headers as the proxy sends.
    for path in files.iter().map(String::as_str).chain(page_paths) {
        let a = answer(client().get(format!("http://{proxy}{path}"))).await;
        assert_eq!(a.status, 200, "{path}");
        let r = by_path(path);
        for name in [
            "content-security-policy",
            "referrer-policy",
            "x-content-type-options",
            "cache-control",
        ] {
            assert_eq!(
                r["headers"][name].as_str(),
                a.header(name).as_deref(),
                "{path}: {name} differs between vercel.json and the proxy"
            );
        }
        assert_eq!(
            r["headers"]["cache-control"].as_str(),
            Some(cache_control(path))
        );
    }
    // Page paths fall back to the page; a missing file does not (404 on both).
    for path in page_paths {
        assert_eq!(by_path(path)["rewrite"], "/index.html", "{path}");
    }
    for path in missing {
        assert_eq!(by_path(path)["rewrite"], Value::Null, "{path}");
        let a = answer(client().get(format!("http://{proxy}{path}"))).await;
        assert_eq!(a.status, 404, "{path}");
    }
    // The proxy routes reach the function, which restores the path; no page Cache-Control on them (the function
    // answers no-store).
    let up = ok_stub().await;
    let mut c = kommo_proxy::vercel_config(Vec::new()).unwrap();
    c.upstream_base = Some(format!("http://{}", up.addr));
    c.rate_limit_per_second = 0;
    let function = spawn_router(kommo_proxy::vercel_router(c)).await;
    for path in proxy_routes {
        let r = by_path(path);
        assert!(r["headers"]["cache-control"].is_null(), "{path}");
        let dest = r["rewrite"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} is not rewritten"));
        assert!(
            dest.starts_with("/api/exchange?kommo_proxy_path="),
            "{dest}"
        );
        let url = format!("http://{function}{dest}");
        let req = if path == "/oauth2/access_token" {
            client()
                .post(url)
                .header("content-type", "application/json")
                .body("{}")
        } else {
            client().get(url)
        };
        let resp = req
            .header("x-kommo-account", "kwid.kommo.com")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path} → {dest}");
        if path == "/healthz" {
            assert!(resp.text().await.unwrap().contains("\"status\":\"ok\""));
        } else {
            assert_eq!(up.last().target, path, "{dest}");
        }
    }
}

async fn spawn_router(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}
