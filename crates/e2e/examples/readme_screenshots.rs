//! The README's screenshots of both languages in both themes: the setup step and the result step of the demo flow,
//! taken from the built release page (KOMMO_E2E_DIST, default `dist/`) served by the proxy in front of the Kommo
//! double, in headless Chromium with the colour scheme set as the browser reports it and the language chosen with the page's switch.
//!
//!   cargo run -p kommo-e2e --example readme_screenshots [-- <output dir>]   (default docs/screenshots/themes)
//!
//! Each run checks that the page really is in the asked language and theme before it saves anything.

use std::path::{Path, PathBuf};

use kommo_e2e::{start_stack, Browser};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots/themes")
        });
    std::fs::create_dir_all(&out).expect("create the output directory");
    for lang in ["en", "ru"] {
        for dark in [false, true] {
            let theme = if dark { "dark" } else { "light" };
            let stack = start_stack().await;
            let mut args = vec!["--window-size=1000,1250", "--hide-scrollbars"];
            if dark {
                args.push("--force-dark-mode");
            }
            let b = Browser::start_with(&args).await;
            b.open_page(&stack.page_url).await;
            if lang != "en" {
                pick_language(&b, lang).await;
            }
            let shown_lang = b.js("return document.documentElement.lang").await;
            assert_eq!(
                shown_lang.as_str(),
                Some(lang),
                "the page did not pick the browser language {lang}"
            );
            let is_dark = b
                .js("return matchMedia('(prefers-color-scheme: dark)').matches")
                .await;
            assert_eq!(
                is_dark.as_bool(),
                Some(dark),
                "the browser did not report the {theme} scheme"
            );

            save(&b, &out, &format!("{lang}-{theme}-setup")).await;
            b.consent_in_this_tab().await;
            b.wait("#exchange").await;
            b.click("#exchange").await;
            b.wait("#result").await;
            b.js("window.scrollTo(0, 0); return null").await;
            save(&b, &out, &format!("{lang}-{theme}-result")).await;
            b.close().await;
        }
    }
    // The README's result image (docs/screenshots/5-result.png): a 1280x900 viewport (the window is taller by the
    // browser's own frame), English, light, scrolled to the env block; it prints the result step's height.
    let stack = start_stack().await;
    let b = Browser::start_with(&["--window-size=1280,1043", "--hide-scrollbars"]).await;
    b.open_page(&stack.page_url).await;
    b.consent_in_this_tab().await;
    b.wait("#exchange").await;
    b.click("#exchange").await;
    b.wait("#result").await;
    let height = b
        .js("return document.getElementById('result').getBoundingClientRect().height")
        .await;
    println!("result step at 1280 px: {height} px tall");
    b.js("document.querySelector('#result h3').scrollIntoView(); window.scrollBy(0, -24); return null")
        .await;
    save(&b, out.parent().unwrap_or(&out), "5-result").await;
    b.close().await;

    // A 360 px phone, in Russian.
    let stack = start_stack().await;
    let b = Browser::start_phone(360, 780).await;
    b.open_page(&stack.page_url).await;
    pick_language(&b, "ru").await;
    let width = b.js("return document.documentElement.clientWidth").await;
    assert_eq!(width.as_u64(), Some(360), "not a 360 px viewport");
    save(&b, &out, "ru-light-mobile").await;
    b.close().await;
}

/// Headless Chromium ignores --lang for navigator.language, so pick the language the way a user can: with the page's
/// own switch (which is then remembered for the rest of the flow).
async fn pick_language(b: &Browser, lang: &str) {
    b.client
        .find(fantoccini::Locator::Css("#lang"))
        .await
        .expect("the language switch")
        .select_by_value(lang)
        .await
        .expect("choose the language");
    b.wait(&format!("html[lang='{lang}']")).await;
}

async fn save(b: &Browser, out: &Path, name: &str) {
    // No focus ring left over from the clicks above.
    b.js("document.activeElement && document.activeElement.blur(); return null")
        .await;
    let png = b.client.screenshot().await.expect("screenshot");
    let path = out.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
    println!("{}", path.display());
}
