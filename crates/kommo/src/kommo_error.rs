//! Kommo's OAuth error body, the one type both the token answer (`token`) and the hint catalogue (`hints`) need.
//! It depends on neither — not even in a doc link: the catalogue reads it (and adds `KommoError::classify`), the
//! token reader produces it.

use serde::{Deserialize, Serialize};

/// Kommo's OAuth error body: `{"hint","title","type","status","detail"}`. Every field is optional when reading,
/// since versions differ.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KommoError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl KommoError {
    /// Whether the body looked like a Kommo error at all.
    pub(crate) fn is_meaningful(&self) -> bool {
        self.hint.is_some() || self.title.is_some() || self.detail.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_any_subset_of_the_fields() {
        let e: KommoError = serde_json::from_str(r#"{"type":"t","status":400,"extra":1}"#).unwrap();
        assert_eq!(e.kind.as_deref(), Some("t"));
        assert_eq!(e.status, Some(400));
        assert!(!e.is_meaningful());
        let e: KommoError = serde_json::from_str(r#"{"detail":"d"}"#).unwrap();
        assert!(e.is_meaningful());
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"detail":"d"}"#);
    }
}
