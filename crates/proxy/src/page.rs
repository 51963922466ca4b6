//! Headers for the built page: the Content-Security-Policy and the caching rules, shared by both hostings — the
//! proxy's `--static` mode sends them, and `vercel.json` holds the same values (a test compares them).
//!
//! The page is a Leptos/WebAssembly app built by Trunk. It needs: its own scripts (`'self'`; the page is started by a
//! hashed file `boot-<16 hex>.js` that `scripts/post-build.pl`, a Trunk post-build hook, writes, so there is no
//! inline script, and the parts of the split wasm are fetched by `__wasm_split-<16 hex>.js`, also its own),
//! WebAssembly compilation (`'wasm-unsafe-eval'`; the parts are compiled as they arrive), its own stylesheet, the `data:` favicon,
//! and `fetch` to the exchange proxy (same origin, or the origins given with `--connect-src`). Navigating to the
//! Kommo consent page and `window.open` are not governed by `connect-src`.

/// The CSP header name.
pub const CSP_HEADER: &str = "content-security-policy";

/// `Cache-Control` for files whose name carries a content hash (they never change under that name).
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` for everything else the page serves (`index.html`, the SPA fallback): revalidate every time, so a
/// new build is seen at once.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// The file extensions of hashed files (`name-<hash>.js`, `name-<hash>_bg.wasm`, `name-<hash>.css`; Trunk names the
/// CSS, scripts/post-build.pl the rest, parts `split_NAME-<hash>.wasm` among them).
pub const HASHED_EXTENSIONS: &[&str] = &["js", "wasm", "css"];

/// The fewest hex digits a hash in a file name has. Trunk writes its 64-bit hash as `{:x}`, without leading zeros:
/// 16 digits, 15 in one file of 16, 14 in one of 256… Taking 12 to 16 misses one file in about a million and keeps
/// short version-like names (`lib-1.js`, `app-2024.js`) out.
pub const HASH_MIN_DIGITS: usize = 12;
/// The most: 64 bits.
pub const HASH_MAX_DIGITS: usize = 16;

macro_rules! hashed_asset_re {
    () => {
        r"(?:.*/)?[^/]+-[0-9a-f]{12,16}(?:_bg)?\.(?:js|wasm|css)"
    };
}

/// The regular expression (JavaScript and Rust `regex` syntax) of a hashed asset path after its leading `/`: the
/// same rule as [`is_hashed_asset`], for `vercel.json`.
pub const HASHED_ASSET_RE: &str = hashed_asset_re!();

/// `vercel.json` `source` pattern (path-to-regexp) of the hashed assets — the same rule as [`is_hashed_asset`].
pub const VERCEL_HASHED_SOURCE: &str = concat!("/(", hashed_asset_re!(), ")");

/// `vercel.json` `source` pattern of every other path but the proxy routes (`index.html`, the SPA fallback):
/// [`CACHE_REVALIDATE`]. Exclusive of [`VERCEL_HASHED_SOURCE`], so no rule has to win over another.
pub const VERCEL_REVALIDATE_SOURCE: &str =
    concat!("/((?!api/|oauth2/|healthz|", hashed_asset_re!(), "$).*)");

/// The page's Content-Security-Policy. `connect_src`: origins the page may `fetch` besides its own (an exchange
/// proxy on another origin), already normalised (`scheme://host[:port]`).
pub fn content_security_policy(connect_src: &[String]) -> String {
    let mut connect = String::from("'self'");
    for origin in connect_src {
        connect.push(' ');
        connect.push_str(origin);
    }
    [
        "default-src 'none'".to_string(),
        "script-src 'self' 'wasm-unsafe-eval'".to_string(),
        "style-src 'self'".to_string(),
        "img-src 'self' data:".to_string(),
        format!("connect-src {connect}"),
        "base-uri 'none'".to_string(),
        "form-action 'none'".to_string(),
        "frame-ancestors 'none'".to_string(),
        "object-src 'none'".to_string(),
    ]
    .join("; ")
}

/// Whether the last segment of `path` is a content-hashed build output: `{name}-{12 to 16 lowercase hex}{_bg}?.{js|wasm|css}`
/// (see [`HASH_MIN_DIGITS`]).
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return false;
    };
    if !HASHED_EXTENSIONS.contains(&ext) {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((name, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    !name.is_empty()
        && (HASH_MIN_DIGITS..=HASH_MAX_DIGITS).contains(&hash.len())
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The `Cache-Control` value for a page path.
pub fn cache_control(path: &str) -> &'static str {
    if is_hashed_asset(path) {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_only_what_the_page_needs() {
        let csp = content_security_policy(&[]);
        assert_eq!(
            csp,
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert!(!csp.contains("'unsafe-eval'"));
        let csp = content_security_policy(&[
            "https://proxy.example.org".into(),
            "http://127.0.0.1:9081".into(),
        ]);
        assert!(
            csp.contains("; connect-src 'self' https://proxy.example.org http://127.0.0.1:9081; ")
        );
    }

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        for hashed in [
            "/kommo-oauth-helper-353f740ce4dec9e5.js",
            "/kommo-oauth-helper-353f740ce4dec9e5_bg.wasm",
            "/main-660a0aab17dfd5f0.css",
            "/boot-0123456789abcdef.js",
            "/snippets/x/inline0-0123456789abcdef.js",
            // Trunk drops the hash's leading zeros.
            "/kommo-oauth-helper-bdbdb7d96cff4a7_bg.wasm",
            "/main-660a0aab17dfd5f.css",
            "/main-660a0aab17df.css",
        ] {
            assert!(is_hashed_asset(hashed), "{hashed}");
            assert_eq!(cache_control(hashed), CACHE_IMMUTABLE);
        }
        for plain in [
            "/",
            "/index.html",
            "/callback",
            "/app.js",
            "/main.css",
            "/-0123456789abcdef.js",
            "/main-660A0AAB17DFD5F0.css",
            "/main-660a0aab17d.css",
            "/lib-1.js",
            "/app-2024.js",
            "/main-660a0aab17dfd5f00.css",
            "/main-660a0aab17dfd5fg.css",
            "/logo-0123456789abcdef.png",
            "/main-660a0aab17dfd5f0.css/",
            "/main-660a0aab17dfd5f0.css.map",
        ] {
            assert!(!is_hashed_asset(plain), "{plain}");
            assert_eq!(cache_control(plain), CACHE_REVALIDATE);
        }
    }
}
