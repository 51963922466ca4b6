//! The page's JSON reading (`JSON.parse` carried into a `serde_json::Value`) against serde_json's parser.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p kommo-oauth-helper --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]

use kommo::{Health, TokenResponse};
use kommo_oauth_helper::json;
use serde_json::{json, Value};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn serde(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

#[wasm_bindgen_test]
fn reads_what_serde_json_reads() {
    for text in [
        r#"{"token_type":"Bearer","expires_in":86400,"access_token":"a.b.c","refresh_token":"def","server_time":1}"#,
        r#"{"hint":"Authorization code has expired","title":"Некорректный запрос","status":400,"detail":null}"#,
        r#"{"proxy_error":"upstream_not_json","message":"m","upstream_status":502,"upstream_body":"<html>\n\t\"x\"\u2028"}"#,
        r#" [1, -2, 0.5, -1.5e-3, 1e300, true, false, null, "", "\u00e9\ud83d\ude00\\/", [], {}] "#,
        r#"{"_embedded":{"leads":[{"id":1,"name":"Deal","price":1},{"id":2}]},"_total_items":2}"#,
        r#"{"a":1,"a":2,"b":{"c":[{"d":"e"}]}}"#,
        "9007199254740991",
        "-9007199254740991",
        r#""just a string""#,
    ] {
        assert_eq!(json::parse(text), serde(text), "{text}");
        assert!(json::parse(text).is_some(), "{text}");
    }
}

#[wasm_bindgen_test]
fn refuses_what_serde_json_refuses() {
    for text in [
        "",
        "   ",
        "<html><body>Bad Gateway</body></html>",
        "{\"a\":1} trailing",
        "{'a':1}",
        "{\"a\":1,}",
        "[1,]",
        "NaN",
        "Infinity",
        "01",
        "\u{feff}{}",
        "{\"a\":\"\u{1}\"}",
        "undefined",
    ] {
        assert_eq!(serde(text), None, "{text:?}");
        assert_eq!(json::parse(text), None, "{text:?}");
    }
}

#[wasm_bindgen_test]
fn nesting_is_capped_like_serde_json() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let objects = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    for text in [nested(127), objects(127)] {
        assert!(serde(&text).is_some());
        assert_eq!(json::parse(&text), serde(&text));
    }
    for text in [nested(128), objects(128), nested(100_000)] {
        assert_eq!(serde(&text), None);
        assert_eq!(json::parse(&text), None);
    }
}

#[wasm_bindgen_test]
fn integral_numbers_read_as_integers() {
    // serde_json keeps 1.0 a float; JSON.parse cannot tell 1.0 from 1. Readers asking for an integer accept it.
    assert_eq!(json::parse("[1.0, 1e3, -0]"), Some(json!([1, 1000, 0])));
    assert_eq!(json::parse("1.25"), Some(json!(1.25)));
}

#[wasm_bindgen_test]
fn typed_reading() {
    let tokens: TokenResponse = json::from_str(
        r#"{"token_type":"Bearer","expires_in":86400,"access_token":"a","refresh_token":"r","extra":[1]}"#,
    )
    .unwrap();
    assert_eq!(tokens.expires_in, 86400);
    assert_eq!(tokens.server_time, None);
    let health: Health =
        json::from_str(r#"{"status":"ok","version":"1","holds_secret":true,"client_id":null}"#)
            .unwrap();
    assert!(health.holds_secret);
    assert_eq!(json::from_str::<Health>(r#"{"status":"ok"}"#), None);
    assert_eq!(json::from_str::<Health>("<html>"), None);
}

/// What the page reads by hand from `JSON.parse`'s value, so that serde's value deserializer stays out of its first
/// load: `/healthz`'s answer (`Health::from_value`, checked against the derived `Deserialize` by the property tests
/// of `crates/kommo`) and the setup kept in sessionStorage, read back from what its `Serialize` writes.
#[wasm_bindgen_test]
fn the_first_load_s_readers_take_what_serde_takes() {
    let read = |text: &str| json::parse(text).as_ref().and_then(Health::from_value);
    let h = read(r#"{"status":"ok","version":"1","holds_secret":true,"client_id":null,"x":[1]}"#)
        .unwrap();
    assert!(h.holds_secret && h.client_id.is_none() && h.signs_refresh.is_none());
    assert_eq!(read(r#"{"status":"ok"}"#), None);
    assert_eq!(
        read(r#"{"status":"ok","version":"1","holds_secret":"yes"}"#),
        None
    );
    assert_eq!(read("<html>"), None);

    use kommo_oauth_helper::state::Setup;
    let mut setup = Setup::defaults("https://oauth.example.org/");
    setup.client_id = "2f1c0b8e-0000-4000-8000-000000000001".into();
    setup.consent_base = "https://ÿ.example/\"quoted\"\n".into();
    setup.demo = true;
    let text = serde_json::to_string(&setup).unwrap();
    assert_eq!(
        json::parse(&text).as_ref().and_then(Setup::from_value),
        Some(setup)
    );
    // A record the derived reader refused — a field missing or of another type — is refused alike: the page
    // starts from the defaults rather than from half a setup.
    let mut value: Value = serde(&text).unwrap();
    value["demo"] = json!("true");
    assert_eq!(Setup::from_value(&value), None);
    value.as_object_mut().unwrap().remove("demo");
    assert_eq!(Setup::from_value(&value), None);
    assert_eq!(Setup::from_value(&json!([])), None);
}
