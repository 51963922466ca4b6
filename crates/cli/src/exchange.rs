//! `kommo-env exchange`: trade an authorization code for a pair and write it into a new or existing env file.

use std::io::BufRead;

use kommo::api::mask_token;
use kommo::env::{render, EnvFormat};
use kommo::outcome::{env_values, SecretSource};
use kommo::{AccountHost, TokenRequest};

use crate::args::ExchangeArgs;
use crate::fail::{Failure, Result};
use crate::file::{self, Locking};
use crate::refresh::account_host;
use crate::tokens::{self, Grant};
use crate::values::{file_or_env, EnvText, Source, Sourced};
use crate::Ctx;

fn code(arg: &str) -> Result<String> {
    let code = if arg == "-" {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::bad(format!("--code -: cannot read standard input: {e}")))?;
        line
    } else {
        arg.to_string()
    };
    let code = code.trim().to_string();
    if code.is_empty() {
        return Err(Failure::bad("--code is empty"));
    }
    if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Failure::bad(
            "--code holds spaces or line breaks: give only the value of code= from the redirect",
        ));
    }
    Ok(code)
}

/// `flag` if given, else the file, else the environment; missing is an error naming all three.
fn pick(
    flag: Option<&str>,
    flag_name: &str,
    env: Option<&EnvText>,
    shown: &str,
    name: &str,
) -> Result<Sourced> {
    if let Some(v) = flag.map(str::trim).filter(|v| !v.is_empty()) {
        return Ok(Sourced {
            value: v.to_string(),
            source: Source::Flag,
        });
    }
    file_or_env(env, shown, name)?.ok_or_else(|| {
        Failure::bad(format!(
            "{name} is missing: give {flag_name}, or set it in {shown} or the environment"
        ))
    })
}

