use super::*;

fn sample() -> EnvValues {
    EnvValues {
        domain: "kwid".into(),
        account_host: "kwid.kommo.com".into(),
        client_id: "00000000-0000-0000-0000-000000000000".into(),
        client_secret: "s3cr3t".into(),
        redirect_uri: "https://example-app.vercel.app/integrations/kommo/oauth/callback".into(),
        access_token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln".into(),
        refresh_token: "def50200abc".into(),
        comments: vec![Comment::new(
            "Kommo account kwid.kommo.com, access token expires 2026-11-28 14:00",
        )],
    }
}

#[test]
fn dotenv_block_in_the_guides_order() {
    let out = render(EnvFormat::Dotenv, "KOMMO_TEST_", &sample());
    assert_eq!(
        out,
        "# Kommo account kwid.kommo.com, access token expires 2026-11-28 14:00\n\
         KOMMO_TEST_ENABLED=1\n\
         KOMMO_TEST_DOMAIN=kwid\n\
         KOMMO_TEST_ACCOUNT_HOST=kwid.kommo.com\n\
         KOMMO_TEST_CLIENT_ID=00000000-0000-0000-0000-000000000000\n\
         KOMMO_TEST_CLIENT_SECRET=s3cr3t\n\
         KOMMO_TEST_REDIRECT_URI=https://example-app.vercel.app/integrations/kommo/oauth/callback\n\
         KOMMO_TEST_ACCESS_TOKEN=eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln\n\
         KOMMO_TEST_REFRESH_TOKEN=def50200abc\n"
    );
    let block = render_block(EnvFormat::Dotenv, "KOMMO_TEST_", &sample()).unwrap();
    assert!(block.notices.is_empty());
}

#[test]
fn dotenv_writings() {
    assert_eq!(dotenv_quote(""), "");
    assert_eq!(dotenv_quote("a b"), "'a b'");
    assert_eq!(dotenv_quote("a\tb"), "'a\tb'");
    assert_eq!(
        dotenv_quote("https://a/cb?a=1&b=2"),
        "'https://a/cb?a=1&b=2'"
    );
    assert_eq!(dotenv_quote("it's"), "\"it's\"");
    assert_eq!(dotenv_quote("x\\"), "\"x\\\\\"");
    assert_eq!(dotenv_quote("a\\b"), "'a\\b'");
    assert_eq!(dotenv_quote("a\\\\b"), "'a\\\\b'");
    assert_eq!(
        dotenv_quote("x\nEVIL=1 $HOME \"q\""),
        "\"x\\nEVIL=1 \\$HOME \\\"q\\\"\""
    );
}

#[test]
fn hostile_values_cannot_add_lines() {
    let mut v = sample();
    v.client_secret = "a\nKOMMO_TEST_ENABLED=0 # $HOME \"q\" 'x'".into();
    v.comments = vec![
        Comment::new("line1\nEVIL=1\\"),
        Comment::new("x\u{2028}y\r"),
    ];
    for format in [EnvFormat::Dotenv, EnvFormat::Docker] {
        let Ok(block) = render_block(format, "P_", &v) else {
            assert_eq!(format, EnvFormat::Docker);
            continue;
        };
        let out = block.text;
        assert_eq!(out.lines().count(), 10, "{format:?}: {out}");
        assert!(out
            .lines()
            .all(|l| l.starts_with("# ") || l.starts_with("P_")));
        assert!(out.contains("# line1 EVIL=1\n# x y\n"), "{out}");
    }
    let refused = render_block(EnvFormat::Docker, "P_", &v).unwrap_err();
    assert_eq!(
        refused.problems,
        vec![Problem {
            variable: "P_CLIENT_SECRET".into(),
            hazard: Hazard::LineBreak
        }]
    );
    assert!(refused
        .explain(Lang::En)
        .starts_with("P_CLIENT_SECRET holds a line break"));
    assert!(refused
        .explain(Lang::Ru)
        .contains("P_CLIENT_SECRET содержит перевод строки"));
    assert_eq!(
        render(EnvFormat::Docker, "P_", &v),
        "# Not written: the Docker --env-file format cannot carry P_CLIENT_SECRET exactly\n"
    );
}

