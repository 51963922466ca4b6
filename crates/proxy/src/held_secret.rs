//! The held-secret policy: which token requests get the secret the proxy holds filled in, which pass as sent, and
//! which are refused.

use axum::body::Bytes;
use kommo::proxy::{ProxyError, ProxyErrorCode};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::token_body::is_form;

/// With held credentials: fill the secret into a request for the held integration that came with an empty one,
/// pass a non-empty one as sent, refuse other integrations unless configured. Without: pass everything as sent.
/// Returns the body to send and its content type (`application/json` when the request named none).
pub fn fill_secret(
    config: &Config,
    content_type: Option<String>,
    body: Bytes,
) -> Result<(Bytes, String), ProxyError> {
    let form = is_form(content_type.as_deref());
    let content_type = content_type.unwrap_or_else(|| "application/json".to_string());
    let Some((held_id, held_secret)) = config.held() else {
        return Ok((body, content_type));
    };
    let request = TokenBody::parse(form, &body)?;
    let id = request.client_id()?;
    if id != held_id {
        return if config.pass_through_other_clients {
            Ok((body, content_type))
        } else {
            Err(ProxyError::new(
                ProxyErrorCode::ClientNotAllowed,
                format!("this proxy holds the secret of integration {held_id} and does not pass requests for {id}"),
            ))
        };
    }
    if !request.secret_is_empty()? {
        return Ok((body, content_type));
    }
    may_sign(config, request.grant_type())?;
    Ok((request.with_secret(held_secret)?, content_type))
}

