//! Property tests on stable: the properties of `checks` (shared with the libFuzzer targets in `fuzz/`) over
//! generated inputs — realistic shapes mixed with hostile pieces, and arbitrary text. A few seconds in all, so
//! `cargo test -p kommo` catches a regression; the fuzz targets search the same properties for minutes.

mod checks;

use kommo::setup::SetupLink;
use proptest::prelude::*;
use serde_json::Value;

/// A DNS-ish label, or one of the forms a URL parser reads as a number, or a bit of anything.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9-]{0,8}[a-z0-9]",
        2 => "[a-z0-9]{1,3}",
        2 => "[0-9]{1,4}",
        2 => "0[xX][0-9a-fA-F]{0,3}",
        1 => "0[0-7]{1,3}",
        1 => "xn--[a-z0-9]{1,6}",
        1 => "[a-zA-Z0-9_%@:/#\\[\\]. -]{0,4}",
        1 => "\\PC{0,3}",
        1 => Just(String::new()),
    ]
}

/// Dot-joined labels, sometimes with the edges people type into a configuration.
fn dotted(max: usize) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..=max),
        prop_oneof![Just(""), Just("."), Just(" ")],
        prop_oneof![4 => Just(""), 1 => Just("."), 1 => Just(" ")],
    )
        .prop_map(|(labels, head, tail)| format!("{head}{}{tail}", labels.join(".")))
}

fn suffixes() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            2 => dotted(3),
            1 => prop::sample::select(vec!["kommo.com", "amocrm.ru", "4", "0.0.1", "0x7f", "example.test"])
                .prop_map(str::to_string),
        ],
        0..4,
    )
}

/// A host candidate: a label under one of the suffixes, any dotted string, or anything.
fn host_under(suffixes: Vec<String>) -> impl Strategy<Value = (String, Vec<String>)> {
    let pick = if suffixes.is_empty() {
        Just("kommo.com".to_string()).boxed()
    } else {
        prop::sample::select(suffixes.clone()).boxed()
    };
    (
        prop_oneof![
            4 => (label(), pick).prop_map(|(l, s)| format!("{l}.{}", s.trim().trim_start_matches('.'))),
            2 => dotted(5),
            1 => "\\PC{0,30}",
        ],
        Just(suffixes),
    )
}

/// A return query: `key=value` pairs of the return's parameters and look-alikes, or a soup of the pieces queries
/// are made of, hostile ones included.
fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        6 => prop::sample::select(vec![
            "code", "error", "state", "referer", "client_id", "from_widget", "code?code", "%63ode", "Code",
            "error ", "", "utm_source",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,4}",
    ];
    let value = prop_oneof![
        4 => prop::sample::select(vec!["", "def502%2Babc", "s1", "kwid.kommo.com", "access_denied", "0", "%zz"])
            .prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ];
    let pair = (key, prop::option::of(value)).prop_map(|(k, v)| match v {
        Some(v) => format!("{k}={v}"),
        None => k,
    });
    let pairs = (prop::bool::ANY, prop::collection::vec(pair, 0..8))
        .prop_map(|(q, pairs)| format!("{}{}", if q { "?" } else { "" }, pairs.join("&")));
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "code", "error", "state", "referer", "client_id", "from_widget", "=", "&", "?", "#", "%", "%63ode",
            "%2B", "+", "kwid.kommo.com", "access_denied", "def502", "s1", "0", "%zz", ";", " ",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{0,4}",
    ];
    let soup = prop::collection::vec(piece, 0..16).prop_map(|p| p.concat());
    prop_oneof![2 => pairs, 1 => soup]
}

fn stored_state() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        Just("s1".to_string()),
        Just(String::new()),
        "[0-9a-f]{32}",
        "\\PC{0,4}",
    ])
}

fn link_value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        3 => "[a-zA-Z0-9:/._-]{0,20}",
        1 => Just(String::new()),
        1 => "[ \t]{0,2}\\PC{0,10}[ \n]{0,2}",
        1 => "[&=#%+? ]{1,6}",
    ])
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "aud",
                        "sub",
                        "exp",
                        "scopes",
                        "account_id",
                        "hint",
                        "title"
                    ])
                    .prop_map(str::to_string),
                    "\\PC{0,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Answers as the page receives them: JSON of the right shapes and of wrong ones, or anything.
fn answer() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => json_value().prop_map(|v| v.to_string()),
        1 => json_value().prop_map(|v| serde_json::json!({"_embedded": {"leads": v.clone(), "users": v.clone(),
            "pipelines": v}, "id": 1, "name": "n", "subdomain": "s"}).to_string()),
        1 => json_value().prop_map(|v| serde_json::json!({"proxy_error": "upstream_timeout", "message": v,
            "holds_secret": true, "status": "ok", "version": "1"}).to_string()),
        1 => json_value().prop_map(|v| serde_json::json!({"token_type": "Bearer", "expires_in": 86400,
            "access_token": v, "refresh_token": "r", "hint": "Authorization code has expired"}).to_string()),
        1 => "\\PC{0,40}",
    ]
}

