//! Reading what Kommo appends to the redirect URI.
//!
//! Success: `?code=…&state=…&referer=kwid.kommo.com&client_id=…` (widget installs add `from_widget`).
//! Denial: `?error=access_denied&client_id=…&state=…`.
//!
//! # Which query is a return
//!
//! Every reader here ([`looks_like_callback`], [`parse_callback`], [`read_pasted_return`], and
//! `outcome::read_return` over [`parse_callback`]) follows one rule: the query (after one leading `?`, if any) is
//! read as `application/x-www-form-urlencoded`, the way a browser's `URLSearchParams` reads `location.search`, and
//! it is a return from consent **exactly when some key, percent-decoded, is `code` or `error`**. Nothing else makes
//! it one: `?code?code=…` has the key `code?code`, not `code`, so it is an ordinary visit, and so is a query whose
//! only oddity is a repeated `state` or `referer`. Only a return is then checked for being well-formed (each of
//! [`RETURN_PARAMS`] at most once, not both a code and an error, …); an ordinary visit is never "malformed".

use crate::consent::state_matches;
use crate::host::{AccountHost, HostError};

/// What came back on the redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The user allowed access.
    Code(CodeReturn),
    /// The consent page answered with an error (normally `access_denied`: the user declined).
    Error(ErrorReturn),
}

/// A successful return. Values are kept exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeReturn {
    pub code: String,
    pub state: Option<String>,
    /// The account host, e.g. `kwid.kommo.com` (raw; see [`CodeReturn::account_host`]).
    pub referer: String,
    pub client_id: Option<String>,
    pub from_widget: bool,
}

impl CodeReturn {
    /// The validated account host the code belongs to.
    pub fn account_host(&self) -> Result<AccountHost, HostError> {
        AccountHost::parse(&self.referer)
    }

    /// Check the returned `state` against the one stored before leaving for consent.
    pub fn check_state(&self, stored: Option<&str>) -> Result<(), StateProblem> {
        check_state(stored, self.state.as_deref())
    }
}

/// A returned error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorReturn {
    pub error: String,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

impl ErrorReturn {
    /// The user pressed "Deny" on the consent page.
    pub fn is_access_denied(&self) -> bool {
        self.error == "access_denied"
    }
}

/// Why the return cannot be trusted. In every case the page must not exchange the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateProblem {
    #[error("this browser tab holds no pending sign-in, so the returned code cannot be matched to a request made here")]
    NothingStored,
    #[error("the return carries no state parameter")]
    Missing,
    #[error("the returned state does not match the one this page sent")]
    Mismatch,
}

/// Compare stored and returned `state`.
pub fn check_state(stored: Option<&str>, returned: Option<&str>) -> Result<(), StateProblem> {
    let stored = stored
        .filter(|s| !s.is_empty())
        .ok_or(StateProblem::NothingStored)?;
    let returned = returned.ok_or(StateProblem::Missing)?;
    if state_matches(stored, returned) {
        Ok(())
    } else {
        Err(StateProblem::Mismatch)
    }
}

/// Why a return query could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the parameter {0:?} appears more than once, so the return is ambiguous")]
    Duplicate(&'static str),
    #[error("the return has both a code and an error")]
    CodeAndError,
    #[error("the parameter {0:?} is present but empty")]
    Empty(&'static str),
    #[error("the return has a code but no referer (the account host), so it is not known where to exchange it")]
    MissingReferer,
}

/// The parameters a return from consent can carry, each at most once. A popup posts exactly these to its opener.
pub const RETURN_PARAMS: [&str; 6] = [
    "code",
    "state",
    "referer",
    "client_id",
    "from_widget",
    "error",
];

/// Parse a query string (with or without the leading `?`). `Ok(None)` when it carries neither a `code` nor an
/// `error` key: an ordinary visit to the page, whatever else it holds (see the module's rule). `Err` only for a
/// return that cannot be trusted as it stands.
pub fn parse_callback(query: &str) -> Result<Option<Callback>, CallbackError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut values: [Option<String>; 6] = Default::default();
    let mut repeated = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if let Some(i) = RETURN_PARAMS.iter().position(|k| *k == key) {
            if values[i].is_some() {
                repeated = repeated.or(Some(RETURN_PARAMS[i]));
            } else {
                values[i] = Some(value.into_owned());
            }
        }
    }
    let [code, state, referer, client_id, from_widget, error] = values;
    if code.is_none() && error.is_none() {
        return Ok(None);
    }
    if let Some(param) = repeated {
        return Err(CallbackError::Duplicate(param));
    }
    match (code, error) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(CallbackError::CodeAndError),
        (Some(code), None) => {
            if code.is_empty() {
                return Err(CallbackError::Empty("code"));
            }
            let referer = referer
                .filter(|r| !r.is_empty())
                .ok_or(CallbackError::MissingReferer)?;
            Ok(Some(Callback::Code(CodeReturn {
                code,
                state,
                referer,
                client_id,
                from_widget: from_widget.is_some_and(|v| v != "0" && v != "false"),
            })))
        }
        (None, Some(error)) => {
            if error.is_empty() {
                return Err(CallbackError::Empty("error"));
            }
            Ok(Some(Callback::Error(ErrorReturn {
                error,
                state,
                client_id,
            })))
        }
    }
}