/// Whether the held secret may be filled into a request of this grant type: code exchanges always; refreshes only
/// with `held_secret_signs_refresh`, so that a leaked refresh token alone is no key to the account.
pub fn may_sign(config: &Config, grant_type: Option<&str>) -> Result<(), ProxyError> {
    match grant_type {
        Some("authorization_code") => Ok(()),
        Some("refresh_token") if config.held_secret_signs_refresh => Ok(()),
        other => Err(ProxyError::new(
            ProxyErrorCode::SecretRequired,
            format!(
                "this proxy fills in the secret it holds for code exchanges only, not for grant_type {}: send the secret key",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

fn not_a_token_request() -> ProxyError {
    ProxyError::new(
        ProxyErrorCode::BadRequest,
        "the body is not a token request (JSON or form with client_id, client_secret, grant_type, …)",
    )
}

/// A token request read for the policy: form pairs in order, or a JSON object.
enum TokenBody {
    Form(Vec<(String, String)>),
    Json(Map<String, Value>),
}

impl TokenBody {
    fn parse(form: bool, body: &[u8]) -> Result<Self, ProxyError> {
        if form {
            Ok(TokenBody::Form(
                form_urlencoded::parse(body).into_owned().collect(),
            ))
        } else {
            serde_json::from_slice(body)
                .map(TokenBody::Json)
                .map_err(|_| not_a_token_request())
        }
    }

    fn field(&self, name: &str) -> Option<&str> {
        match self {
            TokenBody::Form(pairs) => pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            TokenBody::Json(map) => map.get(name).and_then(Value::as_str),
        }
    }

    /// The integration id: the first `client_id` of a form, a JSON string.
    fn client_id(&self) -> Result<String, ProxyError> {
        self.field("client_id")
            .map(str::to_string)
            .ok_or_else(not_a_token_request)
    }

    /// Missing, empty (or JSON `null`); a JSON secret that is no string is no token request.
    fn secret_is_empty(&self) -> Result<bool, ProxyError> {
        match self {
            TokenBody::Json(map) => match map.get("client_secret") {
                None | Some(Value::Null) => Ok(true),
                Some(Value::String(s)) => Ok(s.is_empty()),
                Some(_) => Err(not_a_token_request()),
            },
            TokenBody::Form(_) => Ok(self.field("client_secret").is_none_or(str::is_empty)),
        }
    }

    fn grant_type(&self) -> Option<&str> {
        self.field("grant_type")
    }

    /// The body again, with `client_secret` set to `secret` (a form gets it as its last field).
    fn with_secret(self, secret: &str) -> Result<Bytes, ProxyError> {
        match self {
            TokenBody::Form(pairs) => {
                let mut out = form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs.iter().filter(|(k, _)| k != "client_secret") {
                    out.append_pair(k, v);
                }
                out.append_pair("client_secret", secret);
                Ok(Bytes::from(out.finish()))
            }
            TokenBody::Json(mut map) => {
                map.insert(
                    "client_secret".to_string(),
                    Value::String(secret.to_string()),
                );
                serde_json::to_vec(&map)
                    .map(Bytes::from)
                    .map_err(|_| not_a_token_request())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELD: &str = "held-id";

    /// A request and what must become of it: `Ok(None)` passed as sent, `Ok(Some(s))` sent with `s` in it, or refused.
    type Case<'a> = (
        &'a Config,
        Option<&'a str>,
        &'a str,
        Result<Option<&'a str>, ProxyErrorCode>,
    );
    const FORM: &str = "application/x-www-form-urlencoded";

    /// What became of a request: the body sent on, or the refusal's code.
    fn outcome(
        config: &Config,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<String, ProxyErrorCode> {
        fill_secret(
            config,
            content_type.map(str::to_string),
            Bytes::from(body.to_string()),
        )
        .map(|(b, _)| String::from_utf8(b.to_vec()).unwrap())
        .map_err(|e| e.proxy_error)
    }

    fn holding() -> Config {
        Config::default().with_credentials(HELD, "s3cret")
    }

    #[test]
    fn without_a_held_secret_everything_passes_byte_for_byte() {
        for body in ["", "not json", r#"{"client_id":"x","client_secret":""}"#] {
            let sent = fill_secret(&Config::default(), None, Bytes::from(body)).unwrap();
            assert_eq!(sent, (Bytes::from(body), "application/json".to_string()));
        }
        let sent = fill_secret(&Config::default(), Some(FORM.into()), Bytes::from("a=1")).unwrap();
        assert_eq!(sent.1, FORM, "the content type stays as sent");
    }

    #[test]
    fn the_held_secret_fills_an_empty_one_for_code_exchanges() {
        let c = holding();
        let code = r#""grant_type":"authorization_code","code":"c""#;
        for body in [
            format!(r#"{{"client_id":"{HELD}",{code}}}"#),
            format!(r#"{{"client_id":"{HELD}","client_secret":null,{code}}}"#),
            format!(r#"{{"client_id":"{HELD}","client_secret":"",{code}}}"#),
        ] {
            let sent: Value = serde_json::from_str(&outcome(&c, None, &body).unwrap()).unwrap();
            assert_eq!(sent["client_secret"], "s3cret", "{body}");
            assert_eq!(sent["code"], "c");
        }
        let form =
            format!("client_id={HELD}&client_secret=&grant_type=authorization_code&code=c%2B1");
        assert_eq!(
            outcome(&c, Some(FORM), &form).unwrap(),
            format!(
                "client_id={HELD}&grant_type=authorization_code&code=c%2B1&client_secret=s3cret"
            )
        );
    }

    #[test]
    fn what_the_policy_passes_as_sent_and_what_it_refuses() {
        let c = holding();
        let mut passing = holding();
        passing.pass_through_other_clients = true;
        let mut refreshing = holding();
        refreshing.held_secret_signs_refresh = true;
        let refresh = format!(r#"{{"client_id":"{HELD}","grant_type":"refresh_token"}}"#);
        let own = format!(
            r#"{{"client_id":"{HELD}","client_secret":"mine","grant_type":"refresh_token"}}"#
        );
        let other = r#"{"client_id":"other","client_secret":""}"#;
        let cases: [Case; 11] = [
            (&c, None, &own, Ok(None)),
            (
                &c,
                Some(FORM),
                "client_id=held-id&client_secret=mine",
                Ok(None),
            ),
            (&c, None, other, Err(ProxyErrorCode::ClientNotAllowed)),
            (
                &c,
                Some(FORM),
                "client_id=other",
                Err(ProxyErrorCode::ClientNotAllowed),
            ),
            (&passing, None, other, Ok(None)),
            (&c, None, &refresh, Err(ProxyErrorCode::SecretRequired)),
            (&refreshing, None, &refresh, Ok(Some("s3cret"))),
            (
                &c,
                None,
                r#"{"client_id":"held-id"}"#,
                Err(ProxyErrorCode::SecretRequired),
            ),
            (
                &c,
                None,
                r#"{"client_id":"held-id","client_secret":1}"#,
                Err(ProxyErrorCode::BadRequest),
            ),
            (
                &c,
                None,
                r#"{"client_id":7}"#,
                Err(ProxyErrorCode::BadRequest),
            ),
            (
                &c,
                Some(FORM),
                "grant_type=authorization_code",
                Err(ProxyErrorCode::BadRequest),
            ),
        ];
        for (config, content_type, body, expected) in cases {
            let got = outcome(config, content_type, body);
            match expected {
                Ok(None) => assert_eq!(got.as_deref(), Ok(body), "passed as sent"),
                Ok(Some(secret)) => assert!(got.unwrap().contains(secret), "{body}"),
                Err(code) => assert_eq!(got, Err(code), "{body}"),
            }
        }
        for junk in ["", "[]", "not json", r#""client_id""#] {
            assert_eq!(
                outcome(&c, None, junk),
                Err(ProxyErrorCode::BadRequest),
                "{junk}"
            );
        }
    }

    #[test]
    fn only_code_exchanges_are_signed_unless_refreshes_are_allowed() {
        let mut c = holding();
        assert!(may_sign(&c, Some("authorization_code")).is_ok());
        for grant in [Some("refresh_token"), Some("client_credentials"), None] {
            let e = may_sign(&c, grant).unwrap_err();
            assert_eq!(e.proxy_error, ProxyErrorCode::SecretRequired);
            assert!(
                e.message.contains(grant.unwrap_or("(none)")),
                "{}",
                e.message
            );
        }
        c.held_secret_signs_refresh = true;
        assert!(may_sign(&c, Some("refresh_token")).is_ok());
        assert!(may_sign(&c, Some("password")).is_err());
    }
}
