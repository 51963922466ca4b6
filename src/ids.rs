//! Element ids: each written once, for the views that set them, the focus code that moves the keyboard to them and
//! the browser tests that find them. Several name the same element in more than one view (a field's `for` and
//! `aria-describedby`, the one placed in a later part of the first render): a constant keeps them from drifting.
//! An `aria-describedby` list is written out as a literal (as cheap as one in the view) and checked at compile time
//! to be exactly its ids joined by a space, so it cannot name an id that has moved.

/// Whether `list` is exactly `a`, a space, then `b`: the compile-time check of each `aria-describedby` list below.
const fn joins(list: &str, a: &str, b: &str) -> bool {
    let (l, a, b) = (list.as_bytes(), a.as_bytes(), b.as_bytes());
    if l.len() != a.len() + 1 + b.len() {
        return false;
    }
    let mut i = 0;
    while i < l.len() {
        let want = if i < a.len() {
            a[i]
        } else if i == a.len() {
            b' '
        } else {
            b[i - a.len() - 1]
        };
        if l[i] != want {
            return false;
        }
        i += 1;
    }
    true
}

// The page

/// The root `<div>`; its `data-ready` says whether the first render is whole ("1") or still coming in parts ("0").
pub const APP: &str = "app";
/// `<main>`, holding the steps; focused when a notice above it is hidden.
pub const STEPS: &str = "steps";
/// The language `<select>` in the header.
pub const LANG: &str = "lang";
/// The button that fetches the Russian strings again after they failed to load.
pub const RUSSIAN_RETRY: &str = "russian-retry";
/// The "demo" badge beside the Service label while a demo setup is in use.
pub const DEMO_BADGE: &str = "demo-badge";
/// The button that leaves the demo for a real integration.
pub const USE_REAL: &str = "use-real";
/// The "Start over" button.
pub const START_OVER: &str = "start-over";

// 1. Setup

/// The Setup card (`<section>`).
pub const SETUP_SECTION: &str = "setup-section";
/// The Setup card's heading.
pub const SETUP_H: &str = "setup-h";
/// The Service `<select>` (Kommo, amoCRM, a custom consent page).
pub const SERVICE: &str = "service";
/// The consent base field (custom service only).
pub const CONSENT_BASE: &str = "consent-base";
/// The consent base field's help.
pub const CONSENT_BASE_HELP: &str = "consent-base-help";
/// The consent base field's error.
pub const CONSENT_BASE_ERROR: &str = "consent-base-error";
/// The consent base field's `aria-describedby`: its help, then its error.
pub const CONSENT_BASE_DESCRIBED_BY: &str = "consent-base-help consent-base-error";
const _: () = assert!(joins(
    CONSENT_BASE_DESCRIBED_BY,
    CONSENT_BASE_HELP,
    CONSENT_BASE_ERROR
));
/// The integration ID field.
pub const CLIENT_ID: &str = "client-id";
/// The integration ID field's help.
pub const CLIENT_ID_HELP: &str = "client-id-help";
/// The integration ID field's error.
pub const CLIENT_ID_ERROR: &str = "client-id-error";
/// The integration ID field's `aria-describedby`: its help, then its error.
pub const CLIENT_ID_DESCRIBED_BY: &str = "client-id-help client-id-error";
const _: () = assert!(joins(
    CLIENT_ID_DESCRIBED_BY,
    CLIENT_ID_HELP,
    CLIENT_ID_ERROR
));
/// The secret key field.
pub const SECRET: &str = "secret";
/// The button that shows or hides the secret key.
pub const SECRET_TOGGLE: &str = "secret-toggle";
/// The secret key field's help (says whether the proxy holds the secret).
pub const SECRET_HELP: &str = "secret-help";
/// The "remember the secret on this device" checkbox.
pub const REMEMBER_SECRET: &str = "remember-secret";
/// The Redirect URI field.
pub const REDIRECT_URI: &str = "redirect-uri";
/// The Redirect URI's copy button.
pub const COPY_REDIRECT_URI: &str = "copy-redirect-uri";
/// The Redirect URI field's help.
pub const REDIRECT_HELP: &str = "redirect-help";
/// The Redirect URI field's error.
pub const REDIRECT_ERROR: &str = "redirect-error";
/// The redirect URI field's `aria-describedby`: its help, then its error.
pub const REDIRECT_URI_DESCRIBED_BY: &str = "redirect-help redirect-error";
const _: () = assert!(joins(
    REDIRECT_URI_DESCRIBED_BY,
    REDIRECT_HELP,
    REDIRECT_ERROR
));
/// The proxy URL field.
pub const PROXY_URL: &str = "proxy-url";
/// The proxy URL field's help.
pub const PROXY_HELP: &str = "proxy-help";
/// The proxy status line; its `data-state` is `checking`, `ok`, `missing`, ….
pub const PROXY_STATUS: &str = "proxy-status";
/// The proxy URL field's `aria-describedby`: its help, then its status.
pub const PROXY_URL_DESCRIBED_BY: &str = "proxy-help proxy-status";
const _: () = assert!(joins(PROXY_URL_DESCRIBED_BY, PROXY_HELP, PROXY_STATUS));
/// The offer of a proxy on another origin that a shared link named.
pub const PROXY_OFFER: &str = "proxy-offer";
/// The button that takes the offered proxy.
pub const PROXY_OFFER_USE: &str = "proxy-offer-use";
/// The env variable prefix field.
pub const PREFIX: &str = "prefix";
/// The prefix field's help.
pub const PREFIX_HELP: &str = "prefix-help";
/// The prefix field's error.
pub const PREFIX_ERROR: &str = "prefix-error";
/// The prefix field's `aria-describedby`: its help, then its error.
pub const PREFIX_DESCRIBED_BY: &str = "prefix-help prefix-error";
const _: () = assert!(joins(PREFIX_DESCRIBED_BY, PREFIX_HELP, PREFIX_ERROR));
/// The shared setup link's label.
pub const SHARE_LABEL: &str = "share-label";
/// The shared setup link.
pub const SHARE_LINK: &str = "share-link";
/// The shared setup link's copy button.
pub const COPY_SHARE_LINK: &str = "copy-share-link";