/// Whether a query string is a return from consent — some key is `code` or `error` (the module's rule) — even if
/// it is malformed. Exactly when [`parse_callback`] gives anything but `Ok(None)`.
pub fn looks_like_callback(query: &str) -> bool {
    let query = query.strip_prefix('?').unwrap_or(query);
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "code" || k == "error")
}

/// A return address the user pasted: the page Kommo sent them to when the integration's Redirect URI is not this
/// page (their app's callback, as the old guide had it), copied from the address bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedReturn {
    /// The query, without `?` and fragment, for [`parse_callback`].
    pub query: String,
    /// The address the query was appended to (`scheme://host/path`), when a whole address was pasted.
    pub landed: Option<String>,
}

/// Why pasted text is not a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasteError {
    #[error("nothing was pasted")]
    Empty,
    #[error("the text carries no code and no error from the consent page")]
    NoReturn,
}

/// Read a pasted return: a whole address (`https://app.example/cb?code=…&state=…&referer=…`) or just its query.
/// The text is trimmed and cut at the first `#` (the fragment); the query is what follows the first `?`, as a URL
/// parser splits it (or the whole text, when it has no `?` and is no address). It is a return by the module's rule
/// — [`looks_like_callback`] on that query — so `Ok` exactly when [`parse_callback`] of [`PastedReturn::query`]
/// gives anything but `Ok(None)`. Whether the query is well-formed and its `state` this tab's is for
/// `outcome::read_return` to say.
pub fn read_pasted_return(text: &str) -> Result<PastedReturn, PasteError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PasteError::Empty);
    }
    let text = text.split('#').next().unwrap_or_default();
    let (landed, query) = match text.split_once('?') {
        Some((base, query)) => ((!base.is_empty()).then(|| base.to_string()), query),
        None if text.contains("://") => return Err(PasteError::NoReturn),
        None => (None, text),
    };
    if !looks_like_callback(query) {
        return Err(PasteError::NoReturn);
    }
    Ok(PastedReturn {
        query: query.to_string(),
        landed,
    })
}

