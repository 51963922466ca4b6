//! Every user-facing string of the page: the fields of [`Tx`] here, their English in `en.rs` and their Russian in
//! `ru.rs`. Kommo's own hints are explained by [`kommo::Hint::explain`]; everything else lives here.

pub use kommo::Lang;

mod en;
mod ru;

use en::{EN, EN_LATER};
pub use ru::{preload_russian, russian};
#[cfg(test)]
use ru::{RU, RU_LATER};

/// `{}` placeholders are filled in order by [`fill`].
// Serialize only for the tests, which read every field by name (no cost to the page).
#[cfg_attr(test, derive(serde::Serialize))]
pub struct Tx {
    pub lang_label: &'static str,
    pub title: &'static str,
    pub subtitle: &'static str,
    pub demo_badge: &'static str,
    pub demo_intro: &'static str,
    pub use_real: &'static str,
    pub demo_tag: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub copy_failed: &'static str,
    pub show: &'static str,
    pub hide: &'static str,
    pub steps_label: &'static str,
    pub step_setup: &'static str,
    pub step_consent: &'static str,
    pub step_return: &'static str,
    pub step_exchange: &'static str,
    pub step_result: &'static str,
    /// Screen-reader note on a step that a pasted token made unnecessary.
    pub step_skipped: &'static str,

    // Setup
    pub setup_intro: &'static str,
    pub service: &'static str,
    pub service_kommo: &'static str,
    pub service_amocrm: &'static str,
    pub service_custom: &'static str,
    pub consent_base: &'static str,
    pub consent_base_help: &'static str,
    pub err_url_required: &'static str,
    pub err_not_url: &'static str,
    pub err_insecure_http: &'static str,
    pub client_id: &'static str,
    pub client_id_help: &'static str,
    pub err_client_id_empty: &'static str,
    pub err_client_id_uuid: &'static str,
    pub secret: &'static str,
    pub secret_help: &'static str,
    pub secret_held: &'static str,
    /// The proxy holds the secret for code exchanges only.
    pub secret_held_code_only: &'static str,
    pub remember_secret: &'static str,
    pub redirect_uri: &'static str,
    pub redirect_help: &'static str,
    pub redirect_elsewhere: &'static str,
    pub proxy_url: &'static str,
    pub proxy_help: &'static str,
    pub proxy_checking: &'static str,
    pub proxy_ok: &'static str,
    pub proxy_holds_this: &'static str,
    pub proxy_holds_other: &'static str,
    pub proxy_holds_none: &'static str,
    pub proxy_missing: &'static str,
    pub proxy_cross_origin: &'static str,
    /// A link named a proxy on another origin; it waits for a click.
    pub proxy_offered: &'static str,
    pub proxy_offered_use: &'static str,
    pub prefix: &'static str,
    pub prefix_help: &'static str,
    pub err_prefix: &'static str,
    pub share_link: &'static str,
    pub share_help: &'static str,
    pub setup_next: &'static str,

    // Consent
    pub consent_intro: &'static str,
    pub consent_intro_elsewhere: &'static str,
    pub consent_blocked: &'static str,
    pub consent_url: &'static str,
    pub consent_url_help: &'static str,
    pub consent_custom_warn: &'static str,
    pub go_same_tab: &'static str,
    pub go_popup: &'static str,
    pub popup_blocked: &'static str,
    pub popup_waiting: &'static str,
    pub popup_closed: &'static str,
    pub no_crypto: &'static str,
    pub secret_not_kept: &'static str,
    pub popup_done: &'static str,

    // Return
    pub retry: &'static str,
    pub landed_summary: &'static str,
    pub landed_label: &'static str,
    pub landed_help: &'static str,
    pub landed_read: &'static str,
    pub landed_empty: &'static str,
    pub landed_no_return: &'static str,
    pub landed_other_redirect: &'static str,
    pub err_redirect_fragment: &'static str,
    pub start_over_confirm: &'static str,
    pub proxy_missing_other_origin: &'static str,
    pub proxy_holds_some: &'static str,
    pub start_over: &'static str,

