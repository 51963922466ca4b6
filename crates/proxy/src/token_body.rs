//! Rules for token request bodies that hold with or without a held secret: which bodies are forms, and no field
//! that must come once may come twice.

use kommo::proxy::{ProxyError, ProxyErrorCode};

/// The token request fields a repeat of which is refused (see [`refuse_repeated_fields`]).
pub const SINGLE_FIELDS: &[&str] = &[
    "client_id",
    "client_secret",
    "grant_type",
    "code",
    "refresh_token",
    "redirect_uri",
];

/// Whether a `Content-Type` names a form (`application/x-www-form-urlencoded`, any parameters, any case).
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// Refuse a token request body that names one of [`SINGLE_FIELDS`] twice. We would read one copy (the first, for
/// the held-secret check) and Kommo's PHP another (the last): `client_id=<held>&client_id=<other>&client_secret=`
/// would get the held secret sent along with another integration's id. A repeat is never a valid request, so it is
/// refused with or without a held secret. A form field name PHP reads as one of these (`client.id`, `client id`,
/// `client_id[]`) counts as that field. A body that is neither a form nor a JSON object is left to the rest.
pub fn refuse_repeated_fields(form: bool, body: &[u8]) -> Result<(), ProxyError> {
    let repeated = if form {
        form_repeated_field(body)
    } else {
        json_repeated_field(body)
    };
    match repeated {
        Some(field) => Err(ProxyError::new(
            ProxyErrorCode::BadRequest,
            format!("the token request names {field} more than once; send each field once"),
        )),
        None => Ok(()),
    }
}

/// The first of [`SINGLE_FIELDS`] a form body names twice, PHP's way of reading names included.
fn form_repeated_field(body: &[u8]) -> Option<&'static str> {
    let mut seen = Vec::new();
    for (key, _) in form_urlencoded::parse(body) {
        let name = php_field_name(&key);
        if let Some(field) = SINGLE_FIELDS.iter().find(|f| **f == name) {
            if seen.contains(field) {
                return Some(*field);
            }
            seen.push(*field);
        }
    }
    None
}

/// The name PHP files a form field under: leading spaces dropped, a `[…]` suffix cut off (an array), `.` and ` `
/// (and a `[` without its `]`) read as `_`.
pub fn php_field_name(key: &str) -> String {
    let key = key.trim_start_matches(' ');
    let base = match key.find('[') {
        Some(i) if key[i..].contains(']') => &key[..i],
        _ => key,
    };
    base.replace(['.', ' ', '['], "_")
}

/// The first of [`SINGLE_FIELDS`] a JSON object body names twice at its top level (serde_json's own map keeps the
/// last copy silently); `None` for a body that repeats none or is not a JSON object.
fn json_repeated_field(body: &[u8]) -> Option<&'static str> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};

    struct Repeats;
    impl<'de> Visitor<'de> for Repeats {
        type Value = Option<&'static str>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = Vec::new();
            let mut repeated = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if repeated.is_some() {
                    continue;
                }
                if let Some(field) = SINGLE_FIELDS.iter().find(|f| **f == key) {
                    if seen.contains(field) {
                        repeated = Some(*field);
                    }
                    seen.push(*field);
                }
            }
            Ok(repeated)
        }
    }

    let mut de = serde_json::Deserializer::from_slice(body);
    let repeated = de.deserialize_map(Repeats).ok()?;
    de.end().ok()?;
    repeated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_told_by_their_content_type() {
        for ct in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
            " application/x-www-form-urlencoded ;x=y",
        ] {
            assert!(is_form(Some(ct)), "{ct}");
        }
        for ct in [None, Some("application/json"), Some("text/plain"), Some("")] {
            assert!(!is_form(ct), "{ct:?}");
        }
    }

    #[test]
    fn php_reads_dots_spaces_and_arrays_as_the_plain_name() {
        for (key, name) in [
            ("client_id", "client_id"),
            ("client.id", "client_id"),
            ("client id", "client_id"),
            ("  client_id", "client_id"),
            ("client_id[]", "client_id"),
            ("client_id[x]", "client_id"),
            ("client[id", "client_id"),
            ("code", "code"),
        ] {
            assert_eq!(php_field_name(key), name, "{key:?}");
        }
    }

    #[test]
    fn a_field_that_must_come_once_may_not_come_twice() {
        let repeated = |form: bool, body: &str| {
            refuse_repeated_fields(form, body.as_bytes())
                .err()
                .map(|e| (e.proxy_error, e.message))
        };
        // (form?, body, the field named twice)
        for (form, body, field) in [
            (true, "client_id=a&client_id=b", "client_id"),
            (true, "client_id=a&client.id=b", "client_id"),
            (true, "code=1&grant_type=x&code%5B%5D=2", "code"),
            (true, "redirect_uri=a&x=1&redirect+uri=b", "redirect_uri"),
            (
                false,
                r#"{"client_secret":"","client_secret":"x"}"#,
                "client_secret",
            ),
            (
                false,
                r#"{"a":{"code":1},"refresh_token":"r","refresh_token":"s"}"#,
                "refresh_token",
            ),
        ] {
            let (code, message) = repeated(form, body).unwrap_or_else(|| panic!("{body}"));
            assert_eq!(code, ProxyErrorCode::BadRequest);
            assert!(
                message.contains(&format!("names {field} more than once")),
                "{message}"
            );
        }
        // Nothing repeated, a repeat of another field, nested keys, or not a form/object: left to the rest.
        for (form, body) in [
            (
                true,
                "client_id=a&client_secret=&grant_type=authorization_code",
            ),
            (true, "scope=a&scope=b"),
            (false, r#"{"client_id":"a","extra":{"client_id":"b"}}"#),
            (false, r#"{"state":1,"state":2}"#),
            (false, r#"[{"code":1},{"code":2}]"#),
            (false, r#"{"code":1,"code":2"#),
            (false, "code=1&code=2"),
        ] {
            assert_eq!(repeated(form, body), None, "{body}");
        }
    }
}