// 2. Consent

/// The Consent card (`<section>`).
pub const CONSENT_SECTION: &str = "consent-section";
/// The Consent card's heading.
pub const CONSENT_H: &str = "consent-h";
/// The consent URL's label.
pub const CONSENT_URL_LABEL: &str = "consent-url-label";
/// The consent URL.
pub const CONSENT_URL: &str = "consent-url";
/// The consent URL's copy button.
pub const COPY_CONSENT_URL: &str = "copy-consent-url";
/// The button that opens the consent page in this tab; focused after a start over.
pub const GO_SAME_TAB: &str = "go-same-tab";
/// The button that opens the consent page in a popup.
pub const GO_POPUP: &str = "go-popup";
/// The notice that the browser blocked the popup.
pub const POPUP_BLOCKED: &str = "popup-blocked";
/// The notice while the popup is open.
pub const POPUP_WAITING: &str = "popup-waiting";
/// The notice that the popup was closed without a return.
pub const POPUP_CLOSED: &str = "popup-closed";
/// The `<details>` for an address Kommo sent elsewhere (open when the Redirect URI is not this page).
pub const LANDED_DETAILS: &str = "landed-details";
/// The form around the landed address field.
pub const LANDED_FORM: &str = "landed-form";
/// The field for the address Kommo sent the user to.
pub const LANDED: &str = "landed";
/// The button that reads the landed address.
pub const LANDED_READ: &str = "landed-read";
/// The landed address field's help.
pub const LANDED_HELP: &str = "landed-help";
/// The landed address field's error.
pub const LANDED_ERROR: &str = "landed-error";
/// The landed address field's `aria-describedby`: its help, then its error.
pub const LANDED_DESCRIBED_BY: &str = "landed-help landed-error";
const _: () = assert!(joins(LANDED_DESCRIBED_BY, LANDED_HELP, LANDED_ERROR));

// 3. Return

