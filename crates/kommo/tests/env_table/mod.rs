//! The table of env values every rendering is read back with: realistic results (what Kommo and a user really
//! produce) and hostile values (what could break a line or smuggle in a variable). Shared by
//! `tests/env_readback.rs` (dotenvy, serde_json, bash, sh) and `examples/env_cases.rs`, which writes the same cases
//! for `scripts/env-parsers/run.sh` (python-dotenv, npm dotenv, dotenv-expand, @next/env, node --env-file, docker,
//! vercel, gh). Keep one table: add a value here and every parser sees it.
#![allow(dead_code)]

use kommo::env::{Comment, EnvValues};
use kommo::outcome::{env_values, long_lived_env_values, SecretSource};
use kommo::{AccountHost, TokenResponse};

pub struct Case {
    /// File-name safe: `[a-z0-9-]+`.
    pub id: String,
    /// Realistic values must read back exactly in every format, with no notice and no refusal.
    pub realistic: bool,
    pub prefix: &'static str,
    pub values: EnvValues,
}

/// A JWT shaped like Kommo's access tokens (RS256 header, base64url parts with `-` and `_`).
pub fn jwt() -> String {
    let header = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImp0aSI6IjNmYjdkZWFkYmVlZiJ9";
    let payload = "eyJhdWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJqdGkiOiIzZmI3ZGVhZGJlZWYiLCJp\
                   YXQiOjE3NjQ2ODI0MDAsIm5iZiI6MTc2NDY4MjQwMCwiZXhwIjoxNzY0NzY4ODAwLCJzdWIiOiIxMjM0NTY3Iiwi\
                   Z3JhbnRfdHlwZSI6IiIsImFjY291bnRfaWQiOjMxMjM0NTY3LCJzY29wZXMiOlsicHVzaF9ub3RpZmljYXRpb25zIiwi\
                   Y3JtIl19";
    let sig: String = (0..342)
        .map(|i| b"AZaz09-_xQ"[i % 10] as char)
        .collect::<String>();
    format!("{header}.{payload}.{sig}")
}

/// A refresh token shaped like Kommo's: `def50200` and a long run of hex.
pub fn refresh() -> String {
    let hex: String = (0..1000)
        .map(|i| b"0123456789abcdef"[(i * 7 + 3) % 16] as char)
        .collect();
    format!("def50200{hex}")
}

/// A 64-character integration secret, as Kommo issues them.
pub const SECRET: &str = "kQ3v9ZxT2bN7mR1pL8sD4fG6hJ0wE5yU3iO9aS2dF7gH1jK4lZ8xC6vB0nM5qW2e";
pub const CLIENT_ID: &str = "4f9a1c2e-7b3d-4e8f-9a6b-1c2d3e4f5a6b";

fn tokens() -> TokenResponse {
    TokenResponse {
        token_type: "Bearer".into(),
        expires_in: 86400,
        access_token: jwt(),
        refresh_token: refresh(),
        server_time: None,
    }
}

fn exchanged(host: &str, secret: SecretSource<'_>, redirect: &str) -> EnvValues {
    let host = AccountHost::parse(host).unwrap();
    env_values(
        &host,
        CLIENT_ID,
        secret,
        redirect,
        &tokens(),
        "2026-12-03 14:00 (UTC+03:00)",
    )
}

