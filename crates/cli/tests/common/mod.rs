//! A Kommo double on a loopback port, a scratch directory, and `kommo-env` run as a process.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use kommo::TokenResponse;
use kommo_double::{Double, DoubleConfig, DEMO_CLIENT_ID, DEMO_SECRET};

pub const BIN: &str = env!("CARGO_BIN_EXE_kommo-env");
pub const REDIRECT: &str = "https://example-app.vercel.app/integrations/kommo/oauth/callback";

/// The double, served from its own runtime.
pub struct Kommo {
    pub double: Double,
    pub addr: SocketAddr,
    rt: tokio::runtime::Runtime,
}

impl Kommo {
    pub fn demo() -> Kommo {
        Kommo::with(DoubleConfig::demo(REDIRECT))
    }

    pub fn with(config: DoubleConfig) -> Kommo {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let double = Double::new(config);
        let addr = rt.block_on(double.clone().spawn()).unwrap();
        Kommo { double, addr, rt }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn post_token(&self, host: &str, body: serde_json::Value) -> (u16, String) {
        let url = format!("{}/oauth2/access_token", self.base());
        let host = host.to_string();
        self.rt.block_on(async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("x-forwarded-host", host)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    }

    /// A fresh pair for `account` (`demo` or `sales`), as consent and an exchange give it.
    pub fn pair(&self, account: &str) -> TokenResponse {
        let code = self.double.grant_code(account, DEMO_CLIENT_ID);
        let (status, body) = self.post_token(
            &self.host_of(account),
            serde_json::json!({"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_SECRET,
                "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}),
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Refresh directly (another tool spending the token).
    pub fn refresh(&self, account: &str, refresh_token: &str) -> TokenResponse {
        let (status, body) = self.post_token(
            &self.host_of(account),
            serde_json::json!({"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_SECRET,
                "grant_type": "refresh_token", "refresh_token": refresh_token, "redirect_uri": REDIRECT}),
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// `GET /api/v4/account` with this token: the status.
    pub fn api_status(&self, account: &str, access_token: &str) -> u16 {
        let url = format!("{}/api/v4/account", self.base());
        let host = self.host_of(account);
        let token = access_token.to_string();
        self.rt.block_on(async move {
            reqwest::Client::new()
                .get(url)
                .header("x-forwarded-host", host)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    pub fn host_of(&self, account: &str) -> String {
        self.double
            .config()
            .accounts
            .iter()
            .find(|a| a.subdomain == account)
            .unwrap()
            .host()
    }

    /// Whether the double considers this refresh token's pair revoked.
    pub fn is_revoked(&self, refresh_token: &str) -> bool {
        self.double
            .issued()
            .iter()
            .find(|p| p.refresh_token == refresh_token)
            .unwrap_or_else(|| panic!("not a refresh token the double issued"))
            .revoked
    }
}

/// A scratch directory holding `.env.local` with a fresh pair of `account`, as a user saved it.
pub struct Saved {
    pub dir: Scratch,
    pub file: PathBuf,
    pub old: TokenResponse,
    pub before: String,
}

impl Saved {
    /// The file is byte for byte what was saved.
    pub fn assert_untouched(&self) {
        assert_eq!(
            std::fs::read_to_string(&self.file).unwrap(),
            self.before,
            "the file changed"
        );
    }
}

impl Kommo {
    pub fn saved(&self, name: &str, account: &str) -> Saved {
        let dir = Scratch::new(name);
        let file = dir.path(".env.local");
        let old = self.pair(account);
        let before = env_file(&self.host_of(account), &old);
        std::fs::write(&file, &before).unwrap();
        Saved {
            dir,
            file,
            old,
            before,
        }
    }

    /// `kommo-env refresh --upstream-base {double} {extra}` in `dir`.
    pub fn run_refresh(&self, dir: &Path, extra: &[&str]) -> Output {
        let base = self.base();
        let mut a = vec!["refresh", "--upstream-base", &base];
        a.extend_from_slice(extra);
        run(dir, &a)
    }
}

/// A scratch directory, removed at the end.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kommo-env-test-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A user's real-looking `.env.local`: app settings around the block the page writes, with comments, an
/// `export`, different quoting, a trailing comment and a multi-line value.
pub fn env_file(host: &str, tokens: &TokenResponse) -> String {
    let subdomain = host.split('.').next().unwrap();
    format!(
        "# Next.js app settings\n\
         NEXT_PUBLIC_SITE_URL=https://example-app.vercel.app\n\
         DATABASE_URL=\"postgres://app:p4ss@db:5432/app?sslmode=require\"\n\
         PRIVATE_KEY=\"-----BEGIN KEY-----\nKOMMO_TEST_REFRESH_TOKEN=not-this-one\n-----END KEY-----\"\n\
         \n\
         # Kommo (from the OAuth helper page)\n\
         KOMMO_TEST_ENABLED=1\n\
         KOMMO_TEST_DOMAIN={subdomain}\n\
         KOMMO_TEST_ACCOUNT_HOST={host}\n\
         KOMMO_TEST_CLIENT_ID={DEMO_CLIENT_ID}\n\
         KOMMO_TEST_CLIENT_SECRET='{DEMO_SECRET}'\n\
         KOMMO_TEST_REDIRECT_URI={REDIRECT}\n\
         KOMMO_TEST_ACCESS_TOKEN={}   # rotates daily\n\
         export KOMMO_TEST_REFRESH_TOKEN=\"{}\"\n\
         SENTRY_DSN='https://abc@o1.ingest.sentry.io/2' # trailing comment\n",
        tokens.access_token, tokens.refresh_token
    )
}

/// `kommo-env` with a clean environment (nothing of the outer shell's KOMMO_* leaks in).
pub fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env_clear().stdin(Stdio::null());
    c
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    cmd(dir).args(args).output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The file's pairs, read with dotenvy (what the app's tools will read).
pub fn dotenv(path: &Path) -> Vec<(String, String)> {
    dotenvy::from_path_iter(path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

pub fn value(path: &Path, name: &str) -> String {
    dotenv(path)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("{name} not in the file"))
        .1
}

/// Neither stdout nor stderr holds any of these.
pub fn assert_no_secrets(out: &Output, secrets: &[&str]) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    for s in secrets {
        assert!(!all.contains(s), "a secret was printed:\n{all}");
    }
}

#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
