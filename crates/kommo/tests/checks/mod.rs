//! The properties every reader of untrusted input in `kommo` must keep, written once as plain functions that
//! panic when a property breaks. Two drivers call them: the property tests on stable (`tests/properties.rs`, with
//! proptest's generated inputs, run by `cargo test -p kommo`) and the libFuzzer targets (`fuzz/`, which include this
//! file by path). Each function takes what a reader receives — raw text — and checks, besides "no panic", what
//! must hold of every answer.

#![allow(dead_code)]

use kommo::api::{self, LeadPager, PageOutcome};
use kommo::callback::{self, looks_like_callback, parse_callback, read_pasted_return};
use kommo::consent;
use kommo::host::{self, AccountHost};
use kommo::jwt;
use kommo::outcome::{read_return, ReturnOutcome};
use kommo::proxy::{Health, ProxyError};
use kommo::setup::{self, SetupLink};
use kommo::token::{self, TokenFailure};
use serde_json::Value;

/// Property 1 (issue 17): an accepted account host is exactly one label under an allowed suffix and forms a valid
/// `https://` URL whose host is that domain, never an IP address; a host a URL parser reads as an IP address is
/// refused whatever the suffixes; an accepted configured suffix puts a domain, never an IP, under it.
///
/// `suffix_inputs` are suffixes as given in configuration: they go through [`host::parse_suffix`] first, and are
/// also passed raw (a caller may pass anything to [`AccountHost::parse_with`]).
pub fn host(input: &str, suffix_inputs: &[&str]) {
    let mut parsed = Vec::new();
    for raw in suffix_inputs {
        match host::parse_suffix(raw) {
            Ok(s) => {
                assert_domain(&format!("a.{s}"));
                assert_domain(&format!("0x7f.{s}"));
                assert!(!host::ends_in_number(&s), "{raw:?} → {s:?}");
                assert_eq!(host::parse_suffix(&s).as_ref(), Ok(&s), "not idempotent");
                parsed.push(s);
            }
            Err(e) => assert_explained(&e),
        }
    }
    let parsed: Vec<&str> = parsed.iter().map(String::as_str).collect();
    let defaults = host::DEFAULT_SUFFIXES;
    let whatwg_ip = url::Url::parse(&format!("https://{input}/"))
        .ok()
        .and_then(|u| u.host().map(|h| !matches!(h, url::Host::Domain(_))))
        .unwrap_or(false);
    for suffixes in [&parsed[..], suffix_inputs, defaults] {
        match AccountHost::parse_with(input, suffixes.iter().copied()) {
            Ok(h) => {
                assert!(!whatwg_ip, "{input:?} is an IP address to a URL parser");
                assert_eq!(h.as_str(), input);
                assert_eq!(h.to_string(), input);
                let (sub, base) = (h.subdomain(), h.base_domain());
                assert!(!sub.is_empty() && !sub.contains('.'), "{input:?}: {sub:?}");
                assert_eq!(format!("{sub}.{base}"), input);
                assert!(
                    suffixes.contains(&base),
                    "{input:?}: {base:?} is not one of {suffixes:?}"
                );
                assert_eq!(host::parse_suffix(base).as_deref(), Ok(base));
                assert_domain(input);
                assert_eq!(h.https_origin(), format!("https://{input}"));
            }
            Err(e) => assert_explained(&e),
        }
    }
}

/// `https://{host}/` is a valid URL whose host is exactly the domain `host`, with no port and path `/`.
fn assert_domain(host: &str) {
    let url = url::Url::parse(&format!("https://{host}/"))
        .unwrap_or_else(|e| panic!("https://{host}/ is no URL: {e}"));
    assert_eq!(
        url.host(),
        Some(url::Host::Domain(host)),
        "{host:?} is not read as that domain"
    );
    assert_eq!(url.port(), None);
    assert_eq!(url.path(), "/");
}

fn assert_explained(e: &kommo::HostError) {
    let en = e.explain(kommo::Lang::En);
    assert_eq!(en, e.to_string());
    assert!(!en.is_empty());
    let ru = e.explain(kommo::Lang::Ru);
    assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{ru}");
}

