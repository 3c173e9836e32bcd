//! Accessibility (WCAG 2.2 AA), checked in a real browser: headless Chromium through
//! chromedriver, as `browser.rs` drives it.
//!
//! - Every page and every state of each form (empty, with errors, review, done), at
//!   375 px and 1280 px, goes through axe-core (the pinned npm package in
//!   `scripts/node`, injected into the page) with the WCAG 2.0/2.1/2.2 A and AA rules
//!   and the best practices. Any violation fails, naming the page and state, the width,
//!   the rule and the elements.
//! - The same check fails on a test-only page with known violations, so a check that
//!   silently checks nothing cannot pass.
//! - Keyboard only (Tab, Shift-Tab, Enter, Space and typing): sign in, transfer with
//!   review and confirm, sign out; a visible focus indicator at every stop, and the
//!   error summary takes the focus when a form is refused.
//!
//! Needs Chromium and chromedriver (as `browser.rs`) and
//! `scripts/node/node_modules/axe-core` (`npm ci --prefix scripts/node`; `scripts/test`
//! runs it). Without them the tests fail under CI and are skipped, with a note, elsewhere.
#![cfg(feature = "embedded")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::TestWeb;
use crate::support::browser::{
    ONE_BROWSER, Step, browser_tools, cdp, click, expect, fail, fill, keep_failure_screenshot,
    open_browser, path_of, session_id, start_driver, text_of,
};
use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::{Value, json};

/// The widths every state is checked at: a phone's and a laptop's.
const WIDTHS: [(u32, u32); 2] = [(375, 812), (1280, 900)];

/// WCAG 1.4.10 (reflow): content fits 320 CSS px without scrolling sideways. Checked
/// at this width too (no axe run) and at each of `WIDTHS`.
const REFLOW: (u32, u32) = (320, 640);

/// WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
const AXE_TAGS: [&str; 6] = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// The version `scripts/node/package-lock.json` pins; a different one means the
/// install is not the one CI checks with.
const AXE_VERSION: &str = "4.14.1";

