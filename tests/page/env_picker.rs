//! The env block's format picker (issue 15): one block at a time, picked from the six formats of
//! `kommo::env::EnvFormat`, remembered on this device; its usage line, notices or refusal; Copy and Download.
//! Element ids: the radio group #env-formats with #env-format-{key} (kommo::env::EnvFormat::key), one block #env-{key}
//! (or #env-refusal instead), #copy-env, #download-env, #env-usage, #env-notices with one <li> per notice.

use std::cell::RefCell;
use std::rc::Rc;

use kommo::env::{render_block, EnvFormat, EnvValues};
use kommo::outcome::{env_values, SecretSource};
use kommo::{Lang, TokenResponse};
use kommo_oauth_helper::browser;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

use crate::fake_proxy::*;
use crate::harness::*;
// The integration ID the tests type, not the id of its field (`ids::CLIENT_ID`).
use crate::harness::CLIENT_ID;
use kommo_oauth_helper::ids::*;

const PREFIX: &str = "KOMMO_TEST_";

/// The values the page renders after exchanging [`token_body`]'s code with `refresh` as the refresh token and
/// `secret` typed.
fn values(secret: &str, refresh: &str) -> EnvValues {
    let host = kommo::AccountHost::parse("kwid.kommo.com").unwrap();
    let mut tokens: TokenResponse = serde_json::from_str(&token_body()).unwrap();
    tokens.refresh_token = refresh.to_string();
    env_values(
        &host,
        CLIENT_ID,
        SecretSource::Typed(secret),
        "https://helper.example/",
        &tokens,
        &browser::local_time(EXP as f64 * 1000.0),
    )
}

/// Exchange a code with `secret` typed; the proxy answers with [`access_token`] and `refresh`.
async fn at_result(ns: &str, lang: &str, secret: &str, refresh: &str) -> Mounted {
    code_returned(ns);
    local().set_item(&format!("{ns}lang"), lang).unwrap();
    let (api, _) = FakeApi::new(Some(health(false)), pair(&access_token(), refresh));
    let m = mount(ns, api);
    ready(&m).await;
    m.type_into(&sel(SECRET), secret);
    m.click(&sel(EXCHANGE));
    until("result", || m.has(&sel(RESULT))).await;
    m
}

async fn pick(m: &Mounted, f: EnvFormat) {
    m.click(&format!("#{ENV_FORMAT_PREFIX}{}", f.key()));
    // The block is re-made for the format: its label says which.
    until(&format!("{} picked", f.key()), || {
        m.input(&format!("#{ENV_FORMAT_PREFIX}{}", f.key()))
            .checked()
            && m.text(&sel(ENV_LABEL)) == f.label()
    })
    .await;
}

fn disabled(m: &Mounted, sel: &str) -> bool {
    m.q(sel).unwrap().has_attribute("disabled")
}

fn items(m: &Mounted, sel: &str) -> Vec<String> {
    let list = m.root.query_selector_all(sel).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

/// Catches the page's `<a download>` clicks (capture phase, before the browser saves anything) and keeps their
/// `href` and `download`; the default is prevented, so no file lands on disk.
struct Downloads {
    seen: Rc<RefCell<Vec<(String, String)>>>,
    listener: wasm_bindgen::closure::Closure<dyn Fn(web_sys::Event)>,
}

impl Downloads {
    fn catch() -> Downloads {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(
            move |e: web_sys::Event| {
                let Some(a) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                    return;
                };
                if a.tag_name() == "A" && a.has_attribute("download") {
                    e.prevent_default();
                    log.borrow_mut().push((
                        a.get_attribute("href").unwrap_or_default(),
                        a.get_attribute("download").unwrap_or_default(),
                    ));
                }
            },
        );
        window()
            .add_event_listener_with_callback_and_bool(
                "click",
                listener.as_ref().unchecked_ref(),
                true,
            )
            .unwrap();
        Downloads { seen, listener }
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        let _ = window().remove_event_listener_with_callback_and_bool(
            "click",
            self.listener.as_ref().unchecked_ref(),
            true,
        );
    }
}

