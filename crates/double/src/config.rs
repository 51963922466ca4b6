//! What the double knows: integrations (id, secret, redirect URI) and accounts.

use serde::{Deserialize, Serialize};

/// The demo integration's id (a UUID, like a real Kommo integration id).
pub const DEMO_CLIENT_ID: &str = "0b5c1c5e-7a51-4f0e-9c1d-3f2a4b5c6d7e";
/// The demo integration's secret: 64 characters like a real one. It only works against the double.
pub const DEMO_SECRET: &str = "demo-secret-Xq7LmR2vT9pK4wZs8NbY3cHdF6gJ1aE5uVtQoMi0rWkPxLyBnCeA";
/// The demo integration's name shown on the consent page.
pub const DEMO_INTEGRATION_NAME: &str = "OAuth Helper demo";
/// The demo's first account: `demo.kommo.com`, its user is an admin.
pub const DEMO_ACCOUNT: &str = "demo";
/// The demo's second account: `sales.amocrm.ru`, its user is not an admin (`/api/v4/users` answers 403).
pub const SALES_ACCOUNT: &str = "sales";

/// An integration registered in the double.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    /// The integration id (`client_id`).
    pub id: String,
    /// The secret key (`client_secret`).
    pub secret: String,
    /// The registered Redirect URI; the token endpoint compares `redirect_uri` with it exactly.
    pub redirect_uri: String,
    /// Shown on the consent page.
    pub name: String,
}

/// An account (one `{subdomain}.{base_domain}` host) and the user who consents in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub subdomain: String,
    /// `kommo.com`, `amocrm.ru` or `amocrm.com`.
    pub base_domain: String,
    pub name: String,
    /// The user who consents; becomes the token's `sub` and `current_user_id`.
    pub user_id: i64,
    /// Only admins may read `/api/v4/users`.
    pub user_is_admin: bool,
    /// How many leads `/api/v4/leads` pages through; 0 means "use [`DoubleConfig::leads_per_account`]".
    #[serde(default)]
    pub leads: usize,
}

impl Account {
    /// `{subdomain}.{base_domain}`, the host the token endpoint and API live on (the consent's `referer`).
    pub fn host(&self) -> String {
        format!("{}.{}", self.subdomain, self.base_domain)
    }
}

/// Everything the double is started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoubleConfig {
    pub integrations: Vec<Integration>,
    pub accounts: Vec<Account>,
    /// Leads for accounts whose own `leads` is 0.
    #[serde(default)]
    pub leads_per_account: usize,
    /// API requests allowed per second per (account, integration); `None` turns the limit off. Default 7.
    #[serde(default = "default_rate_limit")]
    pub rate_limit_per_second: Option<u32>,
    /// Scopes written into access tokens.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

fn default_rate_limit() -> Option<u32> {
    Some(kommo::RATE_LIMIT_PER_SECOND)
}

fn default_scopes() -> Vec<String> {
    ["crm", "files", "notifications"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

impl Default for DoubleConfig {
    fn default() -> Self {
        DoubleConfig {
            integrations: Vec::new(),
            accounts: Vec::new(),
            leads_per_account: 0,
            rate_limit_per_second: default_rate_limit(),
            scopes: default_scopes(),
        }
    }
}

impl DoubleConfig {
    /// The demo: one integration ([`DEMO_CLIENT_ID`] / [`DEMO_SECRET`], the given Redirect URI) and two accounts:
    /// `demo.kommo.com` (id 31000001, admin user 9000001, 612 leads = 3 pages of 250) and `sales.amocrm.ru`
    /// (id 31000002, non-admin user 9000002, 40 leads).
    pub fn demo(redirect_uri: &str) -> Self {
        DoubleConfig {
            integrations: vec![Integration {
                id: DEMO_CLIENT_ID.to_string(),
                secret: DEMO_SECRET.to_string(),
                redirect_uri: redirect_uri.to_string(),
                name: DEMO_INTEGRATION_NAME.to_string(),
            }],
            accounts: vec![
                Account {
                    id: 31_000_001,
                    subdomain: DEMO_ACCOUNT.to_string(),
                    base_domain: "kommo.com".to_string(),
                    name: "Demo Company".to_string(),
                    user_id: 9_000_001,
                    user_is_admin: true,
                    leads: 612,
                },
                Account {
                    id: 31_000_002,
                    subdomain: SALES_ACCOUNT.to_string(),
                    base_domain: "amocrm.ru".to_string(),
                    name: "Отдел продаж".to_string(),
                    user_id: 9_000_002,
                    user_is_admin: false,
                    leads: 40,
                },
            ],
            ..DoubleConfig::default()
        }
    }

    /// Leads the account pages through.
    pub fn leads_of(&self, account: &Account) -> usize {
        if account.leads > 0 {
            account.leads
        } else {
            self.leads_per_account
        }
    }

    /// Check that hosts are unique and valid account hosts and that integration ids are unique.
    pub fn validate(&self) -> Result<(), String> {
        let mut hosts = std::collections::HashSet::new();
        for a in &self.accounts {
            let host = a.host();
            kommo::AccountHost::parse(&host).map_err(|e| format!("account {host:?}: {e}"))?;
            if !hosts.insert(host.clone()) {
                return Err(format!("account host {host:?} is configured twice"));
            }
        }
        let mut ids = std::collections::HashSet::new();
        for i in &self.integrations {
            if i.id.is_empty() || !ids.insert(i.id.clone()) {
                return Err(format!(
                    "integration id {:?} is empty or configured twice",
                    i.id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_constants_look_real() {
        assert_eq!(DEMO_SECRET.len(), 64);
        assert!(kommo::consent::parse_client_id(DEMO_CLIENT_ID).is_ok());
        let c = DoubleConfig::demo("http://127.0.0.1:8080/");
        c.validate().unwrap();
        assert_eq!(c.accounts[0].host(), "demo.kommo.com");
        assert!(c.accounts[0].user_is_admin && !c.accounts[1].user_is_admin);
        assert_eq!(c.rate_limit_per_second, Some(7));
    }

    #[test]
    fn validation_refuses_duplicates_and_bad_hosts() {
        let mut c = DoubleConfig::demo("http://x/");
        c.accounts.push(c.accounts[0].clone());
        assert!(c.validate().is_err());
        let mut c = DoubleConfig::demo("http://x/");
        c.accounts[0].base_domain = "example.org".into();
        assert!(c.validate().is_err());
        let json = serde_json::to_string(&DoubleConfig::demo("http://x/")).unwrap();
        let back: DoubleConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, DoubleConfig::demo("http://x/"));
    }
}
