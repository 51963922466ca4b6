//! JSON text → [`serde_json::Value`]. Every reader in this crate that takes JSON text parses it with serde_json
//! ([`parse`]); each also has a `_with` form that takes the parser, so the page can hand over the browser's own
//! `JSON.parse` and leave serde_json's parser out of its WebAssembly. What the readers make of the parsed value is
//! the same either way.

use serde_json::Value;

/// A JSON parser: `None` when the text is not JSON.
pub type Parse = fn(&str) -> Option<Value>;

/// serde_json's parser (the proxy, the double, the tests).
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_or_none() {
        assert_eq!(
            parse(r#" {"a": [1, "x", null]} "#),
            Some(serde_json::json!({"a": [1, "x", null]}))
        );
        assert_eq!(parse(""), None);
        assert_eq!(parse("<html>"), None);
        assert_eq!(parse("{\"a\":1} trailing"), None);
    }
}
