//! The "no proxy" path: the exact `curl` command a user can run themselves.

use crate::env::shell_quote;
use crate::host::AccountHost;
use crate::proxy::FORWARDED_HOST_HEADER;
use crate::token::{TokenRequest, TOKEN_PATH};

/// A `curl` command posting `request` as JSON to `https://{host}/oauth2/access_token`. Every argument is
/// single-quoted for a POSIX shell, so nothing in the values can break out of it.
pub fn token_curl(host: &AccountHost, request: &TokenRequest) -> String {
    command(&host.https_origin(), None, request)
}

/// The same command for a stand-in that serves every account at one address (the Kommo double of the demo): it
/// posts to `{base}/oauth2/access_token` and names the account `host` in `X-Forwarded-Host`, the way the proxy
/// forwards to such an upstream. A trailing `/` on `base` is ignored.
pub fn token_curl_via(base: &str, host: &AccountHost, request: &TokenRequest) -> String {
    let header = format!("{FORWARDED_HOST_HEADER}: {host}");
    command(base.trim_end_matches('/'), Some(&header), request)
}

fn command(origin: &str, header: Option<&str>, request: &TokenRequest) -> String {
    let url = format!("{origin}{TOKEN_PATH}");
    let header = header
        .map(|h| format!(" \\\n  -H {}", shell_quote(h)))
        .unwrap_or_default();
    format!(
        "curl -sS -X POST {}{header} \\\n  -H 'Content-Type: application/json' \\\n  --data-raw {}",
        shell_quote(&url),
        shell_quote(&request.to_json())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_is_quoted_and_targets_the_account_host() {
        let host = AccountHost::parse("kwid.kommo.com").unwrap();
        let req = TokenRequest::authorization_code("id", "it's $ecret", "c", "https://a.example/");
        let cmd = token_curl(&host, &req);
        assert_eq!(
            cmd,
            "curl -sS -X POST 'https://kwid.kommo.com/oauth2/access_token' \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{\"client_id\":\"id\",\"client_secret\":\"it'\\''s $ecret\",\"grant_type\":\"authorization_code\",\"code\":\"c\",\"redirect_uri\":\"https://a.example/\"}'"
        );
    }

    #[test]
    fn curl_via_a_stand_in_posts_there_and_names_the_account_in_x_forwarded_host() {
        let host = AccountHost::parse("demo.kommo.com").unwrap();
        let req = TokenRequest::authorization_code("id", "s", "c", "http://127.0.0.1:8080/");
        let expected = "curl -sS -X POST 'http://127.0.0.1:8081/oauth2/access_token' \\\n  -H 'x-forwarded-host: demo.kommo.com' \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{\"client_id\":\"id\",\"client_secret\":\"s\",\"grant_type\":\"authorization_code\",\"code\":\"c\",\"redirect_uri\":\"http://127.0.0.1:8080/\"}'";
        assert_eq!(
            token_curl_via("http://127.0.0.1:8081", &host, &req),
            expected
        );
        assert_eq!(
            token_curl_via("http://127.0.0.1:8081/", &host, &req),
            expected
        );
        assert!(!expected.contains("https://demo.kommo.com"));
    }
}
