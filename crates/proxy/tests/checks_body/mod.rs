//! The token-body rules' property, shared by `tests/body_properties.rs` (proptest) and the `token_body` fuzz target
//! (fuzz/): whatever body arrives, the held secret is sent only in a request that Kommo — PHP, reading a form's
//! `client.id`/`client id`/`client_id[]` as `client_id` and the last copy of a name winning — reads as a code
//! exchange (or, when allowed, a refresh) for the held integration; every other field is read as it was sent; and a
//! body that is not filled goes on byte for byte.

#![allow(dead_code)]

use axum::body::Bytes;
use kommo_proxy::held_secret::fill_secret;
use kommo_proxy::token_body::{php_field_name, refuse_repeated_fields, SINGLE_FIELDS};
use kommo_proxy::Config;
use serde_json::{Map, Value};

/// The held integration's id and secret.
pub const HELD_ID: &str = "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e";
pub const HELD_SECRET: &str = "HeldSecretNeverElsewhere";

/// `name` as Kommo reads it from a form: the last pair whose PHP name is `name`.
fn form_reads(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .filter(|(k, _)| php_field_name(k) == name)
        .last()
        .map(|(_, v)| v.into_owned())
}

/// `name` as Kommo reads it from a JSON object (the last copy wins, as in PHP's json_decode and serde_json).
fn json_reads(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Run the token route's body rules on `body` as the route does (repeats refused first, then the held secret), with
/// the held-secret options given, and check the property above.
pub fn token_body(form: bool, signs_refresh: bool, pass_through: bool, body: &[u8]) {
    let repeated = refuse_repeated_fields(form, body);
    if form && repeated.is_ok() {
        for field in SINGLE_FIELDS {
            let copies = form_urlencoded::parse(body)
                .filter(|(k, _)| php_field_name(k) == *field)
                .count();
            assert!(
                copies <= 1,
                "{field} came {copies} times and was not refused"
            );
        }
    }
    if repeated.is_err() {
        return;
    }
    let config = Config {
        client_id: Some(HELD_ID.to_string()),
        client_secret: Some(HELD_SECRET.to_string()),
        held_secret_signs_refresh: signs_refresh,
        pass_through_other_clients: pass_through,
        ..Config::default()
    };
    let content_type = form.then(|| "application/x-www-form-urlencoded".to_string());
    let Ok((out, _)) = fill_secret(&config, content_type, Bytes::copy_from_slice(body)) else {
        return;
    };
    if out.as_ref() == body {
        return;
    }
    // Filled: read both bodies as Kommo would.
    let read = |bytes: &[u8], name: &str| -> Option<String> {
        if form {
            form_reads(bytes, name)
        } else {
            let map: Map<String, Value> =
                serde_json::from_slice(bytes).expect("a filled JSON body is an object");
            json_reads(&map, name)
        }
    };
    let shown = String::from_utf8_lossy(body);
    assert_eq!(
        read(&out, "client_id").as_deref(),
        Some(HELD_ID),
        "secret filled for another id: {shown:?}"
    );
    assert_eq!(
        read(&out, "client_secret").as_deref(),
        Some(HELD_SECRET),
        "{shown:?}"
    );
    let grant = read(&out, "grant_type");
    assert!(
        grant.as_deref() == Some("authorization_code")
            || (signs_refresh && grant.as_deref() == Some("refresh_token")),
        "secret filled into grant_type {grant:?}: {shown:?}"
    );
    for field in SINGLE_FIELDS.iter().filter(|f| **f != "client_secret") {
        assert_eq!(
            read(&out, field),
            read(body, field),
            "{field} changed on the way: {shown:?}"
        );
    }
}
