//! Token inspection: the access token's JWT payload, read (never verified — the browser has no key), with a live
//! countdown to its expiry.

use leptos::prelude::*;

use kommo::api::split_duration;
use kommo::jwt::JwtError;

use crate::i18n::{fill, Tx};
use crate::ids;
use crate::{browser, use_ctx};

fn countdown(t: &Tx, secs: i64) -> String {
    let (d, h, m, s) = split_duration(secs);
    let clock = format!("{h:02}:{m:02}:{s:02}");
    let left = if d > 0 {
        format!("{d} {} {clock}", t.later().days_short)
    } else {
        clock
    };
    fill(t.later().countdown_left, &[&left])
}

/// The inspection card.
#[component]
pub fn InspectStep() -> AnyView {
    let ctx = use_ctx();
    let t = ctx.t_untracked();
    let token = Memo::new(move |_| ctx.current().map(|k| (k.access_token, k.host)));
    let claims = Memo::new(move |_| {
        token.with(|k| {
            k.as_ref()
                .map(|(a, _)| kommo::jwt::decode_payload_with(a, crate::json::parse))
        })
    });
    let body = move || {
        let result = claims.get()?;
        let host = token.with(|k| k.as_ref().map(|(_, h)| h.clone()).unwrap_or_default());
        Some(match result {
            Err(e) => {
                let msg = match e {
                    JwtError::NotThreeParts => t.later().jwt_not_jwt,
                    JwtError::BadBase64 | JwtError::NotJson => t.later().jwt_unreadable,
                };
                view! { <p id=ids::JWT_ERROR class="warn" role="status" data-error=format!("{e:?}")>{msg}</p> }
                    .into_any()
            }
            Ok(c) => {
                let dash = || "—".to_string();
                let time = |v: Option<i64>| {
                    v.map(|s| browser::local_time(s as f64 * 1000.0))
                        .unwrap_or_else(dash)
                };
                let exp = c.exp;
                let live = move || {
                    let exp = exp?;
                    let left = exp - ctx.now.get() / 1000;
                    Some(if left > 0 {
                        view! {
                            <span id=ids::TOKEN_COUNTDOWN class="status" data-expired="0" data-seconds=left.to_string()>
                                {countdown(t, left)}
                            </span>
                        }
                        .into_any()
                    } else {
                        view! { <span id=ids::TOKEN_COUNTDOWN class="bad" data-expired="1">{t.later().token_expired}</span> }
                            .into_any()
                    })
                };
                let mismatch = c
                    .base_domain
                    .clone()
                    .filter(|d| !host.ends_with(&format!(".{d}")))
                    .map(|d| view! { <p id=ids::CLAIM_HOST_MISMATCH class="warn">{fill(t.later().claim_host_mismatch, &[&d, &host])}</p> });
                let row = |id: &'static str, label: &'static str, value: String| {
                    view! {
                        <dt>{label}</dt>
                        <dd id=id class="mono">{value}</dd>
                    }
                };
                view! {
                    <dl class="claims">
                        {row(ids::CLAIM_ACCOUNT_ID, t.later().claim_account_id, c.account_id.map(|a| a.to_string()).unwrap_or_else(dash))}
                        {row(ids::CLAIM_USER_ID, t.later().claim_user_id, c.sub.clone().unwrap_or_else(dash))}
                        {row(ids::CLAIM_BASE_DOMAIN, t.later().claim_base_domain, c.base_domain.clone().unwrap_or_else(dash))}
                        {row(ids::CLAIM_API_DOMAIN, t.later().claim_api_domain, c.api_domain.clone().unwrap_or_else(|| t.later().claim_missing.to_string()))}
                        {row(ids::CLAIM_AUD, t.later().claim_aud, c.aud.clone().unwrap_or_else(dash))}
                        {row(ids::CLAIM_SCOPES, t.later().claim_scopes, if c.scopes.is_empty() { dash() } else { c.scopes.join(", ") })}
                        {row(ids::CLAIM_IAT, t.later().claim_iat, time(c.iat))}
                        {row(ids::CLAIM_NBF, t.later().claim_nbf, time(c.nbf))}
                        {row(ids::CLAIM_EXP, t.later().claim_exp, time(c.exp))}
                    </dl>
                    <p>{live}</p>
                    {mismatch}
                }
                .into_any()
            }
        })
    };
    view! {
        <section id=ids::INSPECT class="card" aria-labelledby=ids::INSPECT_H>
            <h2 id=ids::INSPECT_H>{t.later().inspect_title}</h2>
            <p id=ids::JWT_UNVERIFIED class="note">{t.later().jwt_unverified}</p>
            {body}
        </section>
    }
    .into_any()
}