#[test]
fn comments_never_end_in_a_backslash_or_break_a_line() {
    for text in [
        "a\\",
        "a \\\\ \n",
        "\\",
        "x\ny",
        "x\r\ny\u{2029}",
        "tab\there",
    ] {
        let c = Comment::new(text);
        assert!(!c.as_str().ends_with('\\'), "{c:?}");
        assert!(!c
            .as_str()
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'));
    }
    assert_eq!(Comment::new("a\\").as_str(), "a");
    assert_eq!(Comment::new("x\ny").as_str(), "x y");
}

#[test]
fn json_holds_exact_values() {
    let mut v = sample();
    v.refresh_token = String::new();
    let out = render(EnvFormat::Json, "", &v);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["ENABLED"], "1");
    assert_eq!(parsed["ACCESS_TOKEN"], v.access_token.as_str());
    assert_eq!(parsed["REFRESH_TOKEN"], "");
    assert_eq!(parsed["ACCOUNT_HOST"], "kwid.kommo.com");
    assert_eq!(parsed.as_object().unwrap().len(), 8);
}

#[test]
fn every_form_has_the_account_host_right_after_domain() {
    let v = sample();
    let shell = render(EnvFormat::Shell, "P_", &v);
    assert!(
        shell.contains("export P_DOMAIN='kwid'\nexport P_ACCOUNT_HOST='kwid.kommo.com'\n"),
        "{shell}"
    );
    let dot = render(EnvFormat::Dotenv, "P_", &v);
    assert!(
        dot.contains("P_DOMAIN=kwid\nP_ACCOUNT_HOST=kwid.kommo.com\n"),
        "{dot}"
    );
    let docker = render(EnvFormat::Docker, "P_", &v);
    assert!(
        docker.contains("P_DOMAIN=kwid\nP_ACCOUNT_HOST=kwid.kommo.com\n"),
        "{docker}"
    );
    // JSON keeps the same order as the other forms (not sorted).
    let json = render(EnvFormat::Json, "P_", &v);
    let keys: Vec<&str> = json
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
        .collect();
    let want: Vec<String> = NAMES.iter().map(|n| format!("P_{n}")).collect();
    assert_eq!(keys, want, "{json}");
}

#[test]
fn vercel_and_github_scripts_pass_values_on_standard_input() {
    let mut v = sample();
    v.refresh_token = String::new();
    let vercel = render_block(EnvFormat::Vercel, "P_", &v).unwrap();
    assert!(vercel.text.starts_with("#!/bin/sh\n"));
    assert!(
        vercel.text.contains(
            "printf '%s' 's3cr3t' | vercel env add P_CLIENT_SECRET \"$target\" ${branch:+\"$branch\"} --force\n"
        ),
        "{}",
        vercel.text
    );
    assert!(vercel
        .text
        .contains("# P_REFRESH_TOKEN is empty, so it is not set"));
    assert_eq!(vercel.notices.len(), 1);
    assert_eq!(vercel.notices[0].hazard, Hazard::Empty);
    let gh = render_block(EnvFormat::GitHub, "P_", &v).unwrap();
    assert!(gh
        .text
        .contains("printf '%s' 's3cr3t' | gh secret set P_CLIENT_SECRET \"$@\"\n"));
    assert!(gh.notices[0]
        .explain(Lang::En)
        .contains("an unset secret reads as an empty string"));
    // GitHub refuses names starting with GITHUB_.
    let err = render_block(EnvFormat::GitHub, "GITHUB_", &v).unwrap_err();
    assert_eq!(err.problems.len(), 8);
    assert!(err
        .problems
        .iter()
        .all(|p| p.hazard == Hazard::ReservedName));
    // A trailing line break would be stripped by both CLIs.
    v.client_secret = "abc\n".into();
    for f in [EnvFormat::Vercel, EnvFormat::GitHub] {
        let err = render_block(f, "P_", &v).unwrap_err();
        assert_eq!(err.problems[0].hazard, Hazard::TrailingLineBreak);
    }
    v.client_secret = "a\nb\n".into();
    assert!(
        render_block(EnvFormat::Vercel, "P_", &v).is_ok(),
        "multi-line values keep their last LF"
    );
    assert!(render_block(EnvFormat::GitHub, "P_", &v).is_err());
}