/// The Return card (`<section>`).
pub const RETURN_PANEL: &str = "return-panel";
/// The Return card's heading.
pub const RETURN_H: &str = "return-h";
/// The account host the return names (its `referer`).
pub const ACCOUNT_HOST: &str = "account-host";
/// Why the return's `referer` is not an account host.
pub const HOST_ERROR: &str = "host-error";
/// The code's countdown (`data-expired`, `data-seconds`).
pub const CODE_COUNTDOWN: &str = "code-countdown";
/// The panel for a declined consent or another error from the consent page.
pub const DENIED: &str = "denied";
/// The declined panel's "Try again".
pub const RETRY: &str = "retry";
/// A return refused for its `state` (`data-problem`: `Mismatch`, `NothingStored`, …).
pub const STATE_ERROR: &str = "state-error";
/// A return that cannot be read (`data-problem`).
pub const CALLBACK_ERROR: &str = "callback-error";
/// The notice for a return set aside while this tab waits for its own or holds tokens (`data-problem`).
pub const RETURN_SET_ASIDE: &str = "return-set-aside";
/// The set-aside notice's "Hide".
pub const SET_ASIDE_HIDE: &str = "set-aside-hide";

// 4. Exchange

/// The Exchange card (`<section>`).
pub const EXCHANGE_SECTION: &str = "exchange-section";
/// The Exchange card's heading.
pub const EXCHANGE_H: &str = "exchange-h";
/// The button that exchanges the code through the proxy.
pub const EXCHANGE: &str = "exchange";
/// The warning that a code posted without an answer may be spent.
pub const CODE_MAYBE_SPENT: &str = "code-maybe-spent";
/// Kommo's refusal of the exchange (`data-hint`).
pub const EXCHANGE_ERROR: &str = "exchange-error";
/// The cause in Kommo's refusal.
pub const HINT_CAUSE: &str = "hint-cause";
/// The fix in Kommo's refusal.
pub const HINT_FIX: &str = "hint-fix";
/// The proxy's failure or refusal (`data-proxy-error`).
pub const PROXY_ERROR: &str = "proxy-error";
/// The raw HTTP answer under a refusal.
pub const RAW_ANSWER: &str = "raw-answer";
/// The text above the manual way's curl command.
pub const MANUAL_INTRO: &str = "manual-intro";
/// The manual way's curl command.
pub const CURL_COMMAND: &str = "curl-command";
/// The curl command's copy button.
pub const COPY_CURL: &str = "copy-curl";
/// The field for the answer curl printed.
pub const PASTE_ANSWER: &str = "paste-answer";
/// The pasted answer's error.
pub const PASTE_ERROR: &str = "paste-error";
/// The button that uses the pasted answer.
pub const USE_PASTED: &str = "use-pasted";

// 5. Result

/// The Result card (`<section>`).
pub const RESULT: &str = "result";
/// The Result card's heading; focused when the result arrives.
pub const RESULT_H: &str = "result-h";
/// The sentence under the Result heading (exchanged, refreshed, long-lived).
pub const RESULT_INTRO: &str = "result-intro";
/// The access token field.
pub const ACCESS_TOKEN: &str = "access-token";
/// The access token's copy button.
pub const COPY_ACCESS_TOKEN: &str = "copy-access-token";
/// The refresh token field.
pub const REFRESH_TOKEN: &str = "refresh-token";
/// The refresh token's copy button.
pub const COPY_REFRESH_TOKEN: &str = "copy-refresh-token";
/// The note that a long-lived token has no refresh token.
pub const LONG_LIVED_NOTE: &str = "long-lived-note";
/// The button that shows or masks the tokens.
pub const REVEAL_TOKENS: &str = "reveal-tokens";
/// When the access token expires.
pub const EXPIRES_AT: &str = "expires-at";
/// The env block's format picker (a `<fieldset>` of radio buttons).
pub const ENV_FORMATS: &str = "env-formats";
/// The start of each format's radio button id: `env-format-{key}` (`kommo::env::EnvFormat::key`).
pub const ENV_FORMAT_PREFIX: &str = "env-format-";
/// The shown block's label (the format's name).
pub const ENV_LABEL: &str = "env-label";
/// The start of each format's block id: `env-{key}` (one block is shown at a time).
pub const ENV_BLOCK_PREFIX: &str = "env-";
/// The env block as a dotenv file.
pub const ENV_DOTENV: &str = "env-dotenv";
/// The env block as shell `export` lines.
pub const ENV_SHELL: &str = "env-shell";
/// The env block as JSON.
pub const ENV_JSON: &str = "env-json";
/// What the format cannot carry, shown instead of a block.
pub const ENV_REFUSAL: &str = "env-refusal";
/// Where the chosen format goes (its usage line).
pub const ENV_USAGE: &str = "env-usage";
/// The notices beside the block (one `<li>` each).
pub const ENV_NOTICES: &str = "env-notices";
/// The shown block's copy button.
pub const COPY_ENV: &str = "copy-env";
/// The shown block's download button.
pub const DOWNLOAD_ENV: &str = "download-env";

