//! Setup: the integration, redirect URI, proxy and prefix (kept in sessionStorage), the secret key (never there),
//! a proxy a link offered; and the rules that keep consent closed until they are right.

use kommo::consent::{parse_client_id, ClientIdError};
use kommo::env::parse_prefix;
use kommo::setup::SetupLink;
use kommo::Service;
use leptos::prelude::*;
use serde::Serialize;

use crate::browser;
use crate::i18n::Tx;
use crate::state::Ctx;
use crate::storage::{keys, Area, Store};

/// The setup the user fills in (everything but the secret key). Kept in sessionStorage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setup {
    /// `kommo`, `amocrm` or `custom`.
    pub service: String,
    /// For `custom` only.
    pub consent_base: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// Empty: this page's own origin.
    pub proxy: String,
    pub prefix: String,
    pub demo: bool,
}

impl Setup {
    /// The defaults for a page at `page_url`.
    pub fn defaults(page_url: &str) -> Self {
        Setup {
            service: "kommo".into(),
            consent_base: String::new(),
            client_id: String::new(),
            redirect_uri: page_url.to_string(),
            proxy: String::new(),
            prefix: kommo::env::DEFAULT_PREFIX.into(),
            demo: false,
        }
    }

    /// A kept setup from parsed JSON: an object with every field, each of its type (other keys ignored), as the
    /// derived `Deserialize` reads it; `None` otherwise. Read by hand so that the first load does without serde's
    /// value deserializer (the tests read back what `Serialize` writes).
    pub fn from_value(value: &serde_json::Value) -> Option<Self> {
        let map = value.as_object()?;
        let text = |key: &str| map.get(key)?.as_str().map(str::to_string);
        Some(Setup {
            service: text("service")?,
            consent_base: text("consent_base")?,
            client_id: text("client_id")?,
            redirect_uri: text("redirect_uri")?,
            proxy: text("proxy")?,
            prefix: text("prefix")?,
            demo: map.get("demo")?.as_bool()?,
        })
    }

    /// Take every value a link carries.
    pub fn apply_link(&mut self, link: SetupLink) {
        let set = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        if let Some(s) = link
            .service
            .filter(|s| matches!(s.as_str(), "kommo" | "amocrm" | "custom"))
        {
            self.service = s;
        }
        set(&mut self.consent_base, link.consent_base);
        set(&mut self.client_id, link.client_id);
        set(&mut self.redirect_uri, link.redirect_uri);
        set(&mut self.proxy, link.proxy);
        set(&mut self.prefix, link.prefix);
        self.demo = link.demo;
    }

    /// The shareable link (values equal to the defaults are left out).
    pub fn to_link(&self, page_url: &str) -> SetupLink {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        SetupLink {
            service: Some(self.service.clone()),
            consent_base: if self.service == "custom" {
                some(&self.consent_base)
            } else {
                None
            },
            client_id: some(&self.client_id),
            redirect_uri: some(&self.redirect_uri).filter(|r| r != page_url),
            proxy: some(&self.proxy),
            prefix: some(&self.prefix).filter(|p| p != kommo::env::DEFAULT_PREFIX),
            demo: self.demo,
        }
    }
}

/// The setup part of [`Ctx`].
#[derive(Clone, Copy)]
pub struct SetupState {
    /// The form's values (mirrored to sessionStorage by the app).
    pub fields: RwSignal<Setup>,
    /// A proxy on another origin that a link named: not applied until the user says so (the secret key and the code
    /// would go there).
    pub offered_proxy: RwSignal<Option<String>>,
    /// Never in sessionStorage; in localStorage only while `remember` is on.
    pub secret: RwSignal<String>,
    pub remember: RwSignal<bool>,
    /// This page's address (the default Redirect URI).
    pub page_url: StoredValue<String>,
}

impl SetupState {
    /// The stored setup, with a link in the address applied (and stripped), and a remembered secret.
    pub(crate) fn new(store: &Store) -> Self {
        let page_url = browser::page_url();
        let mut setup = store
            .get(Area::Session, keys::SETUP)
            .and_then(|text| crate::json::parse(&text))
            .as_ref()
            .and_then(Setup::from_value)
            .unwrap_or_else(|| Setup::defaults(&page_url));
        let mut offered_proxy = None;
        if let Some(mut link) = SetupLink::from_fragment(&browser::hash()) {
            // Anyone can send a link: a proxy on another origin would receive the secret key and the code, so it is
            // offered, not applied.
            offered_proxy = link
                .proxy
                .take_if(|p| browser::foreign_origin(p.trim()).is_some());
            setup.apply_link(link);
            browser::strip_fragment();
        }
        let remembered = store
            .get(Area::Local, keys::SECRET)
            .filter(|s| !s.is_empty());
        SetupState {
            remember: RwSignal::new(remembered.is_some()),
            secret: RwSignal::new(remembered.unwrap_or_default()),
            fields: RwSignal::new(setup),
            offered_proxy: RwSignal::new(offered_proxy),
            page_url: StoredValue::new(page_url),
        }
    }
}

