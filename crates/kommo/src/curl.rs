//! The "no proxy" path: the exact `curl` command a user can run themselves.

use crate::env::shell_quote;
use crate::host::AccountHost;
use crate::token::{TokenRequest, TOKEN_PATH};

/// A `curl` command posting `request` as JSON to `https://{host}/oauth2/access_token`. Every argument is
/// single-quoted for a POSIX shell, so nothing in the values can break out of it.
pub fn token_curl(host: &AccountHost, request: &TokenRequest) -> String {
    let url = format!("{}{}", host.https_origin(), TOKEN_PATH);
    format!(
        "curl -sS -X POST {} \\\n  -H 'Content-Type: application/json' \\\n  --data-raw {}",
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
}
