//! Harness for the end-to-end tests: a chromedriver per test, a fresh headless Chromium profile per session, the
//! release page served by the proxy in front of the Kommo double — all on loopback.
//!
//! Every wait here waits on a condition in the page (an element, a text, an attribute) with a deadline; nothing
//! sleeps for a fixed time to hope the page is ready.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use kommo_demo::{DemoOptions, Running};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// How long any single condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// The built release page (`dist/`), from `KOMMO_E2E_DIST` or `<repo>/dist`.
pub fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("KOMMO_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist"));
    assert!(
        dir.join("index.html").is_file(),
        "the end-to-end tests drive the built page, and {} has no index.html: run scripts/test.sh \
         (or `trunk build --release --offline` first)",
        dir.display()
    );
    dir
}

/// Where screenshots of the tests are written (`artifacts/e2e/`, not committed).
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/e2e");
    std::fs::create_dir_all(&dir).expect("create artifacts/e2e");
    dir
}

/// Start the proxy (serving the built page) in front of a fresh Kommo double, on free loopback ports.
pub async fn start_stack() -> Running {
    start_stack_with(|_| {}).await
}

/// [`start_stack`] with options changed by `change` first.
pub async fn start_stack_with(change: impl FnOnce(&mut DemoOptions)) -> Running {
    let mut opts = DemoOptions {
        port: 0,
        double_port: 0,
        static_dir: Some(dist_dir()),
        ..DemoOptions::default()
    };
    change(&mut opts);
    kommo_demo::start(opts)
        .await
        .expect("start proxy + Kommo double")
}

/// How most tests open: the stack, its Kommo double, and a fresh browser on the page, whole and with its proxy
/// found. Keep the stack bound (`stack` or `_stack`, not `_`): dropping it stops the servers.
pub async fn stack_and_page() -> (Running, kommo_double::Double, Browser) {
    let stack = start_stack().await;
    let double = stack.double.clone().expect("the demo stack runs a double");
    let b = Browser::start().await;
    b.open_page(&stack.page_url).await;
    (stack, double, b)
}

/// A port nothing listens on right now (for a server the test starts itself).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One headless Chromium session driven through its own chromedriver; both end when this is dropped.
pub struct Browser {
    pub client: Client,
    _driver: Child,
}

impl Browser {
    /// Start chromedriver and a new browser session with a fresh profile.
    pub async fn start() -> Browser {
        Self::start_with(&[]).await
    }

    /// Like [`Browser::start`], with extra Chromium switches (e.g. `--force-dark-mode`, `--lang=ru`,
    /// `--window-size=…`; a later `--window-size` wins over the default one).
    pub async fn start_with(extra_args: &[&str]) -> Browser {
        Self::launch(extra_args, None).await
    }

    /// A phone-sized viewport (Chromium's mobile emulation: windows cannot be made that narrow).
    pub async fn start_phone(width: u32, height: u32) -> Browser {
        let metrics = json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "mobile": true } });
        Self::launch(&["--hide-scrollbars"], Some(metrics)).await
    }

    async fn launch(extra_args: &[&str], mobile_emulation: Option<Value>) -> Browser {
        let driver_bin =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_bin} ({e}): install chromium-driver (scripts/ensure-tools.sh --browser)"));
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1100,1000",
        ];
        args.extend_from_slice(extra_args);
        let mut caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": args
            }
        });
        if let Some(m) = mobile_emulation {
            caps["goog:chromeOptions"]["mobileEmulation"] = m;
        }
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::rustls()
            .expect("rustls client")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromedriver session");
        Browser {
            client,
            _driver: driver,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Wait until an element matching `css` exists.
    pub async fn wait(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!("waiting for {css}: {e}\n{}", self.failure_report().await),
        }
    }

    /// Wait until the page has mounted and processed any return.
    pub async fn wait_ready(&self) {
        self.wait("#app[data-ready='1']").await;
    }

    /// Open the page and wait until it is whole and knows its proxy (`/healthz` answered).
    pub async fn open_page(&self, page_url: &str) {
        self.goto(page_url).await;
        self.wait_ready().await;
        self.wait("#proxy-status[data-state='ok']").await;
    }

    /// "Continue in this tab", Allow on the double's consent page (its demo account), and wait until the page has
    /// read the return.
    pub async fn consent_in_this_tab(&self) {
        self.click("#go-same-tab").await;
        self.wait("#allow").await;
        self.click("#allow").await;
        self.wait_ready().await;
    }

    /// Wait until `css` exists and its text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = el.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    if tokio::time::Instant::now() > deadline {
                        panic!("{css} never contained {needle:?}; it says: {text}");
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{css} never appeared with {needle:?}\n{}",
                    self.failure_report().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until a JavaScript expression is truthy.
    pub async fn wait_js(&self, what: &str, expr: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(v) = self
                .client
                .execute(&format!("return ({expr});"), vec![])
                .await
            {
                let truthy = !matches!(&v, Value::Null | Value::Bool(false))
                    && v != json!("")
                    && v != json!(0);
                if truthy {
                    return v;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what} ({expr})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// The element's `textContent` (also inside a closed `<details>` or a hidden tab).
    pub async fn text(&self, css: &str) -> String {
        let el = self.wait(css).await;
        let v = self
            .client
            .execute(
                "return arguments[0].textContent;",
                vec![serde_json::to_value(&el).expect("element as json")],
            )
            .await
            .unwrap_or_else(|e| panic!("textContent of {css}: {e}"));
        v.as_str().unwrap_or_default().to_string()
    }

    /// The `value` property of an input.
    pub async fn value(&self, css: &str) -> String {
        self.wait(css)
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub async fn click(&self, css: &str) {
        self.wait(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Replace an input's value by typing.
    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.wait(css).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("js {script}: {e}"))
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    pub async fn body_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// What the page showed when a wait failed: its URL and text, and a screenshot in artifacts/e2e.
    async fn failure_report(&self) -> String {
        let shot = self.screenshot("last-failure").await;
        format!(
            "at {}\nscreenshot: {}\npage text:\n{}",
            self.url().await,
            shot.display(),
            self.body_text().await
        )
    }

    /// Save a PNG screenshot under `artifacts/e2e/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// The value of `NAME=value` in a rendered `.env` block (bare values only, which is what tokens render as).
pub fn env_value(block: &str, name: &str) -> Option<String> {
    block.lines().find_map(|l| {
        l.strip_prefix(name)?
            .strip_prefix('=')
            .map(|v| v.trim_matches('\'').to_string())
    })
}
