//! The env block's property, kept apart from `checks`: a rendered `.env`
//! block, read back by `dotenvy` (the parser Rust apps load it with), defines exactly the block's variables with
//! exactly its values. Shared by `tests/env_roundtrip.rs` (proptest) and the `env_block` fuzz target.

#![allow(dead_code)]

use kommo::env::{render_block, EnvFormat, EnvValues, Hazard, NAMES};

/// `values` are the seven variable values after `ENABLED` (domain, account host, client id, secret, redirect URI,
/// access token, refresh token). Values holding `$` are not checked: no rendering is read back exactly by every
/// parser of the dotenv family (some expand it), so the renderer reports those instead. A block the format refuses
/// must be refused for a reason the value really has: a CR or a backtick in a value that needs double quotes (the
/// only forms no `.env` quoting carries exactly), naming that variable.
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
    let want: Vec<(String, String)> = NAMES
        .iter()
        .zip(std::iter::once("1").chain(values))
        .map(|(name, value)| (format!("{prefix}{name}"), value.to_string()))
        .collect();
    let block = match render_block(EnvFormat::Dotenv, &prefix, &v) {
        Ok(block) => block.text,
        Err(refusal) => {
            assert!(!refusal.problems.is_empty(), "a refusal names no variable");
            for p in &refusal.problems {
                let (_, value) = want
                    .iter()
                    .find(|(name, _)| *name == p.variable)
                    .unwrap_or_else(|| {
                        panic!("the refusal names {}, not in the block", p.variable)
                    });
                let why = match p.hazard {
                    Hazard::CarriageReturn => value.contains('\r'),
                    Hazard::Backtick => value.contains('`'),
                    _ => false,
                };
                assert!(
                    why,
                    "{} refused for {:?} but its value is {value:?}",
                    p.variable, p.hazard
                );
            }
            return;
        }
    };
    let read: Vec<(String, String)> = dotenvy::from_read_iter(block.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("dotenvy refused the block ({e}):\n{block}"));
    assert_eq!(read, want, "the block read back differently:\n{block}");
}