#[test]
fn formats_have_keys_files_and_words() {
    for f in EnvFormat::ALL {
        assert_eq!(EnvFormat::from_key(f.key()), Some(f));
        assert!(!f.file_name().is_empty());
        assert_ne!(f.usage(Lang::En), f.usage(Lang::Ru));
        assert!(f.usage(Lang::Ru).chars().any(|c| ('а'..='я').contains(&c)));
    }
    assert_eq!(EnvFormat::Dotenv.file_name(), ".env.local");
    assert_eq!(EnvFormat::from_key("nope"), None);
}

#[test]
fn notices_and_refusals_in_both_languages() {
    let mut v = sample();
    v.client_secret = "$(echo $HOME)".into();
    let block = render_block(EnvFormat::Dotenv, "P_", &v).unwrap();
    let hazards: Vec<Hazard> = block.notices.iter().map(|n| n.hazard).collect();
    assert_eq!(hazards, vec![Hazard::Dollar, Hazard::Command]);
    for n in &block.notices {
        assert!(n.explain(Lang::En).starts_with("P_CLIENT_SECRET holds"));
        assert!(n.explain(Lang::Ru).starts_with("P_CLIENT_SECRET содержит"));
    }
    assert_eq!(
        block.notices[0].explain(Lang::En),
        "P_CLIENT_SECRET holds `$`: dotenv-expand and Next.js (@next/env) will replace `$NAME` or `${NAME}` in it \
         with another variable's value."
    );
    v.client_secret = "5$ $(x)".into();
    let other = render_block(EnvFormat::Dotenv, "P_", &v).unwrap();
    assert_eq!(
        other.notices.len(),
        1,
        "a `$` before a digit, a space or `(` is no variable reference"
    );
    v.client_secret = "it's\r".into();
    let err = render_block(EnvFormat::Dotenv, "P_", &v).unwrap_err();
    assert_eq!(err.problems[0].hazard, Hazard::CarriageReturn);
    assert!(err
        .explain(Lang::En)
        .ends_with("choose the JSON or shell format."));
    assert!(err
        .explain(Lang::Ru)
        .ends_with("выберите формат JSON или shell."));
    v.client_secret = "nul\0".into();
    for f in EnvFormat::ALL {
        assert_eq!(
            render_block(f, "P_", &v).is_err(),
            f != EnvFormat::Json,
            "{f:?}"
        );
    }
}

#[test]
fn render_is_render_blocks_text() {
    for secret in ["s3cr3t", "", "a$B", "x\\", "a\nb", "it's\r", "nul\0"] {
        let mut v = sample();
        v.client_secret = secret.into();
        for f in EnvFormat::ALL {
            match render_block(f, "P_", &v) {
                Ok(block) => assert_eq!(render(f, "P_", &v), block.text, "{f:?} {secret:?}"),
                Err(_) => assert!(render(f, "P_", &v).starts_with("# Not written: ")),
            }
        }
    }
}

#[test]
fn one_value_at_a_time() {
    assert_eq!(check_value(EnvFormat::Dotenv, "X", "def502ab"), Ok(vec![]));
    let notices = check_value(EnvFormat::Dotenv, "X", "a$B").unwrap();
    assert_eq!(notices[0].hazard, Hazard::Dollar);
    let problems = check_value(EnvFormat::Docker, "X", "a\nb").unwrap_err();
    assert_eq!(problems[0].hazard, Hazard::LineBreak);
}

#[test]
fn prefixes() {
    assert_eq!(parse_prefix(" kommo_test_ "), Ok("KOMMO_TEST_".into()));
    assert_eq!(parse_prefix(""), Ok(String::new()));
    assert_eq!(parse_prefix("1X"), Err(PrefixError::Invalid));
    assert_eq!(parse_prefix("A-B"), Err(PrefixError::Invalid));
    assert_eq!(parse_prefix("A B"), Err(PrefixError::Invalid));
}
