//! The token-body rules for arbitrary bodies (see `checks_body`): the held secret goes only where Kommo reads the
//! held integration's code exchange, whatever the body's names, copies and encodings.

mod checks_body;

use kommo_proxy::token_body::SINGLE_FIELDS;
use proptest::prelude::*;

/// The token fields, then `extra` spellings, as a strategy of names (mostly these, sometimes any `other` text).
fn names(extra: &[&'static str], other: &'static str) -> impl Strategy<Value = String> {
    let fixed = prop::sample::select([SINGLE_FIELDS, extra].concat()).prop_map(str::to_string);
    prop_oneof![4 => fixed, 1 => other]
}

/// A form body made of token field names (plain, PHP-equivalent spellings, near misses) and values around the held
/// id, the two grants and the empty secret.
fn form_body() -> impl Strategy<Value = String> {
    let name = names(
        &[
            "client.id",
            "client id",
            "client_id[]",
            "client.secret",
            "grant.type",
            "Client_id",
            "client%5Fid",
            "client_id%00",
        ],
        "[a-z_.\\[\\] %]{0,12}",
    );
    let value = prop_oneof![
        Just(checks_body::HELD_ID.to_string()),
        Just("other-id".to_string()),
        Just("authorization_code".to_string()),
        Just("refresh_token".to_string()),
        Just(String::new()),
        "[ -~]{0,12}",
    ];
    prop::collection::vec((name, value, any::<bool>()), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(n, v, encode)| {
                let v = if encode {
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                } else {
                    v
                };
                format!("{n}={v}")
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// A JSON body: an object of token fields with string, null or other values, sometimes repeated keys.
fn json_body() -> impl Strategy<Value = String> {
    let key = names(&["client\\u005fid"], "[a-z_]{0,10}");
    let value = prop_oneof![
        Just(format!("\"{}\"", checks_body::HELD_ID)),
        Just("\"authorization_code\"".to_string()),
        Just("\"refresh_token\"".to_string()),
        Just("\"\"".to_string()),
        Just("null".to_string()),
        Just("1".to_string()),
        Just("[]".to_string()),
        "\"[a-z0-9-]{0,8}\"",
    ];
    prop::collection::vec((key, value), 0..7).prop_map(|pairs| {
        let inner: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", inner.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_form_gets_the_held_secret_only_for_the_held_integration(
        body in form_body(), signs_refresh in any::<bool>(), pass_through in any::<bool>(),
    ) {
        checks_body::token_body(true, signs_refresh, pass_through, body.as_bytes());
    }

    #[test]
    fn a_json_body_gets_the_held_secret_only_for_the_held_integration(
        body in json_body(), signs_refresh in any::<bool>(), pass_through in any::<bool>(),
    ) {
        checks_body::token_body(false, signs_refresh, pass_through, body.as_bytes());
    }
}

/// The property is not vacuous: a plain code exchange for the held integration is filled (and checked), and one
/// for another integration is not.
#[test]
fn the_check_sees_filled_bodies() {
    use axum::body::Bytes;
    let config = kommo_proxy::Config {
        client_id: Some(checks_body::HELD_ID.to_string()),
        client_secret: Some(checks_body::HELD_SECRET.to_string()),
        ..kommo_proxy::Config::default()
    };
    let body = format!(
        "client_id={}&client_secret=&grant_type=authorization_code&code=x",
        checks_body::HELD_ID
    );
    let (out, _) = kommo_proxy::held_secret::fill_secret(
        &config,
        Some("application/x-www-form-urlencoded".into()),
        Bytes::from(body.clone()),
    )
    .expect("filled");
    assert_ne!(out.as_ref(), body.as_bytes());
    checks_body::token_body(true, false, false, body.as_bytes());
}
