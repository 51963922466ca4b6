//! The consent (authorization) URL and the `state` value that protects the return.

use std::fmt;

/// Which service the integration belongs to. The consent page lives on the service's `www` host; tokens and the API
/// live on the account host that comes back in `referer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// Kommo, `https://www.kommo.com`.
    Kommo,
    /// amoCRM, `https://www.amocrm.ru`.
    AmoCrm,
    /// Any other consent base URL (the local Kommo double, the demo, tests), e.g. `http://127.0.0.1:8081`.
    Custom(String),
}

impl Service {
    /// The consent page's base URL, without a trailing slash.
    pub fn consent_base(&self) -> &str {
        match self {
            Service::Kommo => "https://www.kommo.com",
            Service::AmoCrm => "https://www.amocrm.ru",
            Service::Custom(base) => base.trim_end_matches('/'),
        }
    }

    /// A short key used in saved setup and shareable links.
    pub fn key(&self) -> &'static str {
        match self {
            Service::Kommo => "kommo",
            Service::AmoCrm => "amocrm",
            Service::Custom(_) => "custom",
        }
    }

    /// Inverse of [`Service::key`]; `custom` takes the base URL.
    pub fn from_key(key: &str, custom_base: &str) -> Option<Service> {
        match key {
            "kommo" => Some(Service::Kommo),
            "amocrm" => Some(Service::AmoCrm),
            "custom" => Some(Service::Custom(custom_base.to_string())),
            _ => None,
        }
    }
}

/// The documented `mode` values of the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Consent in a popup; Kommo closes the popup and sends the *main* window to the redirect URI.
    Popup,
    /// The redirect happens in the window that shows the consent page: in the same tab when the page navigated
    /// there, or inside the popup, whose redirect page must post the result to its opener and close itself.
    PostMessage,
}

impl Mode {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Popup => "popup",
            Mode::PostMessage => "post_message",
        }
    }

    /// Parse a query value.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "popup" => Some(Mode::Popup),
            "post_message" => Some(Mode::PostMessage),
            _ => None,
        }
    }
}

/// The way the page sends the user to consent. Both use `mode=post_message`: it is the only mode in which the
/// redirect happens in the window that showed the consent page, which is what both ways need (the same tab must
/// land back on this page; the popup must land on this page *inside the popup* so it can post to its opener while
/// the main page stays where it is). `mode=popup` would move the main window instead and lose the page's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    SameTab,
    Popup,
}

impl Way {
    pub fn mode(self) -> Mode {
        match self {
            Way::SameTab => Mode::PostMessage,
            Way::Popup => Mode::PostMessage,
        }
    }
}

/// `{base}/oauth?client_id=…&state=…&mode=…`. Only the documented parameters are sent: scopes are chosen in the
/// integration's settings, and the redirect URI is the one registered there.
pub fn consent_url(service: &Service, client_id: &str, state: &str, mode: Mode) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("state", state)
        .append_pair("mode", mode.as_str())
        .finish();
    format!("{}/oauth?{}", service.consent_base(), query)
}

/// A 128-bit `state`, hex encoded, from 16 random bytes supplied by the caller (`crypto.getRandomValues` in the
/// browser).
pub fn state_from_bytes(bytes: [u8; 16]) -> String {
    let mut s = String::with_capacity(32);
    for b in bytes {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

/// Whether a string has the shape of a state this page made (32 lowercase hex digits).
pub fn is_our_state(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Compare the returned `state` with the stored one without an early exit on the first differing byte.
pub fn state_matches(expected: &str, returned: &str) -> bool {
    if expected.is_empty() || expected.len() != returned.len() {
        return false;
    }
    expected
        .bytes()
        .zip(returned.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// An integration id: a UUID (`8-4-4-4-12` hex digits), trimmed; returned in lowercase.
pub fn parse_client_id(input: &str) -> Result<String, ClientIdError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ClientIdError::Empty);
    }
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let shape_ok = groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if !shape_ok {
        return Err(ClientIdError::NotUuid);
    }
    Ok(s.to_ascii_lowercase())
}

/// Why an integration id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    #[error("the integration ID is empty")]
    Empty,
    #[error("the integration ID must be a UUID like 00000000-0000-0000-0000-000000000000")]
    NotUuid,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.consent_base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_url_for_each_service() {
        let id = "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e";
        assert_eq!(
            consent_url(&Service::Kommo, id, "abc", Mode::PostMessage),
            "https://www.kommo.com/oauth?client_id=0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e&state=abc&mode=post_message"
        );
        assert_eq!(
            consent_url(&Service::AmoCrm, id, "abc", Mode::Popup),
            "https://www.amocrm.ru/oauth?client_id=0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e&state=abc&mode=popup"
        );
        assert_eq!(
            consent_url(&Service::Custom("http://127.0.0.1:8081/".into()), id, "a b&c", Mode::PostMessage),
            "http://127.0.0.1:8081/oauth?client_id=0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e&state=a+b%26c&mode=post_message"
        );
        // Nothing the old guide invented: no scope, no redirect_uri, no response_type.
        let url = consent_url(&Service::Kommo, id, "s", Mode::PostMessage);
        assert!(
            !url.contains("scope")
                && !url.contains("redirect_uri")
                && !url.contains("response_type")
        );
    }

    #[test]
    fn both_ways_land_in_the_consenting_window() {
        assert_eq!(Way::SameTab.mode(), Mode::PostMessage);
        assert_eq!(Way::Popup.mode(), Mode::PostMessage);
        assert_eq!(Mode::parse("popup"), Some(Mode::Popup));
        assert_eq!(Mode::parse("nope"), None);
    }

    #[test]
    fn state_is_128_bit_hex_and_compared_exactly() {
        let s = state_from_bytes([
            0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xff,
        ]);
        assert_eq!(s, "deadbeef00010203040506070809 0aff".replace(' ', ""));
        assert!(is_our_state(&s));
        assert!(state_matches(&s, &s.clone()));
        assert!(!state_matches(&s, &s[..31]));
        assert!(!state_matches(&s, &s.replace('d', "e")));
        assert!(!state_matches("", ""));
        assert!(!is_our_state("DEADBEEF000102030405060708090AFF"));
    }

    #[test]
    fn client_id_is_a_trimmed_uuid() {
        assert_eq!(
            parse_client_id("  0B5C1C5E-7A51-4F0E-9C1D-3F2A4B5C6D7E\n").unwrap(),
            "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e"
        );
        assert_eq!(parse_client_id(" "), Err(ClientIdError::Empty));
        assert_eq!(
            parse_client_id("0b5c1c5e7a514f0e9c1d3f2a4b5c6d7e"),
            Err(ClientIdError::NotUuid)
        );
        assert_eq!(
            parse_client_id("0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7g"),
            Err(ClientIdError::NotUuid)
        );
        assert_eq!(
            parse_client_id("0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e-1"),
            Err(ClientIdError::NotUuid)
        );
    }

    #[test]
    fn service_keys_round_trip() {
        for s in [
            Service::Kommo,
            Service::AmoCrm,
            Service::Custom("http://x".into()),
        ] {
            assert_eq!(Service::from_key(s.key(), "http://x"), Some(s));
        }
        assert_eq!(Service::from_key("other", ""), None);
    }
}