    // Exchange
    pub exchange: &'static str,
    pub code_maybe_spent: &'static str,
    pub kommo_refused: &'static str,
    pub unexpected_cause: &'static str,
    pub unexpected_fix: &'static str,
    pub unreachable_cause: &'static str,
    pub unreachable_fix: &'static str,
    pub lost_cause: &'static str,
    pub not_json_cause: &'static str,
    pub not_json_fix: &'static str,
    pub proxy_said: &'static str,
    pub proxy_fix_account: &'static str,
    pub proxy_fix_request: &'static str,
    pub proxy_fix_client: &'static str,
    pub proxy_fix_rate: &'static str,
    pub proxy_fix_upstream: &'static str,
    /// A timeout or a connection broken after it was made: the code may have been used.
    pub proxy_fix_maybe_used: &'static str,
    pub proxy_fix_upstream_html: &'static str,
    pub proxy_fix_upstream_404: &'static str,
    /// A redirect (3xx) from the account host instead of an answer.
    pub proxy_fix_upstream_redirect: &'static str,
    pub proxy_fix_origin: &'static str,
    /// `secret_required`: a refresh without the secret to a proxy that signs code exchanges only.
    pub proxy_fix_secret_required: &'static str,
    pub proxy_fix_internal: &'static str,
    pub paste_empty: &'static str,
    pub paste_not_json: &'static str,

    // Result
    pub access_token: &'static str,
    pub refresh_token: &'static str,
    pub refresh_needs_client_id: &'static str,
    pub refresh_needs_secret: &'static str,
    /// The proxy holds the secret but signs code exchanges only.
    pub refresh_needs_secret_code_only: &'static str,
    pub long_lived_token_needed: &'static str,
    pub pasted_host_invalid: &'static str,
    /// The proxy did not answer an API check request ({url}).
    pub api_no_proxy: &'static str,
    /// An API check answer was lost on the way ({url}).
    pub api_answer_lost: &'static str,
    /// A 403 where any user is allowed: Kommo blocks the proxy's IP (the API check's account, an HTML 403 answer).
    pub ip_blocked: &'static str,
    pub footer: &'static str,

    // Parts of the page fetched later (crate::lazy)
    /// What a card's place says while its part is being fetched.
    pub part_loading: &'static str,
    /// A card's part could not be fetched; [`Tx::retry`] is the button beside it.
    pub part_failed: &'static str,
    /// The Russian strings could not be fetched: said in both languages (the page is in English then).
    pub russian_failed: &'static str,
    /// The button that fetches the Russian strings again.
    pub russian_retry: &'static str,
    pub state_nothing_stored: &'static str,
    pub state_missing: &'static str,
    pub state_mismatch: &'static str,
    pub malformed_duplicate: &'static str,
    pub malformed_code_and_error: &'static str,
    pub malformed_empty: &'static str,
    pub malformed_no_referer: &'static str,
    pub set_aside_title: &'static str,
    pub set_aside_nothing_pending: &'static str,
    pub set_aside_kept: &'static str,
    pub set_aside_crafted: &'static str,
}