/// The callback readers agree on every query (the rule in `kommo::callback`'s docs): `looks_like_callback` is true
/// exactly when `parse_callback` gives anything but "not a callback", which is exactly when `read_return` gives an
/// outcome; a pasted address with that query is a return exactly then too; and a code is handed on only with the
/// stored state.
pub fn callback(query: &str, stored: Option<&str>) {
    let looks = looks_like_callback(query);
    let parsed = parse_callback(query);
    assert_eq!(
        looks,
        !matches!(parsed, Ok(None)),
        "{query:?}: looks_like_callback {looks}, parse_callback {parsed:?}"
    );
    let outcome = read_return(query, stored);
    assert_eq!(
        outcome.is_some(),
        looks,
        "{query:?}: read_return {outcome:?}"
    );
    match (&parsed, &outcome) {
        (Ok(Some(callback::Callback::Code(c))), Some(out)) => {
            assert!(!c.code.is_empty() && !c.referer.is_empty());
            let _ = c.account_host();
            let trusted = c.check_state(stored).is_ok();
            assert_eq!(
                matches!(out, ReturnOutcome::Code { .. }),
                trusted,
                "{out:?}"
            );
            if trusted {
                assert!(consent::state_matches(
                    stored.unwrap_or_default(),
                    c.state.as_deref().unwrap_or_default()
                ));
            }
        }
        (Ok(Some(callback::Callback::Error(e))), Some(out)) => {
            assert!(!e.error.is_empty());
            assert!(matches!(out, ReturnOutcome::Declined { .. }), "{out:?}");
        }
        (Err(e), Some(out)) => {
            assert!(!e.to_string().is_empty());
            assert!(matches!(out, ReturnOutcome::Malformed { .. }), "{out:?}");
        }
        _ => {}
    }
    if let Some(out) = &outcome {
        // What the page keeps across a reload reads back the same, and an untrusted code is never kept.
        let json = serde_json::to_string(out).expect("serializes");
        assert_eq!(
            &serde_json::from_str::<ReturnOutcome>(&json).expect("reads back"),
            out
        );
        let set_aside = out.not_ours(stored);
        assert_eq!(set_aside.is_none(), ours(out, stored), "{out:?}");
    }
    // The same query pasted as an address, and bare.
    for text in [
        format!("https://app.example/cb?{query}"),
        format!("?{query}"),
    ] {
        let expected_query = text.trim().split('#').next().unwrap_or_default();
        let expected_query = &expected_query[expected_query.find('?').map_or(0, |i| i + 1)..];
        let pasted = read_pasted_return(&text);
        assert_eq!(
            pasted.is_ok(),
            looks_like_callback(expected_query),
            "{text:?}: {pasted:?}"
        );
        if let Ok(p) = pasted {
            assert_eq!(p.query, expected_query);
            assert!(!matches!(parse_callback(&p.query), Ok(None)));
        }
    }
    pasted(query);
}

fn ours(out: &ReturnOutcome, stored: Option<&str>) -> bool {
    match out {
        ReturnOutcome::Code { .. } => true,
        ReturnOutcome::Declined { error } => {
            callback::check_state(stored, error.state.as_deref()).is_ok()
        }
        _ => false,
    }
}