// After the exchange: refresh

/// The Refresh card (`<section>`).
pub const REFRESH_SECTION: &str = "refresh-section";
/// The Refresh card's heading.
pub const REFRESH_H: &str = "refresh-h";
/// How the refresh token rotates.
pub const REFRESH_ROTATION: &str = "refresh-rotation";
/// When the unused refresh token expires.
pub const REFRESH_EXPIRES_AT: &str = "refresh-expires-at";
/// What the last refresh brought.
pub const REFRESH_RESULT: &str = "refresh-result";
/// The button that refreshes the pair.
pub const REFRESH: &str = "refresh";
/// Why a refresh is not sent.
pub const REFRESH_BLOCKED: &str = "refresh-blocked";
/// A refused refresh (Kommo's `data-hint` or the proxy's error).
pub const REFRESH_ERROR: &str = "refresh-error";
/// The cause in Kommo's refusal of a refresh.
pub const REFRESH_CAUSE: &str = "refresh-cause";
/// The fix in Kommo's refusal of a refresh.
pub const REFRESH_FIX: &str = "refresh-fix";
/// The raw HTTP answer under a refused refresh.
pub const REFRESH_RAW: &str = "refresh-raw";

// After the exchange: token inspection

/// The inspection card (`<section>`).
pub const INSPECT: &str = "inspect";
/// The inspection card's heading.
pub const INSPECT_H: &str = "inspect-h";
/// The note that the token's signature is not verified.
pub const JWT_UNVERIFIED: &str = "jwt-unverified";
/// Why the token cannot be decoded (`data-error`).
pub const JWT_ERROR: &str = "jwt-error";
/// The token's countdown (`data-expired`, `data-seconds`).
pub const TOKEN_COUNTDOWN: &str = "token-countdown";
/// The warning that the token's base domain differs from the account host.
pub const CLAIM_HOST_MISMATCH: &str = "claim-host-mismatch";
/// The `account_id` claim.
pub const CLAIM_ACCOUNT_ID: &str = "claim-account-id";
/// The `sub` claim (the user).
pub const CLAIM_USER_ID: &str = "claim-user-id";
/// The `base_domain` claim.
pub const CLAIM_BASE_DOMAIN: &str = "claim-base-domain";
/// The `api_domain` claim.
pub const CLAIM_API_DOMAIN: &str = "claim-api-domain";
/// The `aud` claim.
pub const CLAIM_AUD: &str = "claim-aud";
/// The `scopes` claim.
pub const CLAIM_SCOPES: &str = "claim-scopes";
/// The `iat` claim.
pub const CLAIM_IAT: &str = "claim-iat";
/// The `nbf` claim.
pub const CLAIM_NBF: &str = "claim-nbf";
/// The `exp` claim.
pub const CLAIM_EXP: &str = "claim-exp";

// After the exchange: the API check

