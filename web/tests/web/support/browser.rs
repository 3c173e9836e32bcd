//! Headless Chromium driven through chromedriver, for the tests that need a real
//! browser: the visit (`browser.rs`) and the accessibility checks (`accessibility.rs`).
//! Each test binary includes it with `#[path = "support/browser.rs"] mod chrome;`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One browser at a time within a test binary: two Chromiums on a small machine make
/// both flaky.
pub static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// The browser and its driver, or `None` (skip) outside CI when they are missing.
pub fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = tool("CHROMIUM", CHROMIUM);
    let driver = tool("CHROMEDRIVER", CHROMEDRIVER);
    if chromium.exists() && driver.exists() {
        return Some((chromium, driver));
    }
    let missing = format!(
        "{} or {} is missing (apt-get install chromium chromium-driver)",
        chromium.display(),
        driver.display()
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "browser tests cannot be skipped in CI: {missing}"
    );
    eprintln!("skipping the browser test: {missing}");
    None
}

/// chromedriver on a spare port, killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a spare port")
}

pub async fn start_driver(driver: &Path) -> Driver {
    let port = spare_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        profile: tempfile::tempdir().expect("profile directory"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let http = reqwest::Client::new();
    loop {
        if let Ok(response) = http.get(format!("{}/status", driver.url)).send().await
            && response.status().is_success()
        {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A browser session with a viewport of `width` × `height` CSS pixels.
pub async fn open_browser(driver: &Driver, chromium: &Path, width: u32, height: u32) -> Client {
    open_browser_with(driver, chromium, width, height, &[], None).await
}

/// The same, with more command-line switches and, if given, the profile's preferences.
pub async fn open_browser_with(
    driver: &Driver,
    chromium: &Path,
    width: u32,
    height: u32,
    extra: &[&str],
    prefs: Option<serde_json::Value>,
) -> Client {
    let mut caps = serde_json::Map::new();
    let mut options = json!({
            "binary": chromium.display().to_string(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                format!("--user-data-dir={}", driver.profile.path().display()),
                format!("--window-size={width},{height}"),
            ],
    });
    if let Some(args) = options["args"].as_array_mut() {
        args.extend(extra.iter().map(|a| json!(a)));
    }
    if let Some(prefs) = prefs {
        options["prefs"] = prefs;
    }
    // Chrome's windows are at least 500 px wide; narrower viewports are emulated.
    if width < 500 {
        options["mobileEmulation"] = json!({
            "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": true },
        });
    }
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// A step of a browser test: the failure as text, so the caller can close the browser
/// (and take a screenshot) before panicking.
pub type Step<T = ()> = Result<T, String>;

pub fn fail(what: &str) -> impl Fn(fantoccini::error::CmdError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

pub async fn text_of(browser: &Client, css: &str) -> Step<String> {
    let element = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .map_err(fail(css))?;
    element.text().await.map_err(fail(css))
}

pub async fn fill(browser: &Client, css: &str, value: &str) -> Step {
    let element = browser.find(Locator::Css(css)).await.map_err(fail(css))?;
    element.clear().await.map_err(fail(css))?;
    element.send_keys(value).await.map_err(fail(css))
}

pub async fn click(browser: &Client, css: &str) -> Step {
    browser
        .find(Locator::Css(css))
        .await
        .map_err(fail(css))?
        .click()
        .await
        .map_err(fail(css))
}

pub async fn path_of(browser: &Client) -> Step<String> {
    let url = browser.current_url().await.map_err(fail("current url"))?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

pub async fn body_text(browser: &Client) -> Step<String> {
    text_of(browser, "body").await
}

pub fn expect(cond: bool, what: impl FnOnce() -> String) -> Step {
    if cond { Ok(()) } else { Err(what()) }
}

/// One DevTools command through chromedriver.
pub async fn cdp(
    driver: &str,
    session: &str,
    cmd: &str,
    params: serde_json::Value,
) -> Step<serde_json::Value> {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{driver}/session/{session}/goog/cdp/execute"))
        .json(&json!({ "cmd": cmd, "params": params }))
        .send()
        .await
        .map_err(|e| format!("{cmd}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("{cmd}: {e}"))?;
    if let Some(error) = response["value"].get("error") {
        return Err(format!("{cmd}: {error}: {}", response["value"]["message"]));
    }
    Ok(response["value"].clone())
}

/// The session id, for [`cdp`].
pub async fn session_id(browser: &Client) -> Step<String> {
    browser
        .session_id()
        .await
        .map_err(fail("session id"))?
        .ok_or_else(|| "no session id".to_owned())
}

/// Writes a screenshot of the failure next to the other temporary files and says where.
pub async fn keep_failure_screenshot(browser: &Client, name: &str) {
    if let Ok(png) = browser.screenshot().await {
        let path = std::env::temp_dir().join(format!("banking-{name}-failure.png"));
        if std::fs::write(&path, png).is_ok() {
            eprintln!("screenshot of the failure: {}", path.display());
        }
    }
}