pub async fn run(ctx: &Ctx, args: &ExchangeArgs) -> Result<()> {
    let shown = ctx.shown().to_string();
    let code = code(&args.code)?;
    let _lock = match file::lock(&ctx.target)? {
        Locking::Free(lock) => lock,
        Locking::Busy(pending) => {
            ctx.say(format!(
                "{shown}: another kommo-env is updating this file; waiting for it"
            ));
            pending.wait()?
        }
    };
    let existing = match ctx.target.read()? {
        Some(text) => Some(EnvText::parse(&shown, text)?),
        None => None,
    };
    let env = existing.as_ref();
    let id_name = ctx.var("CLIENT_ID");
    let secret_name = ctx.var("CLIENT_SECRET");
    let redirect_name = ctx.var("REDIRECT_URI");
    let client_id = pick(
        args.client_id.as_deref(),
        "--client-id",
        env,
        &shown,
        &id_name,
    )?;
    kommo::consent::parse_client_id(&client_id.value)
        .map_err(|e| Failure::bad(format!("{id_name}: {e}")))?;
    let secret = file_or_env(env, &shown, &secret_name)?.ok_or_else(|| {
        Failure::bad(format!(
            "{secret_name} is missing: set it in {shown} or in the environment (never as a flag: flags show in ps)"
        ))
    })?;
    let redirect = pick(
        args.redirect_uri.as_deref(),
        "--redirect-uri",
        env,
        &shown,
        &redirect_name,
    )?;
    let (host, host_said) = match args.account.as_deref() {
        Some(a) => (
            AccountHost::parse(a.trim()).map_err(|e| Failure::bad(format!("--account: {e}")))?,
            "from --account".to_string(),
        ),
        None => {
            let token = env.and_then(|e| e.get(&shown, &ctx.var("ACCESS_TOKEN")).ok().flatten());
            account_host(ctx, env, token).map_err(|f| {
                Failure::bad(format!(
                    "{} (or give --account HOST from the redirect's referer)",
                    f.message
                ))
            })?
        }
    };

    // What will change, checked before the code is spent.
    let probe = |at: &str, rt: &str| -> Vec<(String, String)> {
        changes(ctx, env, &host, &client_id, &redirect, at, rt)
    };
    if let Some(e) = env {
        let p = probe(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln",
            "def50200a1b2c3d4",
        );
        let refs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        e.rewrite(&shown, &refs, true)?;
    }
    let staged = file::stage(&ctx.target, ctx.target.metadata().as_ref())?;

    ctx.say(format!(
        "{shown}: exchanging the code at {host} ({host_said})"
    ));
    let request =
        TokenRequest::authorization_code(&client_id.value, &secret.value, &code, &redirect.value);
    let origin = ctx.upstream.origin(&host);
    let answer = ctx.upstream.token(&host, &request).await;
    let new = tokens::read(answer, Grant::Code, &origin, ctx.lang)?;
    let expires = tokens::expiry(&new.access_token)
        .unwrap_or_else(|| format!("in {}", tokens::span(new.expires_in)));

    let (out, what) = match env {
        Some(e) => {
            let c = changes(
                ctx,
                env,
                &host,
                &client_id,
                &redirect,
                &new.access_token,
                &new.refresh_token,
            );
            let refs: Vec<(&str, &str)> = c.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let out = e.rewrite(&shown, &refs, true).map_err(|f| {
                Failure::new(crate::fail::Exit::NotSaved, f.message)
                    .with("the code is spent; exchange a new one after fixing the file")
            })?;
            let names: Vec<&str> = c.iter().map(|(k, _)| k.as_str()).collect();
            (out, format!("updated {}", names.join(", ")))
        }
        None => {
            let values = env_values(
                &host,
                &client_id.value,
                SecretSource::Typed(&secret.value),
                &redirect.value,
                &new,
                &kommo::jwt::decode_payload(&new.access_token)
                    .ok()
                    .and_then(|c| c.exp)
                    .map(tokens::rfc3339)
                    .unwrap_or_else(|| format!("in {}", tokens::span(new.expires_in))),
            );
            (
                render(EnvFormat::Dotenv, &ctx.prefix, &values),
                "created (mode 0600)".to_string(),
            )
        }
    };
    staged
        .commit(&out)
        .map_err(|f| f.with("the code is spent; exchange a new one"))?;
    ctx.say(format!("{shown}: {what}"));
    ctx.say(format!(
        "  {} {}, expires {expires}",
        ctx.var("ACCESS_TOKEN"),
        mask_token(&new.access_token)
    ));
    ctx.say(format!(
        "  {} {} (rotates: `kommo-env refresh` keeps it current)",
        ctx.var("REFRESH_TOKEN"),
        mask_token(&new.refresh_token)
    ));
    Ok(())
}

/// The variables to write into an existing file, each only when its value differs from the file's (a missing one
/// is appended): the account, the id and redirect URI, the tokens. The secret is not among them: it is either in
/// the file already or kept in the environment, and stays where it is.
fn changes(
    ctx: &Ctx,
    env: Option<&EnvText>,
    host: &AccountHost,
    client_id: &Sourced,
    redirect: &Sourced,
    access: &str,
    refresh: &str,
) -> Vec<(String, String)> {
    let shown = ctx.shown();
    let current = |name: &str| {
        env.and_then(|e| e.get(shown, name).ok().flatten())
            .map(str::to_string)
    };
    let mut out = Vec::new();
    let mut set = |name: String, value: &str| {
        if current(&name).as_deref() != Some(value) {
            out.push((name, value.to_string()));
        }
    };
    set(ctx.var("DOMAIN"), host.subdomain());
    set(ctx.var("ACCOUNT_HOST"), host.as_str());
    set(ctx.var("CLIENT_ID"), &client_id.value);
    set(ctx.var("REDIRECT_URI"), &redirect.value);
    set(ctx.var("ACCESS_TOKEN"), access);
    set(ctx.var("REFRESH_TOKEN"), refresh);
    out
}