/// The strings only the cards fetched later show (Return, Exchange, Result, Refresh, the token's inspection, the API
/// check, "Already have a token?"): apart from [`Tx`] so that their English travels with those parts, not in the first
/// load. Read through [`Tx::later`].
#[cfg_attr(test, derive(serde::Serialize))]
pub struct TxLater {
    pub return_code_for: &'static str,
    pub code_left: &'static str,
    pub code_expired: &'static str,
    pub client_id_differs: &'static str,
    pub host_invalid: &'static str,
    pub widget_install: &'static str,
    pub denied_title: &'static str,
    /// The consent page returned an error other than `access_denied`.
    pub consent_error_title: &'static str,
    pub denied_body: &'static str,
    pub consent_error: &'static str,
    pub state_title: &'static str,
    pub state_why: &'static str,
    pub malformed_title: &'static str,
    pub malformed_fix: &'static str,
    pub exchange_intro: &'static str,
    pub exchange_no_proxy: &'static str,
    pub exchanging: &'static str,
    pub exchange_again: &'static str,
    pub exchange_anyway: &'static str,
    pub need_secret: &'static str,
    pub go_secret: &'static str,
    pub exchanged: &'static str,
    pub raw_answer: &'static str,
    pub manual_summary: &'static str,
    /// Above the curl command, which holds the typed secret key or the placeholder `{}`.
    pub manual_intro: &'static str,
    pub manual_secret_placeholder: &'static str,
    pub paste_label: &'static str,
    pub use_pasted: &'static str,
    pub result_intro: &'static str,
    pub reveal_tokens: &'static str,
    pub hide_tokens: &'static str,
    pub expires: &'static str,
    pub lifetimes: &'static str,
    pub env_title: &'static str,
    pub env_help: &'static str,
    pub env_masked: &'static str,
    /// The legend of the env block's format picker.
    pub env_format: &'static str,
    /// The button that saves the chosen format as a file.
    pub download: &'static str,
    pub secret_missing_note: &'static str,
    pub refresh_token_needed: &'static str,
    pub result_intro_refreshed: &'static str,
    pub result_intro_long_lived: &'static str,
    pub long_lived_no_refresh: &'static str,
    pub lifetimes_long_lived: &'static str,
    pub refresh_title: &'static str,
    pub refresh_intro: &'static str,
    pub refresh_rotation: &'static str,
    pub refresh_unused_until: &'static str,
    pub refresh_done: &'static str,
    pub refresh_save_now: &'static str,
    pub refresh_now: &'static str,
    pub refreshing: &'static str,
    pub inspect_title: &'static str,
    pub jwt_unverified: &'static str,
    pub jwt_not_jwt: &'static str,
    pub jwt_unreadable: &'static str,
    pub claim_account_id: &'static str,
    pub claim_user_id: &'static str,
    pub claim_base_domain: &'static str,
    pub claim_api_domain: &'static str,
    pub claim_missing: &'static str,
    pub claim_aud: &'static str,
    pub claim_scopes: &'static str,
    pub claim_iat: &'static str,
    pub claim_nbf: &'static str,
    pub claim_exp: &'static str,
    pub countdown_left: &'static str,
    pub days_short: &'static str,
    pub token_expired: &'static str,
    pub claim_host_mismatch: &'static str,
    pub api_title: &'static str,
    pub api_intro: &'static str,
    pub api_pacing: &'static str,
    pub api_check: &'static str,
    pub api_check_again: &'static str,
    pub api_checking: &'static str,
    pub api_account: &'static str,
    pub api_users: &'static str,
    pub api_pipelines: &'static str,
    pub api_leads: &'static str,
    pub api_running: &'static str,
    pub api_skipped: &'static str,
    pub api_failed: &'static str,
    pub api_account_ok: &'static str,
    pub api_users_ok: &'static str,
    pub api_users_need_admin: &'static str,
    pub api_pipelines_ok: &'static str,
    pub api_leads_progress: &'static str,
    pub api_leads_ok: &'static str,
    pub api_leads_stopped: &'static str,
    pub api_stop: &'static str,
    pub api_summary_ok: &'static str,
    pub api_summary_users_admin: &'static str,
    pub api_summary_failed: &'static str,
    pub api_summary_stopped: &'static str,
    pub api_log_title: &'static str,
    pub api_log_help: &'static str,
    pub api_log_retry: &'static str,
    pub api_log_gave_up: &'static str,
    /// A request's duration in milliseconds.
    pub api_log_ms: &'static str,
    pub have_token_title: &'static str,
    pub have_token_intro: &'static str,
    pub long_lived_title: &'static str,
    pub long_lived_help: &'static str,
    pub long_lived_token: &'static str,
    /// The two account host fields and the pasted refresh token say which path they are for (distinct names for
    /// screen readers; the result has its own "Refresh token").
    pub long_lived_host: &'static str,
    pub refresh_host: &'static str,
    pub saved_refresh_token: &'static str,
    pub account_host_help: &'static str,
    pub use_long_lived: &'static str,
    pub paste_refresh_title: &'static str,
    pub paste_refresh_uses: &'static str,
    pub use_refresh_token: &'static str,
}

