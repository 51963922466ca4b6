//! The properties the fuzz targets check: the very functions the property tests of `crates/kommo` and
//! `crates/proxy` run (one source, two drivers), plus how a target's raw bytes are cut into a reader's inputs.

#[path = "../../crates/kommo/tests/checks/mod.rs"]
pub mod checks;

#[path = "../../crates/kommo/tests/checks_env/mod.rs"]
pub mod checks_env;

#[path = "../../crates/proxy/tests/checks_body/mod.rs"]
pub mod checks_body;

/// The input as text (invalid UTF-8 replaced, as a browser's decoder would).
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The text before the first newline, and what follows it (if there is a newline).
pub fn first_line(text: &str) -> (&str, Option<&str>) {
    match text.split_once('\n') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    }
}

/// A leading line of decimal digits as an HTTP status (200 without one), and the rest as the body.
pub fn status_and_body(text: &str) -> (u16, &str) {
    match text.split_once('\n') {
        Some((s, body))
            if !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (s.parse().unwrap_or(200), body)
        }
        _ => (200, text),
    }
}