// ---------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_state_passes_axe_at_phone_and_laptop_widths() {
    let Some(axe) = axe_source() else { return };
    with_browser("axe", async |browser, app, driver| {
        let mut audit = Audit::new(browser, driver, &axe).await?;
        audit_every_state(&mut audit, app).await?;
        expect(audit.findings.is_empty(), || {
            format!(
                "axe found {} violations in {} runs ({} states × {} widths):\n{}",
                audit.findings.len(),
                audit.runs,
                audit.states.len(),
                WIDTHS.len(),
                audit.findings.join("\n")
            )
        })?;
        eprintln!(
            "axe {AXE_VERSION}: {} states × {} widths ({} runs), and reflow at {}px too: no violations",
            audit.states.len(),
            WIDTHS.len(),
            audit.runs,
            REFLOW.0
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axe_check_fails_on_a_page_with_known_violations() {
    let Some(axe) = axe_source() else { return };
    with_browser("axe-known-bad", async |browser, _app, driver| {
        // Not a page of the product: made here, from a data: URL. An input without a
        // label, the error colour this project once had on its grey page, and a box
        // wider than a phone.
        let page = r#"<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width"><title>Known violations</title></head>
            <body style="background:#f3f5f7"><main><h1>Known violations</h1>
            <input type="text" id="nameless">
            <p id="faint" style="color:#d4351c">Enter an amount</p>
            <div id="wide" style="width:600px">Too wide for a phone</div>
            </main></body></html>"#;
        browser
            .goto(&data_url(page))
            .await
            .map_err(fail("open the test page"))?;
        let mut audit = Audit::new(browser, driver, &axe).await?;
        audit.check("known-bad test page").await?;
        let report = audit.findings.join("\n");
        eprintln!("on the known-bad page the check reports, as it should:\n{report}");
        for width in WIDTHS.map(|(w, _)| w) {
            for (rule, selector) in [("label", "#nameless"), ("color-contrast", "#faint")] {
                expect(
                    audit.findings.iter().any(|f| {
                        f.starts_with(&format!("known-bad test page at {width}px: {rule} "))
                            && f.contains(selector)
                    }),
                    || format!("no {rule} violation on {selector} at {width}px in:\n{report}"),
                )?;
            }
        }
        for width in [REFLOW.0, WIDTHS[0].0] {
            expect(
                audit.findings.iter().any(|f| {
                    f.starts_with(&format!("known-bad test page at {width}px: reflow "))
                        && f.contains("div#wide")
                }),
                || format!("no reflow finding on div#wide at {width}px in:\n{report}"),
            )?;
        }
        expect(
            !audit.findings.iter().any(|f| f.contains("1280px: reflow")),
            || format!("a reflow finding at 1280px in:\n{report}"),
        )?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_sign_in_transfer_and_sign_out() {
    with_browser("keyboard", async |browser, app, _driver| {
        keyboard_journey(browser, app).await
    })
    .await;
}

// ---------------------------------------------------------------------------------
// One browser per test, always closed
// ---------------------------------------------------------------------------------

/// Starts the all-in-one, chromedriver and a 1280 × 900 browser, runs `steps`, and
/// closes everything before reporting a failure (with a screenshot of it).
async fn with_browser(name: &str, steps: impl AsyncFnOnce(&Client, &TestWeb, &str) -> Step) {
    let Some((chromium, driver_path)) = browser_tools() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
    let driver = start_driver(&driver_path).await;
    let (width, height) = WIDTHS[1];
    let browser = open_browser(&driver, &chromium, width, height).await;
    let outcome = steps(&browser, &app, &driver.url).await;
    if outcome.is_err() {
        keep_failure_screenshot(&browser, name).await;
    }
    let _ = browser.close().await;
    drop(driver);
    app.shutdown().await;
    if let Err(e) = outcome {
        panic!("{name}: {e}");
    }
}

// ---------------------------------------------------------------------------------
// axe-core
// ---------------------------------------------------------------------------------

fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/node/node_modules/axe-core/axe.min.js")
}

/// axe-core's browser build, or `None` (skip) outside CI when it is not installed.
fn axe_source() -> Option<String> {
    let path = axe_path();
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            let missing = format!(
                "{}: {e} (run `npm ci --prefix scripts/node`)",
                path.display()
            );
            assert!(
                std::env::var_os("CI").is_none(),
                "the accessibility check cannot be skipped in CI: {missing}"
            );
            eprintln!("skipping the accessibility check: {missing}");
            None
        }
    }
}

/// Runs axe over the page the browser shows, at each width, and collects what it finds.
struct Audit<'a> {
    browser: &'a Client,
    driver: &'a str,
    session: String,
    /// axe's source followed by the call that runs it (an async WebDriver script).
    script: String,
    /// One line per violation: "{state} at {width}px: {rule} ({impact}) {help}: {selectors}".
    findings: Vec<String>,
    /// The states checked, in order.
    states: Vec<String>,
    runs: usize,
}

impl<'a> Audit<'a> {
    async fn new(browser: &'a Client, driver: &'a str, axe: &str) -> Step<Audit<'a>> {
        // The source is part of the script itself rather than an added <script>, so a
        // Content-Security-Policy on the pages cannot stop it. It defines `window.axe`
        // once per document.
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const tags = arguments[0];
             if (!window.axe) {{
             {axe}
             }}
             window.axe
               .run(document, {{ runOnly: {{ type: 'tag', values: tags }}, resultTypes: ['violations'] }})
               .then(r => done({{
                 version: r.testEngine.version,
                 url: r.url,
                 violations: r.violations.map(v => ({{
                   id: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.map(n => n.target.join(' '))
                 }}))
               }}), e => done({{ error: String(e && e.stack || e) }}));"
        );
        Ok(Audit {
            browser,
            driver,
            session: session_id(browser).await?,
            script,
            findings: Vec::new(),
            states: Vec::new(),
            runs: 0,
        })
    }

    /// Emulates a viewport of `width` × `height` on the current page (and the next
    /// ones): a phone's (with its meta viewport honoured) below 500 px.
    async fn viewport(&self, width: u32, height: u32) -> Step {
        cdp(
            self.driver,
            &self.session,
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500 }),
        )
        .await?;
        Ok(())
    }

    /// Notes a page wider than the viewport of `width` (it would scroll sideways).
    async fn reflows(&mut self, state: &str, width: u32) -> Step {
        let sizes = self
            .browser
            .execute(
                "return [window.innerWidth, document.documentElement.scrollWidth];",
                vec![],
            )
            .await
            .map_err(fail("page width"))?;
        // A phone widens its layout viewport to fit content that does not reflow, so
        // either number above `width` means sideways scrolling.
        let (inner, scroll) = (
            sizes[0].as_u64().unwrap_or_default(),
            sizes[1].as_u64().unwrap_or_default(),
        );
        let width = u64::from(width);
        expect(inner >= width, || {
            format!("{state}: the viewport is {inner}px wide, not {width}px")
        })?;
        if inner.max(scroll) > width {
            self.findings.push(format!(
                "{state} at {width}px: reflow (WCAG 1.4.10) the page is {}px wide and scrolls sideways: {}",
                inner.max(scroll),
                self.overflowing(width).await?
            ));
        }
        Ok(())
    }

    /// The elements that stick out of the viewport on the right, as CSS selectors.
    async fn overflowing(&self, width: u64) -> Step<String> {
        let found = self
            .browser
            .execute(
                "return [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > arguments[0] + 0.5)
                   .slice(0, 5)
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.classList.length ? '.' + [...e.classList].join('.') : ''))
                   .join(', ');",
                vec![json!(width)],
            )
            .await
            .map_err(fail("overflowing elements"))?;
        Ok(found.as_str().unwrap_or_default().to_owned())
    }

    /// Checks the page as it is now, at every width; the state names it in findings.
    async fn check(&mut self, state: &str) -> Step {
        expect(!self.states.iter().any(|s| s == state), || {
            format!("state {state:?} checked twice")
        })?;
        self.states.push(state.to_owned());
        self.viewport(REFLOW.0, REFLOW.1).await?;
        self.reflows(state, REFLOW.0).await?;
        for (width, height) in WIDTHS {
            self.viewport(width, height).await?;
            self.reflows(state, width).await?;
            let result = self
                .browser
                .execute_async(&self.script, vec![json!(AXE_TAGS)])
                .await
                .map_err(fail(&format!("axe on {state} at {width}px")))?;
            self.runs += 1;
            if let Some(error) = result.get("error") {
                return Err(format!("axe on {state} at {width}px failed: {error}"));
            }
            let version = result["version"].as_str().unwrap_or_default();
            expect(version == AXE_VERSION, || {
                format!("axe {version} ran; the lockfile pins {AXE_VERSION}")
            })?;
            let violations = result["violations"]
                .as_array()
                .ok_or_else(|| format!("axe on {state}: no violations list in {result}"))?;
            for v in violations {
                let targets: Vec<&str> = v["targets"]
                    .as_array()
                    .map(|t| t.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                self.findings.push(format!(
                    "{state} at {width}px: {} ({}) {}: {}",
                    v["id"].as_str().unwrap_or("?"),
                    v["impact"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    targets.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// A data: URL of an HTML page (everything but unreserved characters escaped).
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for byte in html.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    url
}

/// Waits for `css` and checks the page heading, so each audit is of the state it names.
async fn at(browser: &Client, css: &str, heading: &str) -> Step {
    text_of(browser, css).await?;
    let h1 = text_of(browser, "h1").await?;
    expect(h1 == heading, || {
        format!("expected the page {heading:?}, found {h1:?} at {:?}", css)
    })
}

/// Walks every page and state, checking each.
async fn audit_every_state(audit: &mut Audit<'_>, app: &TestWeb) -> Step {
    let browser = audit.browser;
    let alice = app.accounts("alice").await;
    let bob = app.accounts("bob").await;
    let go = |path: &str| {
        let url = app.url(path);
        async move { browser.goto(&url).await.map_err(fail(&url)) }
    };

    // Signed out.
    go("/login").await?;
    at(browser, "#sign-in", "Sign in").await?;
    audit.check("sign-in").await?;
    click(browser, "#sign-in").await?;
    at(browser, ".error-summary", "Sign in").await?;
    audit.check("sign-in, with errors").await?;

    go("/signup").await?;
    at(browser, "#create-account", "Open an account").await?;
    audit.check("sign-up").await?;
    fill(browser, "#username", "x").await?;
    fill(browser, "#email", "not an address").await?;
    fill(browser, "#password", "short").await?;
    click(browser, "#create-account").await?;
    at(browser, ".error-summary", "Open an account").await?;
    audit.check("sign-up, with errors").await?;

    go("/no-such-page").await?;
    at(browser, "main", "Page not found").await?;
    audit.check("404, signed out").await?;

    // Signed in.
    go("/login").await?;
    fill(browser, "#username", "alice").await?;
    fill(browser, "#password", crate::support::PASSWORD).await?;
    click(browser, "#sign-in").await?;
    at(browser, "#total-balance", "Your accounts").await?;
    audit.check("dashboard").await?;

    go(&format!("/accounts/{}", alice[0].0)).await?;
    at(browser, "svg.chart__svg", "Checking account").await?;
    audit.check("account, with the balance chart").await?;

    go("/transfer").await?;
    at(browser, "#continue", "Transfer money").await?;
    audit.check("transfer").await?;
    click(browser, "#continue").await?;
    at(browser, ".error-summary", "Transfer money").await?;
    audit.check("transfer, with errors").await?;
    click(browser, "label[for=\"from\"]").await?;
    fill(browser, "#to", &bob[0].1).await?;
    fill(browser, "#amount", "12.50").await?;
    fill(browser, "#description", "Rent share").await?;
    click(browser, "#continue").await?;
    at(browser, "#review-amount", "Check your transfer").await?;
    audit.check("transfer review").await?;
    click(browser, "#confirm").await?;
    at(browser, ".panel__title", "Transfer complete").await?;
    audit.check("transfer done").await?;
    // Refused by the api after review: no such account.
    go("/transfer").await?;
    click(browser, "label[for=\"from\"]").await?;
    fill(browser, "#to", "0000000001").await?;
    fill(browser, "#amount", "5").await?;
    click(browser, "#continue").await?;
    at(browser, "#confirm", "Check your transfer").await?;
    click(browser, "#confirm").await?;
    at(browser, ".error-summary", "Transfer money").await?;
    audit.check("transfer, refused after review").await?;

    go("/deposit").await?;
    at(browser, "#deposit", "Deposit money").await?;
    audit.check("deposit").await?;
    click(browser, "#deposit").await?;
    at(browser, ".error-summary", "Deposit money").await?;
    audit.check("deposit, with errors").await?;
    click(browser, "label[for=\"account\"]").await?;
    fill(browser, "#amount", "40").await?;
    click(browser, "#deposit").await?;
    at(browser, ".panel__title", "Deposit received").await?;
    audit.check("deposit done").await?;

    // Payees, and paying one.
    go("/payees").await?;
    at(browser, "#add-payee", "Payees").await?;
    audit.check("payees, none saved").await?;
    click(browser, "#add-payee").await?;
    at(browser, ".error-summary", "Payees").await?;
    audit.check("payees, with errors").await?;
    fill(browser, "#name", "Bob").await?;
    fill(browser, "#account_number", &bob[0].1).await?;
    click(browser, "#add-payee").await?;
    at(browser, ".notice", "Payees").await?;
    audit.check("payees, one saved").await?;
    go("/transfer").await?;
    at(browser, "#payee", "Transfer money").await?;
    audit.check("transfer, with saved payees").await?;
    click(browser, "label[for=\"from\"]").await?;
    click(browser, "label[for=\"payee\"]").await?;
    fill(browser, "#amount", "1").await?;
    click(browser, "#continue").await?;
    at(browser, "#review-payee", "Check your transfer").await?;
    audit.check("transfer review, to a saved payee").await?;

    // Another account.
    go("/accounts/open").await?;
    at(browser, "#open", "Open an account").await?;
    audit.check("open an account").await?;
    click(browser, "#open").await?;
    at(browser, ".error-summary", "Open an account").await?;
    audit.check("open an account, with errors").await?;
    click(browser, "label[for=\"type-savings\"]").await?;
    click(browser, "#open").await?;
    at(browser, "#move-money", "Savings account opened").await?;
    audit.check("account opened").await?;
    let opened = app.accounts("alice").await;
    let (opened_id, _, _) = opened.last().ok_or("no accounts")?;
    go(&format!("/accounts/{opened_id}")).await?;
    at(browser, "#chart-empty", "Savings account").await?;
    audit.check("account, no transactions to chart").await?;
    go(&format!(
        "/accounts/{}/statement.csv?from=2026-11-02&to=2026-11-01",
        alice[0].0
    ))
    .await?;
    at(browser, ".error-summary", "Checking account").await?;
    audit.check("account, statement dates refused").await?;

    go("/settings").await?;
    at(browser, "#create-token", "Settings").await?;
    audit.check("settings").await?;
    click(browser, "#create-token").await?;
    at(browser, ".error-summary", "Settings").await?;
    audit.check("settings, with errors").await?;
    click(browser, "label[for=\"ttl\"]").await?;
    click(browser, "#create-token").await?;
    at(browser, "#token", "Settings").await?;
    audit.check("settings, read-only token created").await?;

    go("/no-such-page").await?;
    at(browser, "main", "Page not found").await?;
    audit.check("404, signed in").await?;
    go("/accounts/999999999").await?;
    text_of(browser, "h1").await?;
    audit.check("someone else's or a missing account").await?;

    // In Spanish, by the language link: `<html lang="es">`, the link back to English
    // marked `lang="en"`, and the longer Spanish words still fit at 320 px.
    go("/").await?;
    click(browser, "#language-es").await?;
    at(browser, "#total-balance", "Sus cuentas").await?;
    audit.check("dashboard, in Spanish").await?;
    go("/transfer").await?;
    at(browser, "#continue", "Transferir dinero").await?;
    click(browser, "#continue").await?;
    at(browser, ".error-summary", "Transferir dinero").await?;
    audit.check("transfer, with errors, in Spanish").await?;
    click(browser, "label[for=\"from\"]").await?;
    fill(browser, "#to", &bob[0].1).await?;
    fill(browser, "#amount", "12,50").await?;
    click(browser, "#continue").await?;
    at(browser, "#review-amount", "Revise su transferencia").await?;
    audit.check("transfer review, in Spanish").await?;
    go(&format!("/accounts/{}", alice[0].0)).await?;
    at(browser, "#account-balance", "Cuenta Corriente").await?;
    audit.check("account, in Spanish").await?;
    click(browser, "#sign-out").await?;
    at(browser, ".notice", "Acceder").await?;
    audit
        .check("sign-in, after signing out, in Spanish")
        .await?;
    click(browser, "#language-en").await?;
    at(browser, "#sign-in", "Sign in").await?;
    fill(browser, "#username", "alice").await?;
    fill(browser, "#password", crate::support::PASSWORD).await?;
    click(browser, "#sign-in").await?;
    at(browser, "#total-balance", "Your accounts").await?;

    // The error pages have no navigation (see docs/accessibility.md): sign out from
    // the dashboard.
    go("/").await?;
    click(browser, "#sign-out").await?;
    at(browser, ".notice", "Sign in").await?;
    audit.check("sign-in, after signing out").await?;
    let at_path = path_of(browser).await?;
    expect(at_path.starts_with("/login"), || {
        format!("signed out at {at_path}")
    })
}

// ---------------------------------------------------------------------------------
// Keyboard only
// ---------------------------------------------------------------------------------

/// Presses and releases `key` (with Shift held when `shift`).
async fn press(browser: &Client, key: Key, shift: bool) -> Step {
    let mut keys = KeyActions::new("keyboard".into());
    if shift {
        keys = keys.then(KeyAction::Down {
            value: Key::Shift.into(),
        });
    }
    keys = keys
        .then(KeyAction::Down { value: key.into() })
        .then(KeyAction::Up { value: key.into() });
    if shift {
        keys = keys.then(KeyAction::Up {
            value: Key::Shift.into(),
        });
    }
    browser
        .perform_actions(keys)
        .await
        .map_err(fail(&format!("press {key:?}")))
}

/// Types `text` into whatever has the focus, one key at a time.
async fn type_text(browser: &Client, text: &str) -> Step {
    let mut keys = KeyActions::new("keyboard".into());
    for c in text.chars() {
        keys = keys
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    browser
        .perform_actions(keys)
        .await
        .map_err(fail(&format!("type {text:?}")))
}

/// What has the focus and how it shows, measured in the page: the element's computed
/// outline, box-shadow and background while focused, compared with the same element
/// unfocused (blurred for a moment and focused again).
const FOCUS_PROBE: &str = r#"
const el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) return { none: true };
const style = () => {
  const s = getComputedStyle(el);
  return { outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0,
           outlineColor: s.outlineColor, boxShadow: s.boxShadow, background: s.backgroundColor };
};
const clear = c => /^rgba\(.*,\s*0\)$/.test(c) || c === 'transparent';
const outlined = s => s.outlineStyle !== 'none' && s.outlineWidth >= 2 && !clear(s.outlineColor);
const focused = style();
const focusVisible = el.matches(':focus-visible');
el.blur();
const rest = style();
el.focus({ preventScroll: true });
const r = el.getBoundingClientRect();
const label = el.id ? '#' + el.id
  : el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : '')
    + (el.getAttribute('href') ? '[href="' + el.getAttribute('href').replace(/\?[^#]*/, '?…') + '"]' : '');
return {
  label,
  id: el.id,
  text: (el.innerText || el.value || '').trim().slice(0, 60),
  focusVisible,
  refocused: document.activeElement === el,
  indicator: (outlined(focused) && !outlined(rest))
    || focused.boxShadow !== rest.boxShadow
    || focused.background !== rest.background,
  inView: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth
    && r.width > 0 && r.height > 0,
  focused, rest,
};
"#;

/// Where the focus is, checked to be visible (WCAG 2.4.7) and on screen (2.4.11).
async fn focus_shown(browser: &Client) -> Step<Value> {
    let focus = browser
        .execute(FOCUS_PROBE, vec![])
        .await
        .map_err(fail("probe the focus"))?;
    expect(focus.get("none").is_none(), || {
        "nothing has the focus".into()
    })?;
    let label = focus["label"].as_str().unwrap_or("?").to_owned();
    expect(focus["indicator"] == json!(true), || {
        format!("no visible focus indicator on {label}: {focus}")
    })?;
    expect(focus["inView"] == json!(true), || {
        format!("the focused {label} is off screen: {focus}")
    })?;
    expect(focus["refocused"] == json!(true), || {
        format!("{label} did not take the focus back")
    })?;
    Ok(focus)
}

/// Presses Tab (Shift-Tab when `back`) until `css` has the focus, checking the focus
/// indicator at every stop on the way. Returns the stops.
async fn tab_to(browser: &Client, css: &str, back: bool) -> Step<Vec<String>> {
    let mut stops = Vec::new();
    for _ in 0..25 {
        press(browser, Key::Tab, back).await?;
        let focus = focus_shown(browser)
            .await
            .map_err(|e| format!("tabbing to {css} after {}: {e}", stops.join(" → ")))?;
        stops.push(focus["label"].as_str().unwrap_or("?").to_owned());
        let there = browser
            .execute(
                "return document.activeElement.matches(arguments[0]);",
                vec![json!(css)],
            )
            .await
            .map_err(fail("match the focus"))?;
        if there == json!(true) {
            eprintln!(
                "{}: {}",
                if back { "Shift-Tab" } else { "Tab" },
                stops.join(" → ")
            );
            return Ok(stops);
        }
    }
    Err(format!(
        "{css} not reached with {}: {}",
        if back { "Shift-Tab" } else { "Tab" },
        stops.join(" → ")
    ))
}

/// Waits (for a page load and its autofocus) until `css` has the focus.
async fn focus_lands_on(browser: &Client, css: &str) -> Step<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let there = browser
            .execute(
                "return !!document.activeElement && document.activeElement.matches(arguments[0]);",
                vec![json!(css)],
            )
            .await
            .map_err(fail("match the focus"))?;
        if there == json!(true) {
            return focus_shown(browser).await;
        }
        if Instant::now() > deadline {
            let focus = browser
                .execute(
                    "const e = document.activeElement; return e ? e.outerHTML.slice(0, 120) : null;",
                    vec![],
                )
                .await
                .map_err(fail("the focus"))?;
            return Err(format!("the focus is not on {css} but on {focus}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn title(browser: &Client) -> Step<String> {
    browser.title().await.map_err(fail("title"))
}

async fn keyboard_journey(browser: &Client, app: &TestWeb) -> Step {
    let alice = app.accounts("alice").await;
    let bob = app.accounts("bob").await;
    browser
        .goto(&app.url("/login"))
        .await
        .map_err(fail("open /login"))?;
    at(browser, "#sign-in", "Sign in").await?;

    // The first Tab shows the skip link; Enter on it moves on to the main content.
    let stops = tab_to(browser, ".skip-link", false).await?;
    expect(stops.len() == 1, || {
        format!("the skip link is not the first stop: {}", stops.join(" → "))
    })?;
    press(browser, Key::Enter, false).await?;
    tab_to(browser, "#username", false).await?;
    type_text(browser, "alice").await?;
    tab_to(browser, "#password", false).await?;
    type_text(browser, "not the password").await?;
    press(browser, Key::Enter, false).await?;

    // Refused: the error summary has the focus, and its link leads to the field.
    focus_lands_on(browser, ".error-summary").await?;
    let t = title(browser).await?;
    expect(t.starts_with("Error: "), || format!("title {t:?}"))?;
    tab_to(browser, ".error-summary a", false).await?;
    press(browser, Key::Enter, false).await?;
    focus_lands_on(browser, "#username").await?;
    tab_to(browser, "#password", false).await?;
    type_text(browser, crate::support::PASSWORD).await?;
    press(browser, Key::Enter, false).await?;
    at(browser, "#total-balance", "Your accounts").await?;

    // To the transfer form through the main navigation.
    tab_to(browser, "a[href=\"/transfer\"]", false).await?;
    press(browser, Key::Enter, false).await?;
    at(browser, "#continue", "Transfer money").await?;

    // Continue with nothing filled in: refused, the summary has the focus.
    tab_to(browser, "#continue", false).await?;
    press(browser, Key::Space, false).await?;
    focus_lands_on(browser, ".error-summary").await?;

    // The account by Space on its radio button, then the fields, Enter to continue.
    tab_to(browser, "#from", false).await?;
    press(browser, Key::Space, false).await?;
    let checked = browser
        .execute("return document.getElementById('from').checked;", vec![])
        .await
        .map_err(fail("radio state"))?;
    expect(checked == json!(true), || {
        "Space did not select the account".into()
    })?;
    tab_to(browser, "#to", false).await?;
    type_text(browser, &bob[0].1).await?;
    tab_to(browser, "#amount", false).await?;
    type_text(browser, "12.50").await?;
    tab_to(browser, "#description", false).await?;
    type_text(browser, "Keyboard only").await?;
    press(browser, Key::Enter, false).await?;

    // Review, then confirm with Enter.
    let amount = text_of(browser, "#review-amount").await?;
    expect(amount == "$12.50", || format!("review amount {amount}"))?;
    tab_to(browser, "#confirm", false).await?;
    press(browser, Key::Enter, false).await?;
    let done = text_of(browser, ".panel__title").await?;
    expect(done == "Transfer complete", || {
        format!("after confirm: {done}")
    })?;
    let balances = app.balances("alice").await;
    expect(balances[0] == "2487.50", || {
        format!("alice's balances after the transfer: {balances:?} (was {alice:?})")
    })?;

    // Sign out: Tab down the page, Shift-Tab back up to the button, Space.
    tab_to(browser, "#back-to-accounts", false).await?;
    tab_to(browser, "#sign-out", true).await?;
    press(browser, Key::Space, false).await?;
    let notice = text_of(browser, ".notice").await?;
    expect(notice.contains("You have signed out"), || {
        format!("notice: {notice}")
    })?;
    browser.goto(&app.url("/")).await.map_err(fail("open /"))?;
    let at_path = path_of(browser).await?;
    expect(at_path == "/login", || {
        format!("after sign-out / is at {at_path}")
    })
}