/// Fill `{}` placeholders in order.
pub fn fill(template: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut values = values.iter();
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        out.push_str(values.next().copied().unwrap_or(""));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

thread_local! {
    /// The Russian strings once they are here ([`install_russian`]): in a split build they arrive with their own
    /// wasm part (see [`russian`]), so the English-only first load does not carry them.
    static RUSSIAN: std::cell::Cell<Option<Russian>> = const { std::cell::Cell::new(None) };
}

/// The Russian strings, as their part hands them over: the first screen's and the later cards'.
#[derive(Clone, Copy)]
pub struct Russian {
    /// What [`tx`] gives for [`Lang::Ru`].
    pub tx: &'static Tx,
    /// What [`Tx::later`] gives for it.
    pub later: &'static TxLater,
}

/// Makes the Russian strings [`russian`] returned the ones [`tx`] gives for [`Lang::Ru`].
pub fn install_russian(strings: Russian) {
    RUSSIAN.with(|r| r.set(Some(strings)));
}

/// Whether [`tx`] has the Russian strings yet.
pub fn has_russian() -> bool {
    RUSSIAN.with(|r| r.get().is_some())
}

/// The strings for a language. Russian falls back to English until [`install_russian`] ran; the app does not render
/// in Russian before that (`crate::lazy`).
pub fn tx(lang: Lang) -> &'static Tx {
    match lang {
        Lang::En => &EN,
        Lang::Ru => RUSSIAN.with(|r| r.get()).map_or(&EN, |r| r.tx),
    }
}

impl Tx {
    /// The strings of the cards fetched later, in this language. Only those cards call it, so in a split build the
    /// English ones travel with their parts (the Russian ones with the Russian part).
    pub fn later(&self) -> &'static TxLater {
        match RUSSIAN.with(|r| r.get()) {
            Some(r) if std::ptr::eq(self, r.tx) => r.later,
            _ => &EN_LATER,
        }
    }
}

// Plain tests natively (`cargo test -p kommo-oauth-helper --lib`), and in headless Chromium with the page's browser
// tests (`--target wasm32-unknown-unknown`), where a plain `#[test]` would not run.
#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    #[test]
    fn fill_in_order() {
        assert_eq!(fill("a {} b {}", &["1", "2"]), "a 1 b 2");
        assert_eq!(fill("a {}", &[]), "a ");
        assert_eq!(fill("none", &["x"]), "none");
    }

    /// The braces of a string in order: `{}` (a placeholder [`fill`] fills) and any lone `{` or `}` it shows.
    fn braces(text: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            rest = &rest[i..];
            let (brace, len) = if rest.starts_with("{}") {
                ("{}", 2)
            } else if rest.starts_with('{') {
                ("{", 1)
            } else {
                ("}", 1)
            };
            out.push(brace);
            rest = &rest[len..];
        }
        out
    }

    #[test]
    fn braces_are_read_in_order() {
        assert_eq!(braces("a {} b {}"), ["{}", "{}"]);
        assert_eq!(braces("from { to } at {}"), ["{", "}", "{}"]);
        assert_eq!(braces("none"), Vec::<&str>::new());
    }

    /// [`fill`] puts the values in by position, so a string that has one `{}` fewer in one language loses a value
    /// there (and one more shows the next value in the wrong place). Every field of [`Tx`] and [`TxLater`] is read by name (through
    /// its test-only `Serialize`), so a field added later is checked too.
    #[test]
    fn every_string_has_the_same_placeholders_in_english_and_russian() {
        let fields = |tx: &Tx, later: &TxLater| {
            let mut map = match serde_json::to_value(tx).unwrap() {
                serde_json::Value::Object(map) => map,
                other => panic!("Tx serialized as {other}"),
            };
            match serde_json::to_value(later).unwrap() {
                serde_json::Value::Object(more) => map.extend(more),
                other => panic!("TxLater serialized as {other}"),
            }
            map
        };
        let (en, ru) = (fields(&EN, &EN_LATER), fields(&RU, &RU_LATER));
        assert!(en.len() > 200, "every field is read: {}", en.len());
        let mut differ = Vec::new();
        let mut with_placeholders = 0;
        for (field, en_text) in &en {
            let (en_text, ru_text) = (en_text.as_str().unwrap(), ru[field].as_str().unwrap());
            with_placeholders += usize::from(en_text.contains("{}"));
            if braces(en_text) != braces(ru_text) {
                differ.push(format!(
                    "{field}: {:?} in English, {:?} in Russian\n  en: {en_text}\n  ru: {ru_text}",
                    braces(en_text),
                    braces(ru_text)
                ));
            }
        }
        assert!(
            with_placeholders >= 40,
            "{with_placeholders} strings with {{}}"
        );
        assert!(
            differ.is_empty(),
            "placeholders differ:\n{}",
            differ.join("\n")
        );
    }
}