/// Whether the address a return landed on is the Redirect URI `configured`, which the exchange must repeat exactly.
/// Scheme and host are compared without case and an empty path is `/`, as a browser shows them; the path itself
/// exactly, trailing slash included.
pub fn same_redirect(landed: &str, configured: &str) -> bool {
    fn parts(u: &str) -> (String, &str) {
        let u = u.trim();
        let Some((scheme, rest)) = u.split_once("://") else {
            return (String::new(), u);
        };
        let end = rest.find('/').unwrap_or(rest.len());
        let path = if end == rest.len() { "/" } else { &rest[end..] };
        (
            format!("{scheme}://{}", &rest[..end]).to_ascii_lowercase(),
            path,
        )
    }
    parts(landed) == parts(configured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_success_return() {
        let cb = parse_callback(
            "?code=def502%2Babc&state=s1&referer=kwid.kommo.com&client_id=cid&from_widget=1",
        )
        .unwrap()
        .unwrap();
        let Callback::Code(c) = cb else {
            panic!("not a code")
        };
        assert_eq!(c.code, "def502+abc");
        assert_eq!(c.state.as_deref(), Some("s1"));
        assert_eq!(c.account_host().unwrap().subdomain(), "kwid");
        assert_eq!(c.client_id.as_deref(), Some("cid"));
        assert!(c.from_widget);
        assert_eq!(c.check_state(Some("s1")), Ok(()));
        assert_eq!(c.check_state(Some("s2")), Err(StateProblem::Mismatch));
        assert_eq!(c.check_state(None), Err(StateProblem::NothingStored));
    }

    #[test]
    fn reads_a_denial() {
        let Some(Callback::Error(e)) =
            parse_callback("error=access_denied&client_id=c&state=s").unwrap()
        else {
            panic!()
        };
        assert!(e.is_access_denied());
        assert_eq!(e.state.as_deref(), Some("s"));
    }

    #[test]
    fn ordinary_visits_and_malformed_returns() {
        assert_eq!(parse_callback(""), Ok(None));
        assert_eq!(parse_callback("?utm_source=x"), Ok(None));
        assert_eq!(
            parse_callback("?code=a&code=b&referer=x.kommo.com"),
            Err(CallbackError::Duplicate("code"))
        );
        assert_eq!(
            parse_callback("?code=a&state=1&state=2&referer=x.kommo.com"),
            Err(CallbackError::Duplicate("state"))
        );
        assert_eq!(
            parse_callback("?code=a&state=s"),
            Err(CallbackError::MissingReferer)
        );
        assert_eq!(
            parse_callback("?code=&referer=x.kommo.com"),
            Err(CallbackError::Empty("code"))
        );
        assert_eq!(
            parse_callback("?code=a&error=x&referer=x.kommo.com"),
            Err(CallbackError::CodeAndError)
        );
        // A garbled query with stray separators and bad escapes is read leniently, never panics.
        let odd = parse_callback("?&&=&code=%zz&referer=x.kommo.com&state")
            .unwrap()
            .unwrap();
        let Callback::Code(c) = odd else { panic!() };
        assert_eq!(c.code, "%zz");
        assert_eq!(c.state.as_deref(), Some(""));
        assert_eq!(c.check_state(Some("abc")), Err(StateProblem::Mismatch));
        assert!(looks_like_callback("?code=a&code=b"));
        assert!(!looks_like_callback("?x=1"));
    }

    /// Issue 17: on this query `looks_like_callback` saw no return while `parse_callback` reported a duplicate
    /// `state`. It holds no `code` key (`code?code` is one key), so it is an ordinary visit for every reader.
    #[test]
    fn every_reader_agrees_that_a_query_without_code_or_error_is_no_return() {
        for q in [
            "?code?code=def502%2Babc&state=s1&referer=kwid.kommo.com&state",
            "?state=1&state=2",
            "referer=a.kommo.com&referer=b.kommo.com&client_id=x&client_id=y",
            "?%63ode?=1&errors=x&Code=1&ERROR=2",
        ] {
            assert_eq!(parse_callback(q), Ok(None), "{q}");
            assert!(!looks_like_callback(q), "{q}");
            assert_eq!(
                read_pasted_return(&format!("https://app.example/cb?{q}")),
                Err(PasteError::NoReturn)
            );
        }
        // A percent-encoded key is its decoded self; a return with a repeated parameter stays malformed.
        let q = "?%63ode=a&state=1&state=2&referer=x.kommo.com";
        assert!(looks_like_callback(q));
        assert_eq!(parse_callback(q), Err(CallbackError::Duplicate("state")));
        // The first repeated parameter is the one named, wherever the code is.
        assert_eq!(
            parse_callback("referer=a&referer=b&state=1&state=2&error=x"),
            Err(CallbackError::Duplicate("referer"))
        );
    }

    #[test]
    fn missing_state_is_refused() {
        let Some(Callback::Code(c)) = parse_callback("?code=a&referer=x.kommo.com").unwrap() else {
            panic!()
        };
        assert_eq!(c.check_state(Some("s")), Err(StateProblem::Missing));
        let Some(Callback::Code(c)) = parse_callback("?code=a&referer=evil.net").unwrap() else {
            panic!()
        };
        assert!(c.account_host().is_err());
    }
    #[test]
    fn reads_a_pasted_return_address_or_query() {
        let q = "code=def502&state=s1&referer=kwid.kommo.com";
        assert_eq!(
            read_pasted_return(&format!("  https://app.example/kommo/callback?{q}#frag \n")),
            Ok(PastedReturn {
                query: q.into(),
                landed: Some("https://app.example/kommo/callback".into())
            })
        );
        for bare in [q.to_string(), format!("?{q}")] {
            assert_eq!(
                read_pasted_return(&bare),
                Ok(PastedReturn {
                    query: q.into(),
                    landed: None
                })
            );
        }
        let denied =
            read_pasted_return("https://app.example/cb?error=access_denied&state=s1").unwrap();
        assert_eq!(denied.query, "error=access_denied&state=s1");
        // A malformed return is still a return: the flow names its problem.
        assert!(read_pasted_return("https://app.example/cb?code=a&code=b").is_ok());
        assert_eq!(read_pasted_return(" \t"), Err(PasteError::Empty));
        for not_a_return in [
            "https://app.example/cb",
            "https://app.example/cb?x=1",
            "def50200c0de",
            "https://app.example/cb#code=a",
        ] {
            assert_eq!(
                read_pasted_return(not_a_return),
                Err(PasteError::NoReturn),
                "{not_a_return}"
            );
        }
    }

    #[test]
    fn the_landed_address_must_be_the_redirect_uri() {
        assert!(same_redirect(
            "https://app.example/cb",
            "https://app.example/cb"
        ));
        assert!(same_redirect(
            "https://app.example/cb",
            " HTTPS://App.Example/cb "
        ));
        assert!(same_redirect("https://app.example/", "https://app.example"));
        assert!(!same_redirect(
            "https://app.example/cb/",
            "https://app.example/cb"
        ));
        assert!(!same_redirect(
            "https://app.example/CB",
            "https://app.example/cb"
        ));
        assert!(!same_redirect(
            "http://app.example/cb",
            "https://app.example/cb"
        ));
        assert!(!same_redirect(
            "https://app.example:8443/cb",
            "https://app.example/cb"
        ));
        assert!(!same_redirect(
            "https://other.example/cb",
            "https://app.example/cb"
        ));
    }
}
