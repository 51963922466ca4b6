//! Reading (not verifying) the access token's JWT payload.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// Why a token could not be read as a JWT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a JWT (it should be three dot-separated parts)")]
    NotThreeParts,
    #[error("the token's payload is not valid base64url")]
    BadBase64,
    #[error("the token's payload is not a JSON object")]
    NotJson,
}

/// The claims Kommo puts into an access token. Every field is optional: older tokens lack some.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    /// `aud`: the integration id.
    pub aud: Option<String>,
    pub jti: Option<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    /// `sub`: the user id.
    pub sub: Option<String>,
    pub grant_type: Option<String>,
    pub account_id: Option<i64>,
    pub base_domain: Option<String>,
    pub api_domain: Option<String>,
    pub version: Option<i64>,
    pub scopes: Vec<String>,
    /// The whole payload, as sent.
    pub raw: Value,
}

fn as_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => items.first().and_then(|i| as_string(Some(i))),
        _ => None,
    }
}

fn as_int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Decode the payload (the middle part). The signature is **not** checked: the browser has no key.
pub fn decode_payload(token: &str) -> Result<Claims, JwtError> {
    decode_payload_with(token, crate::json::parse)
}

/// [`decode_payload`] with the JSON parser given (see [`crate::json`]).
pub fn decode_payload_with(token: &str, parse: crate::json::Parse) -> Result<Claims, JwtError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(JwtError::NotThreeParts);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| JwtError::BadBase64)?;
    // JSON is UTF-8: a payload that is not cannot be JSON.
    let text = String::from_utf8(bytes).map_err(|_| JwtError::NotJson)?;
    let raw: Value = parse(&text).ok_or(JwtError::NotJson)?;
    let obj = raw.as_object().ok_or(JwtError::NotJson)?;
    let scopes = match obj.get("scopes") {
        Some(Value::Array(items)) => items.iter().filter_map(|i| as_string(Some(i))).collect(),
        Some(Value::String(s)) => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Claims {
        aud: as_string(obj.get("aud")),
        jti: as_string(obj.get("jti")),
        iat: as_int(obj.get("iat")),
        nbf: as_int(obj.get("nbf")),
        exp: as_int(obj.get("exp")),
        sub: as_string(obj.get("sub")),
        grant_type: as_string(obj.get("grant_type")),
        account_id: as_int(obj.get("account_id")),
        base_domain: as_string(obj.get("base_domain")),
        api_domain: as_string(obj.get("api_domain")),
        version: as_int(obj.get("version")),
        scopes,
        raw,
    })
}

/// Encode a JSON payload as a base64url JWT segment (used by the Kommo double and tests).
pub fn encode_segment(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(json).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_kommo_claims() {
        let payload = json!({
            "aud": "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e", "jti": "j1", "iat": 1700000000, "nbf": 1700000000,
            "exp": 1700086400, "sub": "12345", "grant_type": "", "account_id": 31000001, "base_domain": "kommo.com",
            "version": 2, "scopes": ["crm", "files", "notifications"], "hash_uuid": "h", "api_domain": "api-g.kommo.com"
        });
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", encode_segment(&payload));
        let c = decode_payload(&token).unwrap();
        assert_eq!(
            c.aud.as_deref(),
            Some("0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e")
        );
        assert_eq!(c.sub.as_deref(), Some("12345"));
        assert_eq!(c.account_id, Some(31000001));
        assert_eq!(c.exp, Some(1700086400));
        assert_eq!(c.api_domain.as_deref(), Some("api-g.kommo.com"));
        assert_eq!(c.scopes, vec!["crm", "files", "notifications"]);
        assert_eq!(c.raw["hash_uuid"], "h");
    }

    #[test]
    fn older_tokens_and_odd_shapes() {
        let payload =
            json!({"aud": ["x"], "sub": 7, "account_id": "9", "exp": 1.7e9, "scopes": "crm files"});
        let c = decode_payload(&format!("h.{}.s", encode_segment(&payload))).unwrap();
        assert_eq!(c.aud.as_deref(), Some("x"));
        assert_eq!(c.sub.as_deref(), Some("7"));
        assert_eq!(c.account_id, Some(9));
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.scopes, vec!["crm", "files"]);
        assert_eq!(c.api_domain, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(decode_payload("def50200abc"), Err(JwtError::NotThreeParts));
        assert_eq!(decode_payload("a..c"), Err(JwtError::NotThreeParts));
        assert_eq!(decode_payload("a.!!!.c"), Err(JwtError::BadBase64));
        assert_eq!(
            decode_payload(&format!("a.{}.c", URL_SAFE_NO_PAD.encode("not json"))),
            Err(JwtError::NotJson)
        );
        assert_eq!(
            decode_payload(&format!("a.{}.c", URL_SAFE_NO_PAD.encode("[1]"))),
            Err(JwtError::NotJson)
        );
        assert_eq!(decode_payload(""), Err(JwtError::NotThreeParts));
        assert_eq!(
            decode_payload(&format!(
                "a.{}.c",
                URL_SAFE_NO_PAD.encode(b"{\"a\":\"\xff\"}")
            )),
            Err(JwtError::NotJson)
        );
    }

    #[test]
    fn the_parser_is_the_callers() {
        let token = format!("h.{}.s", encode_segment(&json!({"aud": "x"})));
        assert_eq!(
            decode_payload_with(&token, crate::json::parse),
            decode_payload(&token)
        );
        assert_eq!(
            decode_payload_with(&token, |_| None),
            Err(JwtError::NotJson)
        );
        assert_eq!(
            decode_payload_with(&token, |t| Some(json!({"sub": t})))
                .unwrap()
                .sub
                .as_deref(),
            Some(r#"{"aud":"x"}"#)
        );
    }
}