/// A pasted address or query: never a panic; `Ok` only for text that holds a return by the rule, with the query
/// cut at the fragment; the landed address is what preceded the `?`.
pub fn pasted(text: &str) {
    match read_pasted_return(text) {
        Ok(p) => {
            assert!(!p.query.contains('#'), "{p:?}");
            assert!(looks_like_callback(&p.query), "{p:?}");
            assert!(!matches!(parse_callback(&p.query), Ok(None)), "{p:?}");
            assert!(text.contains(&p.query));
            if let Some(landed) = &p.landed {
                assert!(!landed.is_empty() && !landed.contains('?') && !landed.contains('#'));
                assert!(callback::same_redirect(landed, landed));
                assert_eq!(
                    callback::same_redirect(landed, text),
                    callback::same_redirect(text, landed)
                );
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// A setup link's fragment: never a panic, never a secret; what it reads writes back to a fragment that reads the
/// same; an integration id read from it is a lowercase UUID or refused.
pub fn setup_fragment(fragment: &str) {
    let Some(link) = SetupLink::from_fragment(fragment) else {
        return;
    };
    let again = SetupLink::from_fragment(&link.to_fragment());
    let mut normal = link.clone();
    for v in fields(&mut normal) {
        *v = v.take().filter(|s| !s.is_empty());
    }
    if normal == SetupLink::default() {
        assert_eq!(again, None);
    } else {
        assert_eq!(again, Some(normal));
    }
    if let Some(id) = &link.client_id {
        if let Ok(id) = consent::parse_client_id(id) {
            assert_eq!(id.len(), 36);
            assert_eq!(consent::parse_client_id(&id).as_ref(), Ok(&id));
            assert!(!id.bytes().any(|b| b.is_ascii_uppercase()));
        }
    }
    for base in [&link.consent_base, &link.proxy].into_iter().flatten() {
        let _ = setup::is_loopback_host(base);
    }
}

/// `SetupLink` → fragment → `SetupLink` gives the link back, its values trimmed and empty ones left out.
pub fn setup_round_trip(mut link: SetupLink) {
    let fragment = link.to_fragment();
    let back = SetupLink::from_fragment(&fragment);
    assert_eq!(SetupLink::from_fragment(&format!("#{fragment}")), back);
    for v in fields(&mut link) {
        *v = v
            .take()
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().to_string());
    }
    if link == SetupLink::default() {
        assert_eq!(back, None, "{fragment:?}");
    } else {
        assert_eq!(back, Some(link), "{fragment:?}");
    }
}

fn fields(l: &mut SetupLink) -> [&mut Option<String>; 6] {
    [
        &mut l.service,
        &mut l.consent_base,
        &mut l.client_id,
        &mut l.redirect_uri,
        &mut l.proxy,
        &mut l.prefix,
    ]
}

/// Reading a JWT never panics; `Ok` only for three non-empty parts whose middle is a JSON object, kept as `raw`.
pub fn jwt(token: &str) {
    if let Ok(c) = jwt::decode_payload(token) {
        assert!(c.raw.is_object());
        assert_eq!(token.trim().split('.').count(), 3);
        let obj = c.raw.as_object().expect("object");
        if let Some(Value::String(aud)) = obj.get("aud") {
            assert_eq!(c.aud.as_deref(), Some(aud.as_str()));
        }
        if let Some(Value::String(scopes)) = obj.get("scopes") {
            assert!(c
                .scopes
                .iter()
                .all(|s| !s.is_empty() && scopes.contains(s.as_str())));
        }
    }
    assert_eq!(
        jwt::decode_payload(token),
        jwt::decode_payload_with(token, kommo::json::parse)
    );
}

/// Any bytes as a JWT payload: read without a panic, and a JSON object in it comes back as `raw` exactly.
pub fn jwt_payload(payload: &[u8]) {
    use base64::Engine as _;
    let segment = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{segment}.c2ln");
    let read = jwt::decode_payload(&token);
    let value = std::str::from_utf8(payload)
        .ok()
        .and_then(kommo::json::parse);
    match value {
        Some(v) if v.is_object() => assert_eq!(read.expect("an object payload").raw, v),
        _ => assert!(read.is_err(), "{read:?}"),
    }
    jwt(&token);
}

/// A JSON value as the payload: `encode_segment` then `decode_payload` gives it back.
pub fn jwt_round_trip(payload: &Value) {
    let token = format!("h.{}.s", jwt::encode_segment(payload));
    match jwt::decode_payload(&token) {
        Ok(c) => assert_eq!(&c.raw, payload),
        Err(e) => assert!(!payload.is_object(), "{payload}: {e}"),
    }
}

/// The token endpoint's answer (also a curl answer pasted back): tokens only from a 2xx JSON object with a
/// non-empty access token; the proxy's own error recognised before anything else; a Kommo error only when it says
/// something; the same answer with serde_json given as the parser.
pub fn token_answer(status: u16, body: &str) {
    let read = token::read_token_answer(status, body);
    assert_eq!(
        read,
        token::read_token_answer_with(status, body, kommo::json::parse)
    );
    let value = kommo::json::parse(body);
    match &read {
        Ok(t) => {
            assert!((200..300).contains(&status));
            assert!(!t.access_token.is_empty());
            assert!(value.is_some_and(|v| ProxyError::from_value(&v).is_none()));
        }
        Err(TokenFailure::NotJson { status: s, .. }) => {
            assert_eq!(*s, status);
            assert!(value.is_none());
        }
        Err(TokenFailure::Proxy(p)) => {
            assert!(value
                .as_ref()
                .is_some_and(|v| v.get("proxy_error").is_some()));
            assert!(p.status() >= 400);
        }
        Err(TokenFailure::Kommo { status: s, error }) => {
            assert_eq!(*s, status);
            assert!(error.hint.is_some() || error.title.is_some() || error.detail.is_some());
            let hint = error.classify();
            assert_eq!(read.as_ref().err().and_then(TokenFailure::hint), Some(hint));
            let _ = (hint.explain(kommo::Lang::En), hint.explain(kommo::Lang::Ru));
        }
        Err(TokenFailure::Unexpected { status: s }) => assert_eq!(*s, status),
    }
    if let Err(e) = &read {
        assert!(!e.to_string().is_empty());
    }
}

/// Kommo's API answers (the API check): every reader and the leads pager take any body without a panic; the pager
/// moves only on a readable 2xx page with leads and ends on 204; a problem text always names the status; masking
/// leaves no ASCII token of 8 or more characters in the text.
pub fn api_answer(status: u16, body: &str) {
    if let Ok(a) = api::read_account(body) {
        let v = kommo::json::parse(body).expect("read from JSON");
        assert_eq!(v["id"].as_i64(), Some(a.id));
        assert_eq!(v["subdomain"].as_str(), Some(a.subdomain.as_str()));
    }
    let _ = api::read_users(body);
    let _ = api::read_pipelines(body);
    let leads = api::read_leads_page(body);
    let mut pager = LeadPager::default();
    let before = pager.clone();
    match pager.fold(status, body) {
        Ok(PageOutcome::More(n)) => {
            assert_eq!(leads, Ok(n));
            assert!(n > 0 && pager.page() == 2 && pager.total() == n);
        }
        Ok(PageOutcome::Done(total)) => {
            assert_eq!(total, 0);
            assert!(pager.is_done() && pager.next_path().is_none());
        }
        Err(_) => assert_eq!(pager, before, "a refused page moved the pager"),
    }
    let text = api::problem_text(status, body);
    assert!(text.starts_with(&format!("HTTP {status}")), "{text}");
    assert_eq!(
        text,
        api::problem_text_with(status, body, kommo::json::parse)
    );
    let _ = api::Status::of(status);
    let mut backoff = api::Backoff::new();
    for _ in 0..=api::MAX_RETRIES {
        if let Some(ms) = backoff.next_delay_ms(Some(body)) {
            assert!((api::BACKOFF_BASE_MS..=api::BACKOFF_CAP_MS).contains(&ms));
        }
    }
    assert_eq!(backoff.next_delay_ms(Some(body)), None);
    mask(body, body.get(..body.len().min(40)).unwrap_or(body));
}

/// `mask_in(text, token)` leaves no copy of an ASCII token of 8 or more characters in `text`; `mask_token` never
/// shows more than 7 of its characters.
pub fn mask(text: &str, token: &str) {
    let masked = api::mask_token(token);
    assert!(masked.chars().count() <= 8, "{masked:?}");
    let out = api::mask_in(text, token);
    if token.len() >= 8 && token.is_ascii() {
        assert!(!out.contains(token), "{token:?} left in {out:?}");
    } else if token.len() < 8 {
        assert_eq!(out, text);
    }
}

/// The proxy's own answers: its error body and `/healthz` read without a panic; a recognised error reads back from
/// its own JSON; `Health`'s decisions are consistent.
/// `/healthz`'s reader by hand (what the page uses) and the derived `Deserialize` read every object alike; the hand
/// reader takes nothing but objects (serde would also read the fields from an array, which no proxy writes).
pub fn health(value: &serde_json::Value) {
    let by_hand = Health::from_value(value);
    if value.is_object() {
        assert_eq!(
            by_hand,
            serde_json::from_value::<Health>(value.clone()).ok(),
            "{value}"
        );
    } else {
        assert_eq!(by_hand, None);
    }
    if let Some(h) = by_hand {
        let again = kommo::json::parse(&serde_json::to_string(&h).unwrap());
        assert_eq!(again.as_ref().and_then(Health::from_value), Some(h));
    }
}

pub fn proxy_answer(body: &str) {
    let Some(value) = kommo::json::parse(body) else {
        return;
    };
    if let Some(e) = ProxyError::from_value(&value) {
        assert!(value.get("proxy_error").is_some());
        let again = kommo::json::parse(&e.to_json()).and_then(|v| ProxyError::from_value(&v));
        assert_eq!(again.as_ref(), Some(&e));
        assert!(e.status() >= 400);
    }
    health(&value);
    if let Ok(h) = serde_json::from_value::<Health>(value.clone()) {
        for id in [None, h.client_id.as_deref(), Some("another")] {
            if h.holds_for_exchanges_only(id) {
                assert!(h.holds_secret_for(id));
            }
            if let Some(id) = id {
                if h.signs_refresh_for(id) {
                    assert!(h.holds_secret_for(Some(id)) && !h.holds_for_exchanges_only(Some(id)));
                }
            }
        }
        assert!(!h.holds_secret_for(Some("another")) || h.holds_secret);
    }
    token_answer(502, body);
}