/// Is this an `http(s)` URL, with plain http only for the loopback host?
fn url_problem(t: &'static Tx, s: &str) -> Option<&'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Some(t.err_url_required);
    }
    let Some((protocol, host, _)) = browser::parse_url(s) else {
        return Some(t.err_not_url);
    };
    match protocol.as_str() {
        "https:" => None,
        "http:" if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") => None,
        "http:" => Some(t.err_insecure_http),
        _ => Some(t.err_not_url),
    }
}

impl Ctx {
    /// The no-account demo: asked for by the setup (a link's `demo=1`) *and* with a consent base on this machine,
    /// where the local Kommo double runs. A link naming another host gets no demo badge and keeps the "not Kommo's
    /// consent page" warning.
    pub fn demo(&self) -> bool {
        self.setup.fields.with(|s| {
            s.demo
                && s.service == "custom"
                && browser::parse_url(s.consent_base.trim()).is_some_and(|(scheme, host, _)| {
                    matches!(scheme.as_str(), "http:" | "https:")
                        && kommo::setup::is_loopback_host(&host)
                })
        })
    }

    pub fn service(&self) -> Service {
        self.setup.fields.with(|s| {
            Service::from_key(&s.service, s.consent_base.trim()).unwrap_or(Service::Kommo)
        })
    }

    pub fn client_id(&self) -> Result<String, ClientIdError> {
        self.setup.fields.with(|s| parse_client_id(&s.client_id))
    }

    pub fn client_id_problem(&self) -> Option<&'static str> {
        let t = self.t();
        match self.client_id() {
            Ok(_) => None,
            Err(ClientIdError::Empty) => Some(t.err_client_id_empty),
            Err(ClientIdError::NotUuid) => Some(t.err_client_id_uuid),
        }
    }

    pub fn consent_base_problem(&self) -> Option<&'static str> {
        let (custom, base) = self
            .setup
            .fields
            .with(|s| (s.service == "custom", s.consent_base.clone()));
        custom.then(|| url_problem(self.t(), &base)).flatten()
    }

    pub fn redirect_problem(&self) -> Option<&'static str> {
        let r = self.setup.fields.with(|s| s.redirect_uri.clone());
        url_problem(self.t(), &r)
            .or_else(|| r.contains('#').then_some(self.t().err_redirect_fragment))
    }

    /// A valid Redirect URI that is not this page: Kommo sends the code there, and the user pastes the address back.
    pub fn redirect_elsewhere(&self) -> bool {
        let r = self
            .setup
            .fields
            .with(|s| s.redirect_uri.trim().to_string());
        self.redirect_problem().is_none() && r != self.setup.page_url.get_value()
    }

    pub fn proxy_problem(&self) -> Option<&'static str> {
        let p = self.setup.fields.with(|s| s.proxy.trim().to_string());
        (!p.is_empty()).then(|| url_problem(self.t(), &p)).flatten()
    }

    pub fn prefix_problem(&self) -> Option<&'static str> {
        self.setup
            .fields
            .with(|s| parse_prefix(&s.prefix))
            .err()
            .map(|_| self.t().err_prefix)
    }

    /// Everything that keeps the consent step closed, in the order of the fields.
    pub fn setup_problems(&self) -> Vec<&'static str> {
        [
            self.consent_base_problem(),
            self.client_id_problem(),
            self.redirect_problem(),
            self.proxy_problem(),
            self.prefix_problem(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The proxy's base URL without a trailing slash (this page's origin when the field is empty).
    pub fn proxy_base(&self) -> String {
        let p = self
            .setup
            .fields
            .with(|s| s.proxy.trim().trim_end_matches('/').to_string());
        if p.is_empty() {
            browser::origin()
        } else {
            p
        }
    }

    /// The Redirect URI as entered, trimmed.
    pub fn redirect_uri(&self) -> String {
        self.setup
            .fields
            .with(|s| s.redirect_uri.trim().to_string())
    }

    /// Leave the demo for a real account.
    pub fn use_real(&self) {
        self.setup.fields.update(|s| {
            s.demo = false;
            s.service = "kommo".into();
            s.consent_base.clear();
            s.client_id.clear();
            s.proxy.clear();
        });
        self.start_over();
    }
}