/// Something like `/healthz`'s answer: its keys (and others) with values of the right type, the wrong one or null,
/// sometimes missing; now and then not an object at all.
fn health_value() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        3 => "\\PC{0,8}".prop_map(Value::String),
        3 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(Value::from),
        1 => json_value(),
    ];
    let key = prop_oneof![
        4 => prop::sample::select(vec!["status", "version", "holds_secret", "client_id", "signs_refresh"])
            .prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ];
    // A valid answer, then one key set to any value (or an extra key): the readers must agree on each.
    let valid = (
        "\\PC{0,8}",
        any::<bool>(),
        prop::option::of(prop::option::of("[0-9a-f-]{0,12}")),
        prop::option::of(prop::option::of(any::<bool>())),
    )
        .prop_map(|(version, holds, client, signs)| {
            let mut m = serde_json::Map::new();
            m.insert("status".into(), "ok".into());
            m.insert("version".into(), version.into());
            m.insert("holds_secret".into(), holds.into());
            // Outer None: absent; Some(None): null.
            if let Some(c) = client {
                m.insert("client_id".into(), c.map_or(Value::Null, Value::from));
            }
            if let Some(s) = signs {
                m.insert("signs_refresh".into(), s.map_or(Value::Null, Value::from));
            }
            m
        });
    let changed =
        (valid, prop::option::of((key.clone(), field.clone()))).prop_map(|(mut m, change)| {
            if let Some((k, v)) = change {
                m.insert(k, v);
            }
            Value::Object(m)
        });
    prop_oneof![
        4 => changed,
        4 => prop::collection::btree_map(key, field, 0..7)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        1 => json_value(),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![200u16, 204, 400, 401, 403, 429, 502, 504]),
        any::<u16>()
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn accepted_hosts_are_one_label_under_a_suffix_and_a_domain_url(
        (input, suffixes) in suffixes().prop_flat_map(host_under)
    ) {
        let suffixes: Vec<&str> = suffixes.iter().map(String::as_str).collect();
        checks::host(&input, &suffixes);
    }

    #[test]
    fn arbitrary_text_is_never_an_ip_host(input in "\\PC{0,40}", suffix in "\\PC{0,12}") {
        checks::host(&input, &[&suffix]);
    }

    #[test]
    fn callback_readers_agree(q in query(), stored in stored_state()) {
        checks::callback(&q, stored.as_deref());
    }

    #[test]
    fn setup_links_round_trip(
        service in link_value(), consent_base in link_value(), client_id in link_value(),
        redirect_uri in link_value(), proxy in link_value(), prefix in link_value(), demo in any::<bool>()
    ) {
        checks::setup_round_trip(SetupLink { service, consent_base, client_id, redirect_uri, proxy, prefix, demo });
    }

    #[test]
    fn jwt_payloads_read_back(payload in json_value()) {
        checks::jwt_round_trip(&payload);
        checks::jwt_payload(payload.to_string().as_bytes());
    }

    #[test]
    fn health_reader_agrees_with_serde(value in health_value()) {
        checks::health(&value);
    }

    #[test]
    fn answers_are_read_without_surprises(status in status(), body in answer()) {
        checks::token_answer(status, &body);
        checks::api_answer(status, &body);
        checks::proxy_answer(&body);
    }

    #[test]
    fn masking_leaves_no_token(
        token in "[A-Za-z0-9._-]{8,24}", before in "[a-z .]{0,8}", reps in 1usize..4, cut in 0usize..24
    ) {
        // The token, repeated and cut, so that copies overlap and abut.
        let tail = &token[cut.min(token.len())..];
        let text = format!("{before}{}{tail}{before}", token.repeat(reps));
        checks::mask(&text, &token);
    }

    /// No reader panics on any text: every reader of untrusted input, fed the same arbitrary string.
    #[test]
    fn no_reader_panics(text in "\\PC{0,64}", bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        for t in [&text, &lossy] {
            checks::callback(t, Some(t));
            checks::pasted(t);
            checks::setup_fragment(t);
            checks::jwt(t);
            checks::token_answer(200, t);
            checks::api_answer(200, t);
            checks::proxy_answer(t);
            checks::host(t, &[t]);
            let _ = kommo::consent::parse_client_id(t);
            let _ = kommo::setup::is_loopback_host(t);
        }
        checks::jwt_payload(&bytes);
    }
}

/// The queries of issue 17 and their neighbours, pinned.
#[test]
fn callback_readers_agree_on_the_reported_query() {
    for q in [
        "?code?code=def502%2Babc&state=s1&referer=kwid.kommo.com&state",
        "?code=def502%2Babc&state=s1&referer=kwid.kommo.com&state",
        "?code=a&code=b",
        "?state=a&state=b",
        "",
        "?",
    ] {
        checks::callback(q, Some("s1"));
    }
}

/// The hosts of issue 17, pinned: each must be refused under the suffix that once let it through.
#[test]
fn numeric_suffixes_and_hosts_are_refused() {
    checks::host("m.4", &["4"]);
    checks::host("0x7f.0.0.1", &["0.0.1"]);
    assert!(kommo::AccountHost::parse_with("m.4", ["4"]).is_err());
    assert!(kommo::AccountHost::parse_with("0x7f.0.0.1", ["0.0.1"]).is_err());
}
