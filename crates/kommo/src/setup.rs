//! The page's setup as a shareable URL fragment: `#service=…&consent_base=…&client_id=…&redirect_uri=…&proxy=…&prefix=…`
//! (`demo=1` for the no-account demo).
//!
//! A link never carries the secret key: [`SetupLink`] has no field for it, and [`SetupLink::from_fragment`] ignores
//! any `secret`/`client_secret` key someone puts into a link by hand.

/// The shareable part of the setup. `None` / `false` means "not in the link" (the page keeps its own value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetupLink {
    /// [`crate::Service::key`]: `kommo`, `amocrm` or `custom`.
    pub service: Option<String>,
    /// The consent base URL for the `custom` service (the local Kommo double).
    pub consent_base: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    /// The exchange proxy's base URL; absent means the page's own origin.
    pub proxy: Option<String>,
    /// The env variable prefix.
    pub prefix: Option<String>,
    /// The no-account demo against the local Kommo double.
    pub demo: bool,
}

const KEYS: [&str; 7] = [
    "service",
    "consent_base",
    "client_id",
    "redirect_uri",
    "proxy",
    "prefix",
    "demo",
];

impl SetupLink {
    /// The fragment without the leading `#`; empty values are left out.
    pub fn to_fragment(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("service", &self.service),
            ("consent_base", &self.consent_base),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("proxy", &self.proxy),
            ("prefix", &self.prefix),
        ];
        for (key, value) in fields {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                out.append_pair(key, v);
            }
        }
        if self.demo {
            out.append_pair("demo", "1");
        }
        out.finish()
    }

    /// Read a fragment (with or without `#`). `None` when it holds none of the setup keys (an ordinary anchor).
    /// Unknown keys — including any secret — are ignored; for a repeated key the first value wins.
    pub fn from_fragment(fragment: &str) -> Option<SetupLink> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let mut link = SetupLink::default();
        let mut any = false;
        for (key, value) in form_urlencoded::parse(fragment.as_bytes()) {
            if !KEYS.contains(&key.as_ref()) {
                continue;
            }
            any = true;
            let value = value.trim().to_string();
            let slot = match key.as_ref() {
                "service" => &mut link.service,
                "consent_base" => &mut link.consent_base,
                "client_id" => &mut link.client_id,
                "redirect_uri" => &mut link.redirect_uri,
                "proxy" => &mut link.proxy,
                "prefix" => &mut link.prefix,
                _ => {
                    link.demo =
                        link.demo || !(value.is_empty() || value == "0" || value == "false");
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        any.then_some(link)
    }
}

/// Whether `hostname` (as a URL parser gives it: `localhost`, `127.0.0.1`, `[::1]`) names this machine. A link's
/// `demo=1` counts only with a consent base on such a host: the demo's consent page is the local Kommo double, and a
/// link must not be able to hide the "this is not Kommo's consent page" warning in front of someone else's page.
pub fn is_loopback_host(hostname: &str) -> bool {
    let h = hostname.trim_end_matches('.');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|a| a.is_loopback());
    }
    h.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|a| a.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_encodes() {
        let link = SetupLink {
            service: Some("custom".into()),
            consent_base: Some("http://127.0.0.1:8081".into()),
            client_id: Some("0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e".into()),
            redirect_uri: Some("https://app.example/cb?x=1&y=2".into()),
            proxy: Some("http://127.0.0.1:8082".into()),
            prefix: Some("KOMMO_TEST_".into()),
            demo: true,
        };
        let f = link.to_fragment();
        assert_eq!(
            f,
            "service=custom&consent_base=http%3A%2F%2F127.0.0.1%3A8081&client_id=0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%26y%3D2&proxy=http%3A%2F%2F127.0.0.1%3A8082\
             &prefix=KOMMO_TEST_&demo=1"
        );
        assert_eq!(SetupLink::from_fragment(&format!("#{f}")), Some(link));
    }

    #[test]
    fn leaves_out_empty_values() {
        let link = SetupLink {
            service: Some("kommo".into()),
            proxy: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(link.to_fragment(), "service=kommo");
        assert_eq!(SetupLink::default().to_fragment(), "");
    }

    #[test]
    fn never_reads_a_secret_and_ignores_plain_anchors() {
        let link =
            SetupLink::from_fragment("#client_id=abc&client_secret=s3cr3t&secret=x&service=amocrm")
                .unwrap();
        assert_eq!(link.client_id.as_deref(), Some("abc"));
        assert_eq!(link.service.as_deref(), Some("amocrm"));
        assert!(!link.to_fragment().contains("s3cr3t"));
        assert_eq!(SetupLink::from_fragment("#top"), None);
        assert_eq!(SetupLink::from_fragment(""), None);
        assert_eq!(SetupLink::from_fragment("#secret=x"), None);
    }

    #[test]
    fn demo_flag_and_repeats() {
        assert!(SetupLink::from_fragment("demo=1").unwrap().demo);
        assert!(SetupLink::from_fragment("demo=true").unwrap().demo);
        assert!(!SetupLink::from_fragment("demo=0").unwrap().demo);
        let link =
            SetupLink::from_fragment("client_id=first&client_id=second&prefix=%20P_%20").unwrap();
        assert_eq!(link.client_id.as_deref(), Some("first"));
        assert_eq!(link.prefix.as_deref(), Some("P_"));
    }

    #[test]
    fn loopback_hosts_only() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "localhost.",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "kommo-login.evil",
            "localhost.evil",
            "127.0.0.1.nip.io",
            "10.0.0.1",
            "0.0.0.0",
            "[::]",
            "[::ffff:127.0.0.1]",
            "::1",
            "",
            "www.kommo.com",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