/// The API check card (`<section>`).
pub const API_SECTION: &str = "api-section";
/// The API check card's heading.
pub const API_H: &str = "api-h";
/// The button that runs the API check.
pub const API_CHECK: &str = "api-check";
/// The account line (`data-state`: `idle`, `running`, `ok`, `needs-admin`, `blocked`, `failed`, `skipped`).
pub const API_ACCOUNT: &str = "api-account";
/// The users line (`data-state`).
pub const API_USERS: &str = "api-users";
/// The pipelines line (`data-state`).
pub const API_PIPELINES: &str = "api-pipelines";
/// The leads line (`data-state`, or `stopped`).
pub const API_LEADS: &str = "api-leads";
/// The leads paging progress bar.
pub const LEADS_PROGRESS: &str = "leads-progress";
/// The button that stops the leads paging.
pub const LEADS_STOP: &str = "leads-stop";
/// The check's summary (`data-ok`).
pub const API_SUMMARY: &str = "api-summary";
/// The request log's heading.
pub const API_LOG_H: &str = "api-log-h";
/// The request log (`.api-log-entry[data-status][data-ms]`).
pub const API_LOG: &str = "api-log";

// Already have a token?

/// The "Already have a token?" card (`<section>`).
pub const HAVE_TOKEN: &str = "have-token";
/// The "Already have a token?" card's heading.
pub const HAVE_TOKEN_H: &str = "have-token-h";
/// The long-lived token form's help.
pub const LONG_LIVED_HELP: &str = "long-lived-help";
/// The long-lived token field.
pub const LONG_LIVED_TOKEN: &str = "long-lived-token";
/// The long-lived token field's error.
pub const LONG_LIVED_TOKEN_ERROR: &str = "long-lived-token-error";
/// The long-lived token field's `aria-describedby`: its help, then its error.
pub const LONG_LIVED_TOKEN_DESCRIBED_BY: &str = "long-lived-help long-lived-token-error";
const _: () = assert!(joins(
    LONG_LIVED_TOKEN_DESCRIBED_BY,
    LONG_LIVED_HELP,
    LONG_LIVED_TOKEN_ERROR
));
/// The long-lived token's account host field.
pub const LONG_LIVED_HOST: &str = "long-lived-host";
/// The long-lived token's account host help.
pub const LONG_LIVED_HOST_HELP: &str = "long-lived-host-help";
/// The long-lived token's account host error.
pub const LONG_LIVED_HOST_ERROR: &str = "long-lived-host-error";
/// The long-lived token's account field's `aria-describedby`: its help, then its error.
pub const LONG_LIVED_HOST_DESCRIBED_BY: &str = "long-lived-host-help long-lived-host-error";
const _: () = assert!(joins(
    LONG_LIVED_HOST_DESCRIBED_BY,
    LONG_LIVED_HOST_HELP,
    LONG_LIVED_HOST_ERROR
));
/// The button that uses the long-lived token.
pub const USE_LONG_LIVED: &str = "use-long-lived";
/// The refresh token form's help.
pub const PASTE_REFRESH_HELP: &str = "paste-refresh-help";
/// The pasted refresh token field.
pub const PASTE_REFRESH_TOKEN: &str = "paste-refresh-token";
/// The pasted refresh token field's error.
pub const PASTE_REFRESH_TOKEN_ERROR: &str = "paste-refresh-token-error";
/// The saved refresh token field's `aria-describedby`: its help, then its error.
pub const PASTE_REFRESH_TOKEN_DESCRIBED_BY: &str = "paste-refresh-help paste-refresh-token-error";
const _: () = assert!(joins(
    PASTE_REFRESH_TOKEN_DESCRIBED_BY,
    PASTE_REFRESH_HELP,
    PASTE_REFRESH_TOKEN_ERROR
));
/// The pasted refresh token's account host field.
pub const REFRESH_HOST: &str = "refresh-host";
/// The pasted refresh token's account host help.
pub const REFRESH_HOST_HELP: &str = "refresh-host-help";
/// The pasted refresh token's account host error.
pub const REFRESH_HOST_ERROR: &str = "refresh-host-error";
/// The refresh account field's `aria-describedby`: its help, then its error.
pub const REFRESH_HOST_DESCRIBED_BY: &str = "refresh-host-help refresh-host-error";
const _: () = assert!(joins(
    REFRESH_HOST_DESCRIBED_BY,
    REFRESH_HOST_HELP,
    REFRESH_HOST_ERROR
));
/// The button that refreshes with the pasted token.
pub const USE_REFRESH_TOKEN: &str = "use-refresh-token";
