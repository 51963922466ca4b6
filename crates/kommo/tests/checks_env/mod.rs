//! The env block's property, kept apart from `checks` because `kommo::env` is being reworked: a rendered `.env`
//! block, read back by `dotenvy` (the parser Rust apps load it with), defines exactly the block's variables with
//! exactly its values. Shared by `tests/env_roundtrip.rs` (proptest) and the `env_block` fuzz target.

#![allow(dead_code)]

use kommo::env::{render, EnvFormat, EnvValues, NAMES};

/// `values` are the seven variable values after `ENABLED` (domain, account host, client id, secret, redirect URI,
/// access token, refresh token). Values holding `$` are not checked: no rendering is read back exactly by every
/// parser of the dotenv family (some expand it), so the renderer reports those instead.
pub fn env_block(prefix: &str, values: [&str; 7]) {
    let Ok(prefix) = kommo::env::parse_prefix(prefix) else {
        return;
    };
    if values.iter().any(|v| v.contains('$') || v.contains('\0')) {
        return;
    }
    let mut v = EnvValues::default();
    let [domain, host, id, secret, redirect, access, refresh] = values;
    v.domain = domain.to_string();
    v.account_host = host.to_string();
    v.client_id = id.to_string();
    v.client_secret = secret.to_string();
    v.redirect_uri = redirect.to_string();
    v.access_token = access.to_string();
    v.refresh_token = refresh.to_string();
    let block = render(EnvFormat::Dotenv, &prefix, &v);
    let read: Vec<(String, String)> = dotenvy::from_read_iter(block.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("dotenvy refused the block ({e}):\n{block}"));
    let want: Vec<(String, String)> = NAMES
        .iter()
        .zip(std::iter::once("1").chain(values))
        .map(|(name, value)| (format!("{prefix}{name}"), value.to_string()))
        .collect();
    assert_eq!(read, want, "the block read back differently:\n{block}");
}
