//! `kommo-env refresh`: lock, read, decide, refresh, rewrite the two token values in place, rename.

use kommo::api::mask_token;
use kommo::refresh::{due, Due, HostSource};
use kommo::{AccountHost, TokenRequest};

use crate::args::RefreshArgs;
use crate::fail::{Exit, Failure, Result};
use crate::file::{self, Locking};
use crate::tokens::{self, span, unix_now, Grant};
use crate::values::{file_or_env, from_file, required, EnvText, Source};
use crate::Ctx;

/// Stand-ins shaped like real tokens, for checking before Kommo is asked that the file can be rewritten at all.
const PROBE_ACCESS: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJleHAiOjB9.c2lnbmF0dXJl-_";
const PROBE_REFRESH: &str = "def50200a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// The account host the file points at, and a few words on where it came from.
pub fn account_host(
    ctx: &Ctx,
    env: Option<&EnvText>,
    access_token: Option<&str>,
) -> Result<(AccountHost, String)> {
    let shown = ctx.shown();
    let host_var = ctx.var("ACCOUNT_HOST");
    let domain_var = ctx.var("DOMAIN");
    let host = file_or_env(env, shown, &host_var)?;
    let domain = file_or_env(env, shown, &domain_var)?;
    let (h, source) = kommo::refresh::account_host(
        &ctx.prefix,
        host.as_ref().map(|s| s.value.as_str()),
        domain.as_ref().map(|s| s.value.as_str()),
        access_token,
    )
    .map_err(|e| Failure::bad(e.to_string()))?;
    let from = |s: &Option<crate::values::Sourced>| match s.as_ref().map(|s| s.source) {
        Some(Source::Environment) => " (environment)",
        _ => "",
    };
    let said = match source {
        HostSource::AccountHost => format!("from {host_var}{}", from(&host)),
        HostSource::Domain => format!("from {domain_var}{}", from(&domain)),
        HostSource::DomainAndToken => format!(
            "from {domain_var}{} and the access token's base_domain ({host_var} is not set)",
            from(&domain)
        ),
    };
    Ok((h, said))
}

fn no_file(shown: &str) -> Failure {
    Failure::bad(format!(
        "{shown}: no such file (run `kommo-env exchange` first, or save the helper page's block there)"
    ))
}

pub async fn run(ctx: &Ctx, args: &RefreshArgs) -> Result<()> {
    let shown = ctx.shown().to_string();
    let at_name = ctx.var("ACCESS_TOKEN");
    let rt_name = ctx.var("REFRESH_TOKEN");

    if ctx.target.metadata().is_none() {
        return Err(no_file(&shown));
    }
    // The lock is held from this read to the rename. If another run holds it, note the refresh token it is about
    // to spend: if the file holds another one once the lock is ours, that run renewed the pair.
    let (_lock, seen_while_waiting) = match file::lock(&ctx.target)? {
        Locking::Free(lock) => (lock, None),
        Locking::Busy(pending) => {
            let before = ctx
                .target
                .read()
                .ok()
                .flatten()
                .and_then(|t| EnvText::parse(&shown, t).ok())
                .and_then(|e| e.get(&shown, &rt_name).ok().flatten().map(str::to_string));
            ctx.say(format!(
                "{shown}: another kommo-env is updating this file; waiting for it"
            ));
            (pending.wait()?, Some(before))
        }
    };
    let text = ctx.target.read()?.ok_or_else(|| no_file(&shown))?;
    let env = EnvText::parse(&shown, text)?;
    let refresh_token = from_file(&env, &shown, &rt_name)?;
    let access_token = from_file(&env, &shown, &at_name)?;
    if let Some(before) = seen_while_waiting {
        if before.as_deref() != Some(refresh_token.as_str()) {
            ctx.say(format!(
                "{shown}: the pair was renewed by the other run while this one waited; nothing to do ({at_name} expires {})",
                tokens::expiry(&access_token).unwrap_or_else(|| "at an unknown time".into())
            ));
            return Ok(());
        }
    }

    let margin = args.if_expires_within.map(|d| d.as_secs());
    match due(&access_token, unix_now(), margin) {
        Due::Fresh { expires_in } => {
            ctx.say(format!(
                "{shown}: {at_name} is good for {} more (until {}), longer than --if-expires-within {}: not refreshed",
                span(expires_in),
                tokens::rfc3339(unix_now() + expires_in),
                humantime::format_duration(args.if_expires_within.unwrap_or_default()),
            ));
            return Ok(());
        }
        Due::Unknown => ctx.say(format!(
            "{shown}: {at_name} is not a readable JWT, so its expiry is unknown: refreshing"
        )),
        Due::Expiring { expires_in } => ctx.say(format!(
            "{shown}: {at_name} {} (within --if-expires-within {}): refreshing",
            if expires_in >= 0 {
                format!("expires in {}", span(expires_in))
            } else {
                format!("expired {}", span(expires_in))
            },
            humantime::format_duration(args.if_expires_within.unwrap_or_default()),
        )),
        Due::Always => {}
    }

    let client_id = required(Some(&env), &shown, &ctx.var("CLIENT_ID"))?;
    let secret_name = ctx.var("CLIENT_SECRET");
    let secret = required(Some(&env), &shown, &secret_name)?;
    let redirect = required(Some(&env), &shown, &ctx.var("REDIRECT_URI"))?;
    let (host, host_said) = account_host(ctx, Some(&env), Some(&access_token))?;

    // Everything that could stop the write is tried before a refresh token is spent.
    env.rewrite(
        &shown,
        &[(&at_name, PROBE_ACCESS), (&rt_name, PROBE_REFRESH)],
        false,
    )?;
    let staged = file::stage(&ctx.target, ctx.target.metadata().as_ref())?;

    let secret_from = if secret.source == Source::Environment {
        format!(", {secret_name} from the environment")
    } else {
        String::new()
    };
    ctx.say(format!(
        "{shown}: account {host} ({host_said}{secret_from})"
    ));
    let request = TokenRequest::refresh(
        &client_id.value,
        &secret.value,
        &refresh_token,
        &redirect.value,
    );
    let origin = ctx.upstream.origin(&host);
    let answer = ctx.upstream.token(&host, &request).await;
    let new = tokens::read(answer, Grant::Refresh, &origin, ctx.lang)?;

    let out = env
        .rewrite(
            &shown,
            &[
                (&at_name, &new.access_token),
                (&rt_name, &new.refresh_token),
            ],
            false,
        )
        .map_err(|f| {
            Failure::new(Exit::NotSaved, f.message)
                .with("the new pair was not used, so the pair in the file still works")
        })?;
    staged
        .commit(&out)
        .map_err(|f| f.with("the new pair was not used, so the pair in the file still works"))?;
    ctx.say(format!(
        "refreshed {at_name} {} -> {}, expires {}",
        mask_token(&access_token),
        mask_token(&new.access_token),
        tokens::expiry(&new.access_token).unwrap_or_else(|| format!("in {}", span(new.expires_in)))
    ));
    ctx.say(format!(
        "          {rt_name} {} -> {} (the old one stops working once the new pair is used)",
        mask_token(&refresh_token),
        mask_token(&new.refresh_token)
    ));
    Ok(())
}