/// The hostile values, each with a file-name safe id.
pub fn hostile() -> Vec<(&'static str, String)> {
    [
        ("quote-single", "it's"),
        ("quote-double", "say \"hi\""),
        ("quotes-both", "'\"'\"'"),
        ("backslash-end", "s3cr3t\\"),
        ("backslash-inside", "a\\b\\nc\\tz"),
        ("backslash-double", "a\\\\b"),
        ("backslash-quote", "x\\'"),
        ("backslash-dquote", "x\\\"y"),
        ("dollar-var", "$HOME"),
        ("dollar-braces", "${HOME}x"),
        ("dollar-default", "${KOMMO_TEST_ENABLED:-0}"),
        ("dollar-ref", "a$KOMMO_TEST_DOMAIN"),
        ("dollar-lone", "cost: 5$"),
        ("backticks", "`echo pwned`"),
        ("command", "$(echo pwned)"),
        ("hash-space", "abc #comment"),
        ("hash-tight", "abc#def"),
        ("hash-start", "#abc"),
        ("spaces-leading", "  lead"),
        ("spaces-trailing", "trail  "),
        ("space-only", " "),
        ("equals", "a=b=="),
        ("equals-start", "=x"),
        ("tab", "a\tb"),
        ("tab-edges", "\tab\t"),
        ("cr", "a\rb"),
        ("lf", "a\nb"),
        ("crlf-end", "abc\r\n"),
        ("cr-end", "abc\r"),
        ("lf-end", "abc\n"),
        ("lf-twice", "a\nb\n"),
        ("u2028", "a\u{2028}b\u{2029}c"),
        ("controls", "a\u{1b}[31mb\u{7f}c\u{b}d\u{c}e\u{85}f"),
        ("bom", "\u{feff}x"),
        ("unicode", "пароль✓ 🎉"),
        ("inject-lf", "x\nEVIL=1"),
        ("inject-export", "x\nexport EVIL=1"),
        ("inject-single", "x'\nEVIL=1\n'"),
        ("inject-double", "x\"\nEVIL=1\n\""),
        ("inject-semicolon", "a;EVIL=1 && EVIL2=2 | cat"),
        ("quote-dollar", "it's $HOME"),
        ("quote-backtick", "it's `echo pwned`"),
        ("quote-backslash", "it's \\"),
        ("glob", "*?[a]~/x"),
        ("nul", "a\0b"),
    ]
    .into_iter()
    .map(|(id, v)| (id, v.to_string()))
    .chain([("long", "x".repeat(5000))])
    .collect()
}

pub fn cases() -> Vec<Case> {
    let mut out = vec![
        Case {
            id: "realistic-oauth".into(),
            realistic: true,
            prefix: "KOMMO_TEST_",
            values: exchanged(
                "kwid.kommo.com",
                SecretSource::Typed(SECRET),
                "https://example-app.vercel.app/integrations/kommo/oauth/callback",
            ),
        },
        Case {
            id: "realistic-query".into(),
            realistic: true,
            prefix: "KOMMO_TEST_",
            values: exchanged(
                "my-shop.amocrm.ru",
                SecretSource::Typed(SECRET),
                "https://app.example.com/oauth/kommo?a=1&b=2",
            ),
        },
        Case {
            id: "realistic-proxy-held".into(),
            realistic: true,
            prefix: "KOMMO_TEST_",
            values: exchanged(
                "kwid.kommo.com",
                SecretSource::HeldByProxy,
                "https://helper.example/",
            ),
        },
        Case {
            id: "realistic-long-lived".into(),
            realistic: true,
            prefix: "APP_",
            values: long_lived_env_values(
                &AccountHost::parse("kwid.kommo.com").unwrap(),
                CLIENT_ID,
                "",
                &jwt(),
                "2027-06-01 10:00 (UTC+03:00)",
            ),
        },
        Case {
            id: "realistic-no-prefix".into(),
            realistic: true,
            prefix: "",
            values: exchanged(
                "kwid.kommo.com",
                SecretSource::Unknown,
                "http://localhost:3000/callback",
            ),
        },
    ];
    let base = exchanged(
        "kwid.kommo.com",
        SecretSource::Typed(SECRET),
        "https://example-app.vercel.app/integrations/kommo/oauth/callback",
    );
    for (id, value) in hostile() {
        let mut values = base.clone();
        values.client_secret = value;
        out.push(Case {
            id: format!("hostile-{id}"),
            realistic: false,
            prefix: "KOMMO_TEST_",
            values,
        });
    }
    // Everything at once, comments included: nothing may run on into the next variable.
    let h = hostile();
    let pick = |id: &str| h.iter().find(|(i, _)| *i == id).unwrap().1.clone();
    out.push(Case {
        id: "hostile-everywhere".into(),
        realistic: false,
        prefix: "KOMMO_TEST_",
        values: EnvValues {
            domain: pick("backslash-end"),
            account_host: pick("inject-single"),
            client_id: pick("quote-double"),
            client_secret: pick("inject-lf"),
            redirect_uri: pick("hash-space"),
            access_token: pick("tab-edges"),
            refresh_token: pick("backslash-quote"),
            comments: vec![
                Comment::new("EVIL=1\nEVIL2=2 \\"),
                Comment::new("${HOME} `echo pwned` $(echo pwned) 'q \" \\"),
                Comment::new("\u{2028}KOMMO_TEST_ENABLED=0\r"),
            ],
        },
    });
    // A prefix GitHub does not allow.
    out.push(Case {
        id: "github-prefix".into(),
        realistic: false,
        prefix: "GITHUB_",
        values: base,
    });
    out
}