/// The body and Content-Type of an object URL, read back with `fetch`.
async fn fetch_url(url: &str) -> (String, String) {
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window().fetch_with_str(url))
            .await
            .unwrap()
            .unchecked_into();
    let kind = response
        .headers()
        .get("content-type")
        .unwrap()
        .unwrap_or_default();
    let text = wasm_bindgen_futures::JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    (text, kind)
}

#[wasm_bindgen_test]
async fn each_format_is_shown_alone_exactly_as_the_core_renders_it() {
    let ns = "t-env-pick:";
    let m = at_result(ns, "en", "s3cr3t", "def50200refresh").await;
    let v = values("s3cr3t", "def50200refresh");
    // A radio group of all six formats, named by its legend; .env first, as before.
    assert_eq!(m.text(&format!("#{ENV_FORMATS} legend")), "Format");
    assert_eq!(
        items(&m, &format!("#{ENV_FORMATS} label")),
        EnvFormat::ALL.map(|f| f.label().to_string())
    );
    assert_eq!(
        m.root
            .query_selector_all(&format!(
                "#{ENV_FORMATS} input[type=radio][name=env-format]"
            ))
            .unwrap()
            .length(),
        6
    );
    assert!(m.input(&format!("#{ENV_FORMAT_PREFIX}dotenv")).checked());
    for f in EnvFormat::ALL {
        pick(&m, f).await;
        let block = render_block(f, PREFIX, &v).unwrap();
        assert_eq!(
            m.text(&format!("#{ENV_BLOCK_PREFIX}{}", f.key())),
            block.text,
            "{f:?}"
        );
        assert_eq!(
            m.root
                .query_selector_all(&format!("#{RESULT} pre.env"))
                .unwrap()
                .length(),
            1,
            "{f:?}: one block at a time"
        );
        assert_eq!(m.text(&sel(ENV_LABEL)), f.label());
        assert_eq!(m.text(&sel(ENV_USAGE)), f.usage(Lang::En), "{f:?}");
        assert!(
            m.root
                .query_selector_all(&format!("#{ENV_FORMATS} input:checked"))
                .unwrap()
                .length()
                == 1
        );
        // Realistic values: nothing to notice, nothing refused.
        assert!(block.notices.is_empty(), "{f:?}");
        assert!(
            m.q(&sel(ENV_NOTICES)).unwrap().has_attribute("hidden"),
            "{f:?}"
        );
        assert!(!m.has(&sel(ENV_REFUSAL)));
        assert!(!disabled(&m, &sel(COPY_ENV)) && !disabled(&m, &sel(DOWNLOAD_ENV)));
        assert_eq!(
            m.attr(&sel(COPY_ENV), "aria-label").as_deref(),
            Some(format!("Copy {}", f.label()).as_str())
        );
        assert_eq!(
            m.attr(&sel(DOWNLOAD_ENV), "aria-label").as_deref(),
            Some(format!("Download {}", f.file_name()).as_str())
        );
        // Masked as before until the tokens are revealed.
        assert!(m
            .q(&format!("#{ENV_BLOCK_PREFIX}{}", f.key()))
            .unwrap()
            .class_list()
            .contains("masked"));
    }
    m.click(&sel(REVEAL_TOKENS));
    until("revealed", || {
        !m.q(&format!("#{ENV_BLOCK_PREFIX}github"))
            .unwrap()
            .class_list()
            .contains("masked")
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_format_picked_is_remembered_on_this_device_and_restored_after_a_reload() {
    let ns = "t-env-remember:";
    let m = at_result(ns, "en", "s3cr3t", "def50200refresh").await;
    pick(&m, EnvFormat::Docker).await;
    assert_eq!(
        local()
            .get_item(&format!("{ns}env_format"))
            .unwrap()
            .as_deref(),
        Some("docker")
    );
    drop(m);
    let (api, calls) = FakeApi::new(Some(health(false)), ok_answer());
    let m = mount(ns, api);
    ready(&m).await;
    until("the result again", || m.has(&sel(RESULT))).await;
    assert!(m.input(&format!("#{ENV_FORMAT_PREFIX}docker")).checked());
    assert!(!m.input(&format!("#{ENV_FORMAT_PREFIX}dotenv")).checked());
    // The secret is not kept (remember is off), so the reloaded block has an empty CLIENT_SECRET.
    let v = values("", "def50200refresh");
    assert_eq!(
        m.text(&format!("#{ENV_BLOCK_PREFIX}docker")),
        render_block(EnvFormat::Docker, PREFIX, &v).unwrap().text
    );
    assert!(!m.has(&sel(ENV_DOTENV)));
    assert!(calls.borrow().is_empty());
    assert!(!all_storage_values(ns).contains("s3cr3t"));
    // An unknown remembered key falls back to .env.
    drop(m);
    local()
        .set_item(&format!("{ns}env_format"), "yaml")
        .unwrap();
    let (api, _) = FakeApi::new(Some(health(false)), ok_answer());
    let m = mount(ns, api);
    ready(&m).await;
    until("the result again", || m.has(&sel(RESULT))).await;
    assert!(m.input(&format!("#{ENV_FORMAT_PREFIX}dotenv")).checked());
    assert!(m.has(&sel(ENV_DOTENV)));
}

#[wasm_bindgen_test]
async fn download_saves_exactly_the_text_shown_under_the_formats_file_name() {
    let ns = "t-env-download:";
    let m = at_result(ns, "en", "s3cr3t", "def50200refresh").await;
    let v = values("s3cr3t", "def50200refresh");
    let downloads = Downloads::catch();
    for f in [EnvFormat::Dotenv, EnvFormat::Json, EnvFormat::Vercel] {
        pick(&m, f).await;
        m.click(&sel(DOWNLOAD_ENV));
        let (url, name) = downloads
            .seen
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| panic!("{f:?}: no download"));
        assert_eq!(name, f.file_name());
        assert!(url.starts_with("blob:"), "{url}");
        let (text, kind) = fetch_url(&url).await;
        assert_eq!(
            text,
            m.text(&format!("#{ENV_BLOCK_PREFIX}{}", f.key())),
            "{f:?}"
        );
        assert_eq!(text, render_block(f, PREFIX, &v).unwrap().text, "{f:?}");
        assert_eq!(kind, f.mime_type(), "{f:?}");
        assert!(
            window()
                .document()
                .unwrap()
                .query_selector("a[download]")
                .unwrap()
                .is_none(),
            "the anchor is gone"
        );
    }
    assert_eq!(
        EnvFormat::Dotenv.file_name(),
        ".env.local",
        "what Next.js reads"
    );
}

#[wasm_bindgen_test]
async fn a_dollar_in_a_value_is_noticed_beside_the_block() {
    let ns = "t-env-dollar:";
    let secret = "s3c$ret";
    let m = at_result(ns, "en", secret, "def50200refresh").await;
    let v = values(secret, "def50200refresh");
    let block = render_block(EnvFormat::Dotenv, PREFIX, &v).unwrap();
    assert!(!block.notices.is_empty());
    let said: Vec<String> = block.notices.iter().map(|n| n.explain(Lang::En)).collect();
    assert!(
        said.iter()
            .any(|s| s.contains("KOMMO_TEST_CLIENT_SECRET") && s.contains("Next.js")),
        "{said:?}"
    );
    assert_eq!(m.text(&sel(ENV_DOTENV)), block.text);
    assert!(!m.q(&sel(ENV_NOTICES)).unwrap().has_attribute("hidden"));
    assert_eq!(items(&m, &format!("#{ENV_NOTICES} li")), said);
    // The shell reads `$` in single quotes as itself: no notice there.
    pick(&m, EnvFormat::Shell).await;
    assert!(render_block(EnvFormat::Shell, PREFIX, &v)
        .unwrap()
        .notices
        .is_empty());
    assert!(items(&m, &format!("#{ENV_NOTICES} li")).is_empty());
    assert!(m.q(&sel(ENV_NOTICES)).unwrap().has_attribute("hidden"));
}

#[wasm_bindgen_test]
async fn a_value_docker_cannot_carry_is_refused_with_a_sentence_and_the_others_still_work() {
    let ns = "t-env-refuse:";
    let refresh = "def502\nEVIL=1";
    let m = at_result(ns, "en", "s3cr3t", refresh).await;
    let v = values("s3cr3t", refresh);
    let downloads = Downloads::catch();
    pick(&m, EnvFormat::Docker).await;
    let refusal = render_block(EnvFormat::Docker, PREFIX, &v).unwrap_err();
    let why = m.text(&sel(ENV_REFUSAL));
    assert_eq!(why, refusal.explain(Lang::En));
    assert!(
        why.contains("KOMMO_TEST_REFRESH_TOKEN") && why.contains("line break"),
        "{why}"
    );
    assert!(
        !m.has(&format!("#{ENV_BLOCK_PREFIX}docker")) && !m.has(&format!("#{RESULT} pre.env")),
        "no block"
    );
    assert!(!m.text(&sel(RESULT)).contains("EVIL=1"));
    assert!(disabled(&m, &sel(COPY_ENV)) && disabled(&m, &sel(DOWNLOAD_ENV)));
    m.click(&sel(DOWNLOAD_ENV));
    assert!(
        downloads.seen.borrow().is_empty(),
        "a disabled Download saves nothing"
    );
    // Nothing is lost: JSON carries it exactly, and its buttons work.
    pick(&m, EnvFormat::Json).await;
    assert!(!m.has(&sel(ENV_REFUSAL)));
    let json: serde_json::Value = serde_json::from_str(&m.text(&sel(ENV_JSON))).unwrap();
    assert_eq!(json["KOMMO_TEST_REFRESH_TOKEN"], refresh);
    assert!(!disabled(&m, &sel(COPY_ENV)) && !disabled(&m, &sel(DOWNLOAD_ENV)));
    m.click(&sel(DOWNLOAD_ENV));
    assert_eq!(downloads.seen.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn the_picker_speaks_russian() {
    let ns = "t-env-ru:";
    let refresh = "def502\nEVIL=1";
    let secret = "s3c$ret";
    let m = at_result(ns, "ru", secret, refresh).await;
    let v = values(secret, refresh);
    assert_eq!(m.text(&format!("#{ENV_FORMATS} legend")), "Формат");
    assert_eq!(m.text(&sel(DOWNLOAD_ENV)), "Скачать");
    assert_eq!(m.text(&sel(ENV_USAGE)), EnvFormat::Dotenv.usage(Lang::Ru));
    let said: Vec<String> = render_block(EnvFormat::Dotenv, PREFIX, &v)
        .unwrap()
        .notices
        .iter()
        .map(|n| n.explain(Lang::Ru))
        .collect();
    assert!(said.iter().any(|s| s.contains("содержит `$`")), "{said:?}");
    assert_eq!(items(&m, &format!("#{ENV_NOTICES} li")), said);
    pick(&m, EnvFormat::Docker).await;
    assert_eq!(
        m.text(&sel(ENV_REFUSAL)),
        render_block(EnvFormat::Docker, PREFIX, &v)
            .unwrap_err()
            .explain(Lang::Ru)
    );
    assert!(m.text(&sel(ENV_REFUSAL)).contains("Ничего не записано"));
    assert_eq!(
        m.attr(&sel(DOWNLOAD_ENV), "aria-label").as_deref(),
        Some("Скачать kommo.env")
    );
    pick(&m, EnvFormat::Vercel).await;
    assert_eq!(m.text(&sel(ENV_USAGE)), EnvFormat::Vercel.usage(Lang::Ru));
}
