//! The double over real loopback HTTP, checked against shared/docs/kommo-oauth.md.

mod common;

use std::time::Duration;

use common::*;
use kommo::Hint;
use kommo_double::{fingerprint, Account, DoubleConfig, Integration, DEMO_CLIENT_ID, DEMO_SECRET};
use reqwest::StatusCode;
use serde_json::{json, Value};

// ---- consent --------------------------------------------------------------------------------------------------

#[tokio::test]
async fn consent_page_names_integration_and_accounts() {
    let env = Env::start().await;
    let r = env
        .client
        .get(env.url(&format!(
            "/oauth?client_id={DEMO_CLIENT_ID}&state=abc%22x&mode=popup"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    for needle in [
        "id=\"allow\"",
        "id=\"deny\"",
        "<select id=\"account\"",
        "OAuth Helper demo",
        "demo.kommo.com",
        "sales.amocrm.ru",
        "name=\"state\" value=\"abc&quot;x\"",
        "name=\"mode\" value=\"popup\"",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    // One account: no chooser, the account is fixed.
    let mut config = DoubleConfig::demo(REDIRECT);
    config.accounts.truncate(1);
    let env = Env::with(config).await;
    let html = env
        .client
        .get(env.url(&format!("/oauth?client_id={DEMO_CLIENT_ID}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("<select")
            && html.contains("id=\"account\"")
            && !html.contains("name=\"state\"")
    );
}

#[tokio::test]
async fn consent_with_unknown_client_is_an_error_page_without_redirect() {
    let env = Env::start().await;
    for q in [
        "client_id=00000000-0000-0000-0000-000000000000&state=x",
        "state=x",
        "",
    ] {
        let r = env
            .client
            .get(env.url(&format!("/oauth?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(r.headers().get("location").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("Integration not found") && !html.contains("id=\"allow\""));
    }
}

async fn decide(env: &Env, fields: &[(&str, &str)]) -> reqwest::Response {
    env.client
        .post(env.url("/oauth"))
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn allow_in_post_message_mode_redirects_with_code_state_referer_client_id() {
    let env = Env::start().await;
    let r = decide(
        &env,
        &[
            ("client_id", DEMO_CLIENT_ID),
            ("state", "st&=1"),
            ("mode", "post_message"),
            ("account", SALES_HOST),
            ("decision", "allow"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    // The registered URI already has `?from=kommo`: the parameters are appended to it.
    assert!(
        location.starts_with("https://helper.example/callback?from=kommo&code="),
        "{location}"
    );
    let q = query_of(&location);
    let keys: Vec<&str> = location
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    assert_eq!(keys, ["from", "code", "state", "referer", "client_id"]);
    assert_eq!(q["state"], "st&=1");
    assert_eq!(q["referer"], SALES_HOST);
    assert_eq!(q["client_id"], DEMO_CLIENT_ID);
    assert!(q["code"].starts_with("def50200") && q["code"].len() > 100);
    // The code works at the account it was issued for.
    let (status, _) = env.exchange(SALES_HOST, &q["code"]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn state_is_echoed_only_when_sent_and_deny_returns_access_denied() {
    let env = Env::start().await;
    let r = decide(
        &env,
        &[
            ("client_id", DEMO_CLIENT_ID),
            ("mode", "post_message"),
            ("account", DEMO_HOST),
            ("decision", "allow"),
        ],
    )
    .await;
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(!q.contains_key("state") && q.contains_key("code"));

    let r = decide(
        &env,
        &[
            ("client_id", DEMO_CLIENT_ID),
            ("state", "s9"),
            ("account", DEMO_HOST),
            ("decision", "deny"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!("https://helper.example/callback?from=kommo&error=access_denied&client_id={DEMO_CLIENT_ID}&state=s9")
    );
    // Unknown account in the form: refused, no redirect.
    let r = decide(
        &env,
        &[
            ("client_id", DEMO_CLIENT_ID),
            ("account", "nobody.kommo.com"),
            ("decision", "allow"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
}

#[tokio::test]
async fn popup_mode_moves_the_opener_and_closes() {
    let env = Env::start().await;
    let r = decide(
        &env,
        &[
            ("client_id", DEMO_CLIENT_ID),
            ("state", "p1"),
            ("mode", "popup"),
            ("account", DEMO_HOST),
            ("decision", "allow"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("location").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("window.opener.location.href=u") && html.contains("window.close()"));
    assert!(
        html.contains("window.location.replace(u)"),
        "no opener: navigate itself"
    );
    let href = html
        .split("id=\"continue\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let q = query_of(&href);
    assert_eq!(
        (q["state"].as_str(), q["referer"].as_str()),
        ("p1", DEMO_HOST)
    );
    assert!(href.starts_with("https://helper.example/callback?from=kommo&code=def50200"));
}

// ---- token endpoint --------------------------------------------------------------------------------------------

#[tokio::test]
async fn exchange_with_json_and_form_bodies_gives_a_verifiable_jwt() {
    let env = Env::start().await;
    let code = env.consent_code(DEMO_HOST).await["code"].clone();
    let (status, body) = env.exchange(DEMO_HOST, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 86400);
    assert!(body["refresh_token"]
        .as_str()
        .unwrap()
        .starts_with("def50200"));
    let now = env.double.clock().now_unix();
    assert!((body["server_time"].as_i64().unwrap() - now).abs() <= 2);

    // The signature verifies with the published key, and only with it.
    let pem = env
        .client
        .get(env.url("/_double/public-key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem, env.double.public_key_pem());
    let access = body["access_token"].as_str().unwrap();
    let claims = verify_jwt(access, &pem).unwrap();
    let mut tampered: Vec<&str> = access.split('.').collect();
    let forged = kommo::jwt::encode_segment(&json!({"sub": "1"}));
    tampered[1] = &forged;
    assert!(verify_jwt(&tampered.join("."), &pem).is_err());
    assert_eq!(claims["aud"], DEMO_CLIENT_ID);
    assert_eq!(claims["sub"], "9000001");
    assert_eq!(claims["account_id"], 31000001);
    assert_eq!(claims["base_domain"], "kommo.com");
    assert_eq!(claims["api_domain"], "api-g.kommo.com");
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["scopes"], json!(["crm", "files", "notifications"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86400
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert!(claims["jti"].as_str().unwrap().len() >= 32);
    assert!(kommo::consent::parse_client_id(claims["hash_uuid"].as_str().unwrap()).is_ok());
    assert!(claims.get("grant_type").is_some());
    // The core reads it the same way.
    let c = kommo::jwt::decode_payload(access).unwrap();
    assert_eq!(c.account_id, Some(31000001));

    // Form body.
    let code = env.consent_code(SALES_HOST).await["code"].clone();
    let r = env
        .client
        .post(env.url("/oauth2/access_token"))
        .header("x-forwarded-host", SALES_HOST)
        .form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_SECRET),
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let claims = verify_jwt(body["access_token"].as_str().unwrap(), &pem).unwrap();
    assert_eq!(
        (claims["base_domain"].as_str(), claims["sub"].as_str()),
        (Some("amocrm.ru"), Some("9000002"))
    );
    // The double issued exactly these tokens for that code.
    let issued = env.double.issued_for(&code);
    assert_eq!(issued.len(), 1);
    assert_eq!(
        issued[0].access_token,
        body["access_token"].as_str().unwrap()
    );
    assert_eq!(
        issued[0].refresh_token,
        body["refresh_token"].as_str().unwrap()
    );
    assert_eq!(issued[0].account_host, SALES_HOST);
}

#[tokio::test]
async fn every_token_error_hint() {
    let mut config = DoubleConfig::demo(REDIRECT);
    config.integrations.push(Integration {
        id: "11111111-2222-3333-4444-555555555555".into(),
        secret: "other-secret".into(),
        redirect_uri: REDIRECT.into(),
        name: "Other".into(),
    });
    let env = Env::with(config).await;
    let code = env.consent_code(DEMO_HOST).await["code"].clone();
    let expect = |(status, body): (StatusCode, Value), hint_: Hint| {
        assert_eq!(hint(&body), hint_.text(), "{body}");
        assert_eq!(status.as_u16(), hint_.status(), "{body}");
        assert_eq!(body, serde_json::to_value(hint_.error()).unwrap());
    };
    // www host and the double's bare address: no account.
    expect(
        env.token(Some("www.kommo.com"), code_body(&code)).await,
        Hint::SendRequestToAccount,
    );
    expect(
        env.token(Some("www.amocrm.ru"), code_body(&code)).await,
        Hint::SendRequestToAccount,
    );
    expect(
        env.token(None, code_body(&code)).await,
        Hint::SendRequestToAccount,
    );
    let mut b = code_body(&code);
    b["client_id"] = json!("99999999-9999-9999-9999-999999999999");
    expect(env.token(Some(DEMO_HOST), b).await, Hint::CheckClientId);
    let mut b = code_body(&code);
    b["client_secret"] = json!("wrong");
    expect(env.token(Some(DEMO_HOST), b).await, Hint::CheckClientSecret);
    let mut b = code_body(&code);
    b["redirect_uri"] = json!(format!("{REDIRECT}/"));
    expect(
        env.token(Some(DEMO_HOST), b).await,
        Hint::RedirectUriMismatch,
    );
    let mut b = code_body(&code);
    b["redirect_uri"] = json!(REDIRECT.replace("https", "http"));
    expect(
        env.token(Some(DEMO_HOST), b).await,
        Hint::RedirectUriMismatch,
    );
    // Garbled code, and a code of another integration.
    expect(
        env.exchange(DEMO_HOST, &format!("{code}x")).await,
        Hint::CannotDecrypt,
    );
    expect(
        env.exchange(DEMO_HOST, &code[..code.len() - 1]).await,
        Hint::CannotDecrypt,
    );
    let mut b = code_body(&code);
    b["client_id"] = json!("11111111-2222-3333-4444-555555555555");
    b["client_secret"] = json!("other-secret");
    expect(env.token(Some(DEMO_HOST), b).await, Hint::CannotDecrypt);
    // The code belongs to demo.kommo.com, not sales.amocrm.ru.
    expect(env.exchange(SALES_HOST, &code).await, Hint::InvalidAccount);
    // None of the failures spent the code: it works once, then is revoked.
    assert_eq!(env.exchange(DEMO_HOST, &code).await.0, StatusCode::OK);
    expect(env.exchange(DEMO_HOST, &code).await, Hint::CodeRevoked);
    // Missing fields.
    let mut b = code_body(&code);
    b.as_object_mut().unwrap().remove("grant_type");
    let (status, body) = env.token(Some(DEMO_HOST), b).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::BAD_REQUEST, "Check the `grant_type` parameter")
    );
    let (status, body) = env
        .token(Some(DEMO_HOST), json!({"client_id": DEMO_CLIENT_ID}))
        .await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, Hint::CheckClientSecret.text())
    );
    // The log counts the posts of one code without holding it.
    assert_eq!(env.double.posts_of(&code), 12); // every post above except the two garbled ones
    let log = serde_json::to_string(&env.double.log()).unwrap();
    assert!(
        !log.contains(&code) && !log.contains(DEMO_SECRET) && log.contains(&fingerprint(&code))
    );
    assert!(log.contains("Authorization code has been revoked"));
}

#[tokio::test]
async fn code_expires_after_twenty_minutes_by_the_clock() {
    let env = Env::start().await;
    env.double.clock().freeze();
    let young = env.consent_code(DEMO_HOST).await["code"].clone();
    let old = env.consent_code(DEMO_HOST).await["code"].clone();
    env.double.clock().advance(Duration::from_secs(20 * 60));
    assert_eq!(
        env.exchange(DEMO_HOST, &young).await.0,
        StatusCode::OK,
        "exactly 20 minutes is still valid"
    );
    env.double.clock().advance(Duration::from_secs(1));
    let (status, body) = env.exchange(DEMO_HOST, &old).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::BAD_REQUEST, "Authorization code has expired")
    );
    // Through the HTTP control too.
    let code = env.consent_code(DEMO_HOST).await["code"].clone();
    let r = env
        .client
        .post(env.url("/_double/clock/advance?secs=1201"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        hint(&env.exchange(DEMO_HOST, &code).await.1),
        "Authorization code has expired"
    );
}

#[tokio::test]
async fn refresh_rotation_as_documented() {
    let env = Env::start().await;
    let (access1, refresh1) = env.fresh_pair(DEMO_HOST).await;
    let (status, pair2) = env.refresh(DEMO_HOST, &refresh1).await;
    assert_eq!(status, StatusCode::OK, "{pair2}");
    let (access2, refresh2) = (
        pair2["access_token"].as_str().unwrap(),
        pair2["refresh_token"].as_str().unwrap(),
    );
    assert_ne!(refresh2, refresh1);
    // Before the new pair is used, the old refresh token still works (another successor is made) and so does the
    // old access token.
    let (status, pair2b) = env.refresh(DEMO_HOST, &refresh1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&access1))
            .await
            .status(),
        StatusCode::OK
    );
    // First use of the new pair retires the old one and the sibling successor.
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(access2))
            .await
            .status(),
        StatusCode::OK
    );
    let (status, body) = env.refresh(DEMO_HOST, &refresh1).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    let (status, _) = env
        .refresh(DEMO_HOST, pair2b["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&access1))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Refreshing with the new refresh token is a use too: after the third pair is used via refresh, the second is spent.
    let (_, pair3) = env.refresh(DEMO_HOST, refresh2).await;
    let (status, _) = env
        .refresh(DEMO_HOST, pair3["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = env.refresh(DEMO_HOST, refresh2).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, "Token has been revoked")
    );
    // Refresh errors: another account, another redirect URI, unknown token.
    let (_, refresh_sales) = env.fresh_pair(SALES_HOST).await;
    assert_eq!(
        hint(&env.refresh(DEMO_HOST, &refresh_sales).await.1),
        "Invalid account"
    );
    let mut b = refresh_body(&refresh_sales);
    b["redirect_uri"] = json!("https://helper.example/other");
    assert_eq!(
        hint(&env.token(Some(SALES_HOST), b).await.1),
        "Redirect URI is not associated with client"
    );
    let (status, body) = env.refresh(DEMO_HOST, "def50200garbage").await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, "Cannot decrypt the refresh token")
    );
    // A refresh token unused for more than 3 months expires.
    env.double.clock().advance(Duration::from_secs(
        kommo::REFRESH_TOKEN_LIFETIME_SECS as u64 + 60,
    ));
    let (status, body) = env.refresh(SALES_HOST, &refresh_sales).await;
    assert_eq!(
        (status, hint(&body)),
        (StatusCode::UNAUTHORIZED, "Token has expired")
    );
}

// ---- API ------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn account_users_and_pipelines() {
    let env = Env::start().await;
    let (access, _) = env.fresh_pair(DEMO_HOST).await;
    let r = env.api(DEMO_HOST, "/api/v4/account", Some(&access)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["id"], 31000001);
    assert_eq!(a["subdomain"], "demo");
    assert_eq!(a["name"], "Demo Company");
    assert_eq!(a["current_user_id"], 9000001);
    assert_eq!(
        (a["country"].as_str(), a["currency"].as_str()),
        (Some("US"), Some("USD"))
    );
    assert_eq!(
        a["_links"]["self"]["href"],
        "https://demo.kommo.com/api/v4/account"
    );

    let users: Value = env
        .api(DEMO_HOST, "/api/v4/users", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["_embedded"]["users"][0]["id"], 9000001);
    let pipelines: Value = env
        .api(DEMO_HOST, "/api/v4/leads/pipelines", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = pipelines["_embedded"]["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Sales pipeline", "Partners"]);

    // The sales user is not an admin: users is forbidden, the rest works.
    let (sales, _) = env.fresh_pair(SALES_HOST).await;
    let r = env.api(SALES_HOST, "/api/v4/users", Some(&sales)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], 403);
    let a: Value = env
        .api(SALES_HOST, "/api/v4/account", Some(&sales))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (a["country"].as_str(), a["currency"].as_str()),
        (Some("RU"), Some("RUB"))
    );
    assert_eq!(
        env.api(SALES_HOST, "/api/v4/leads/pipelines", Some(&sales))
            .await
            .status(),
        StatusCode::OK
    );
    // A token of one account does not open another.
    assert_eq!(
        env.api(SALES_HOST, "/api/v4/account", Some(&access))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn leads_page_until_204_and_limit_is_capped() {
    let env = Env::start().await;
    env.double.clock().freeze(); // keep the rate limit out of this test: advance between calls
    let (access, _) = env.fresh_pair(DEMO_HOST).await;
    let mut sizes = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for page in 1.. {
        env.double.clock().advance(Duration::from_secs(1));
        let r = env
            .api(
                DEMO_HOST,
                &format!("/api/v4/leads?limit=250&page={page}"),
                Some(&access),
            )
            .await;
        if r.status() == StatusCode::NO_CONTENT {
            assert!(r.bytes().await.unwrap().is_empty());
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["_page"], page);
        let leads = body["_embedded"]["leads"].as_array().unwrap();
        for l in leads {
            assert!(ids.insert(l["id"].as_i64().unwrap()));
        }
        sizes.push(leads.len());
        assert!(page < 10, "never ended");
    }
    assert_eq!(sizes, [250, 250, 112]);
    let r = env
        .api(DEMO_HOST, "/api/v4/leads?limit=251", Some(&access))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = env.api(DEMO_HOST, "/api/v4/leads", Some(&access)).await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["_embedded"]["leads"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
    // An account with no leads answers 204 at once.
    let mut config = DoubleConfig::demo(REDIRECT);
    config.accounts[0].leads = 0;
    let env = Env::with(config).await;
    let (access, _) = env.fresh_pair(DEMO_HOST).await;
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/leads?limit=250&page=1", Some(&access))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_are_401() {
    let env = Env::start().await;
    let (access, refresh) = env.fresh_pair(DEMO_HOST).await;
    for token in [None, Some("garbage"), Some(&access[..access.len() - 2])] {
        let r = env.api(DEMO_HOST, "/api/v4/account", token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], 401);
    }
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&access))
            .await
            .status(),
        StatusCode::OK
    );
    env.double.clock().advance(Duration::from_secs(25 * 3600));
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&access))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // The refresh token outlives the access token.
    let (status, pair) = env.refresh(DEMO_HOST, &refresh).await;
    assert_eq!(status, StatusCode::OK);
    let r = env
        .api(DEMO_HOST, "/api/v4/account", pair["access_token"].as_str())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn more_than_seven_requests_a_second_get_429() {
    let env = Env::start().await;
    let (access, _) = env.fresh_pair(DEMO_HOST).await;
    env.double.clock().freeze();
    for i in 0..7 {
        let r = env.api(DEMO_HOST, "/api/v4/account", Some(&access)).await;
        assert_eq!(r.status(), StatusCode::OK, "request {i}");
    }
    let r = env
        .api(DEMO_HOST, "/api/v4/leads/pipelines", Some(&access))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    env.double.clock().advance(Duration::from_millis(999));
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&access))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    env.double.clock().advance(Duration::from_millis(1));
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&access))
            .await
            .status(),
        StatusCode::OK
    );
    // Another account has its own budget.
    let (sales, _) = env.fresh_pair(SALES_HOST).await;
    assert_eq!(
        env.api(SALES_HOST, "/api/v4/account", Some(&sales))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn long_lived_token_works_on_the_api_and_has_no_refresh() {
    let env = Env::start().await;
    let token =
        env.double
            .mint_long_lived_token("demo", DEMO_CLIENT_ID, Duration::from_secs(3 * 86_400));
    let claims = verify_jwt(&token, &env.double.public_key_pem()).unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3 * 86_400
    );
    assert_eq!(claims["aud"], DEMO_CLIENT_ID);
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&token))
            .await
            .status(),
        StatusCode::OK
    );
    // It is not a refresh token, and no pair was issued for it.
    let (status, _) = env.refresh(DEMO_HOST, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(env.double.issued().is_empty());
    env.double.clock().advance(Duration::from_secs(3 * 86_400));
    assert_eq!(
        env.api(DEMO_HOST, "/api/v4/account", Some(&token))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Over the control endpoint, for the sales account.
    let r = env
        .client
        .post(env.url("/_double/long-lived-token?account=sales&days=30"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        env.api(SALES_HOST, "/api/v4/leads/pipelines", Some(token))
            .await
            .status(),
        StatusCode::OK
    );
    for bad in [
        "account=nobody&days=1",
        "account=demo&days=0",
        "account=demo&days=2000",
    ] {
        let r = env
            .client
            .post(env.url(&format!("/_double/long-lived-token?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

// ---- hosts, CORS, controls --------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_account_host_is_404_html() {
    let env = Env::start().await;
    let r = env.token(Some("nobody.kommo.com"), code_body("x")).await;
    assert_eq!(r.0, StatusCode::NOT_FOUND);
    let r = env
        .api("nobody.kommo.com", "/api/v4/account", Some("x"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        env.api("www.kommo.com", "/api/v4/account", Some("x"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn options_is_405_and_nothing_has_cors_headers() {
    let env = Env::start().await;
    let mut responses = Vec::new();
    for path in [
        "/oauth2/access_token",
        "/oauth",
        "/api/v4/account",
        "/api/v4/leads",
        "/nothing/here",
    ] {
        let r = env
            .client
            .request(reqwest::Method::OPTIONS, env.url(path))
            .header("origin", "http://127.0.0.1:8080")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .header("x-forwarded-host", DEMO_HOST)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        responses.push(r);
    }
    let code = env.consent_code(DEMO_HOST).await["code"].clone();
    responses.push(
        env.client
            .post(env.url("/oauth2/access_token"))
            .header("origin", "http://127.0.0.1:8080")
            .header("x-forwarded-host", DEMO_HOST)
            .json(&code_body(&code))
            .send()
            .await
            .unwrap(),
    );
    responses.push(
        env.client
            .get(env.url(&format!("/oauth?client_id={DEMO_CLIENT_ID}")))
            .header("origin", "http://x")
            .send()
            .await
            .unwrap(),
    );
    responses.push(env.api(DEMO_HOST, "/api/v4/account", Some("x")).await);
    assert_eq!(responses[5].status(), StatusCode::OK);
    for r in &responses {
        for (name, _) in r.headers() {
            assert!(
                !name.as_str().starts_with("access-control-"),
                "{name} on {}",
                r.url()
            );
        }
    }
}

/// Arrival instants are real time, in order, and the injectable clock does not move them: what a pacing check reads.
#[tokio::test]
async fn the_log_keeps_when_each_request_arrived() {
    let env = Env::start().await;
    let before = env.double.since_start().as_micros() as u64;
    env.api(DEMO_HOST, "/api/v4/account", None).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    env.double.clock().advance(Duration::from_secs(3600));
    env.api(DEMO_HOST, "/api/v4/account", None).await;
    let after = env.double.since_start().as_micros() as u64;
    let arrived: Vec<u64> = env.double.log().iter().map(|e| e.arrived_us).collect();
    assert_eq!(arrived.len(), 2);
    assert!(
        before <= arrived[0] && arrived[1] <= after,
        "{before} {arrived:?} {after}"
    );
    let gap = arrived[1] - arrived[0];
    assert!(
        (120_000..3_600_000_000).contains(&gap),
        "the real gap, not the clock's jump: {gap} µs"
    );
    let log: Value = env
        .client
        .get(env.url("/_double/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log[1]["arrived_us"], arrived[1], "also in /_double/log");
}

#[tokio::test]
async fn log_and_issued_controls() {
    let env = Env::start().await;
    let (access, refresh) = env.fresh_pair(DEMO_HOST).await;
    env.refresh(DEMO_HOST, &refresh).await;
    env.api(DEMO_HOST, "/api/v4/account", Some(&access)).await;
    assert_eq!(env.double.token_posts(), 2);
    let log: Value = env
        .client
        .get(env.url("/_double/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log.as_array().unwrap();
    let posts: Vec<&Value> = entries
        .iter()
        .filter(|e| e["path"] == "/oauth2/access_token")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["grant_type"], "authorization_code");
    assert_eq!(posts[1]["grant_type"], "refresh_token");
    assert_eq!(posts[1]["credential_id"], fingerprint(&refresh));
    assert_eq!(posts[1]["host"], DEMO_HOST);
    assert_eq!(posts[1]["status"], 200);
    let api = entries
        .iter()
        .find(|e| e["path"] == "/api/v4/account")
        .unwrap();
    assert_eq!(api["credential_id"], fingerprint(&access));
    let text = log.to_string();
    assert!(!text.contains(&access) && !text.contains(&refresh) && !text.contains(DEMO_SECRET));

    let issued: Value = env
        .client
        .get(env.url("/_double/issued"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(issued.as_array().unwrap().len(), 2);
    assert_eq!(issued[0]["access_token"], access);
    assert_eq!(issued[1]["from"], fingerprint(&refresh));
    assert_eq!(issued[1]["grant_type"], "refresh_token");
    assert_eq!(issued[0]["revoked"], false, "the new pair was not used yet");

    let r = env
        .client
        .post(env.url("/_double/clock/advance?secs=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn host_header_names_the_account_without_its_port() {
    use tower::ServiceExt;
    let double = kommo_double::Double::new(DoubleConfig {
        accounts: vec![Account {
            id: 5,
            subdomain: "acme".into(),
            base_domain: "amocrm.com".into(),
            name: "Acme".into(),
            user_id: 7,
            user_is_admin: true,
            leads: 0,
        }],
        ..DoubleConfig::demo(REDIRECT)
    });
    let code = double.grant_code("acme", DEMO_CLIENT_ID);
    let request = |host: &str, code: &str| {
        axum::http::Request::post("/oauth2/access_token")
            .header("host", host)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(code_body(code).to_string()))
            .unwrap()
    };
    let r = double
        .router()
        .oneshot(request("www.amocrm.com:443", &code))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = double
        .router()
        .oneshot(request("acme.amocrm.com:8443", &code))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let claims = kommo::jwt::decode_payload(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (claims.account_id, claims.base_domain.as_deref()),
        (Some(5), Some("amocrm.com"))
    );
}

// ---- the binary -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn binary_serves_the_demo_and_prints_only_the_demo_secret() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kommo-double"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
        ])
        .env_remove("KOMMO_DOUBLE_CONFIG")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let mut banner = vec![first];
    for _ in 0..5 {
        banner.push(lines.next().unwrap().unwrap());
    }
    let banner = banner.join("\n");
    assert!(
        banner.contains(DEMO_CLIENT_ID) && banner.contains(DEMO_SECRET),
        "{banner}"
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!(
            "http://{addr}/oauth?client_id={DEMO_CLIENT_ID}&state=z"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client
        .post(format!("http://{addr}/oauth"))
        .form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("account", DEMO_HOST),
            ("decision", "allow"),
            ("state", "z"),
        ])
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("http://127.0.0.1:9/cb?code="),
        "{location}"
    );
    child.kill().unwrap();
    let _ = child.wait();
}
