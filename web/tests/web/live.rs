//! Live updates and the GraphQL playground in a real browser (headless Chromium with
//! every host but 127.0.0.1 unresolvable, so nothing can load from elsewhere):
//! GraphiQL loads from this server alone, shows the schema's docs, runs a query and a
//! subscription that hears a transfer; an open dashboard shows money arriving without a
//! reload, and the same dashboard with JavaScript off is the page it always was.
#![cfg(feature = "embedded")]

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::support::TestWeb;
use crate::support::browser::{
    ONE_BROWSER, Step, browser_tools, click, expect, fail, keep_failure_screenshot,
    open_browser_with, start_driver, text_of,
};

/// Any host but this machine fails to resolve.
const OFFLINE: &str = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1";

async fn with_browser(
    name: &str,
    javascript: bool,
    journey: impl AsyncFnOnce(&Client, &TestWeb) -> Step,
) {
    let Some((chromium, driver_path)) = browser_tools() else {
        return;
    };
    let _one = ONE_BROWSER.lock().await;
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
    let driver = start_driver(&driver_path).await;
    let prefs =
        (!javascript).then(|| json!({ "profile.managed_default_content_settings.javascript": 2 }));
    let browser = open_browser_with(&driver, &chromium, 1280, 900, &[OFFLINE], prefs).await;
    let outcome = journey(&browser, &app).await;
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

async fn eval(browser: &Client, script: &str) -> Step<serde_json::Value> {
    browser
        .execute(script, vec![])
        .await
        .map_err(fail("run a script"))
}

async fn eventually(
    browser: &Client,
    what: &str,
    within: Duration,
    script: &str,
) -> Step<serde_json::Value> {
    let started = Instant::now();
    loop {
        let value = eval(browser, script).await?;
        if value.as_bool() == Some(true) || (value.is_string() && value != "") {
            return Ok(value);
        }
        if started.elapsed() > within {
            return Err(format!("{what}: not within {within:?} (last {value})"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every resource the page loaded came from the server under test.
async fn only_this_origin(browser: &Client, base: &str) -> Step {
    let names = eval(
        browser,
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);",
    )
    .await?;
    let names: Vec<String> = serde_json::from_value(names).map_err(|e| e.to_string())?;
    let foreign: Vec<&String> = names.iter().filter(|n| !n.starts_with(base)).collect();
    expect(foreign.is_empty(), || {
        format!("loaded from elsewhere: {foreign:?}")
    })
}

/// Sets a GraphiQL editor's text (CodeMirror keeps its instance on its element).
async fn set_editor(browser: &Client, selector: &str, index: usize, text: &str) -> Step {
    let script = format!(
        "const e = document.querySelectorAll({selector:?})[{index}]; if (!e) return false; e.CodeMirror.setValue({text:?}); return true;",
        text = text
    );
    let done = eval(browser, &script).await?;
    expect(done == true, || format!("no editor {selector}[{index}]"))
}

async fn result_text(browser: &Client) -> Step<String> {
    let value = eval(
        browser,
        "const r = document.querySelector('.result-window .CodeMirror'); return r ? r.CodeMirror.getValue() : '';",
    )
    .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_works_offline_shows_the_docs_and_runs_a_query_and_a_subscription() {
    with_browser("graphiql", true, async |browser, app| {
        let alice = app.accounts("alice").await;
        let token = app.api_token("alice").await;
        browser
            .goto(&app.url("/graphql"))
            .await
            .map_err(fail("open /graphql"))?;
        eventually(
            browser,
            "GraphiQL renders",
            Duration::from_secs(20),
            "return !!document.querySelector('.graphiql-container .graphiql-query-editor .CodeMirror');",
        )
        .await?;

        // The schema's docs: the explorer lists the root types, and the subscription.
        click(browser, "[aria-label='Show Documentation Explorer']").await?;
        let docs = text_of(browser, ".graphiql-doc-explorer").await?;
        expect(docs.contains("Query") && docs.contains("Subscription"), || {
            format!("the docs explorer shows: {docs}")
        })?;

        // A query, with the token in the headers editor.
        click(browser, "[data-name='headers']").await.or(Ok::<(), String>(()))?;
        set_editor(
            browser,
            ".graphiql-editor-tool .CodeMirror",
            1,
            &format!("{{\"Authorization\": \"Bearer {token}\"}}"),
        )
        .await?;
        set_editor(
            browser,
            ".graphiql-query-editor .CodeMirror",
            0,
            "{ me { username accounts { accountNumber balance } } }",
        )
        .await?;
        click(browser, ".graphiql-execute-button").await?;
        let answered = eventually(
            browser,
            "the query's answer",
            Duration::from_secs(10),
            "const r = document.querySelector('.result-window .CodeMirror'); return !!r && r.CodeMirror.getValue().includes('alice');",
        )
        .await;
        answered.map_err(|e| e + " | " + "query")?;

        // A subscription, which hears Bob's transfer to Alice.
        set_editor(
            browser,
            ".graphiql-query-editor .CodeMirror",
            0,
            "subscription { accountUpdated { account { accountNumber balance } transaction { amount } } }",
        )
        .await?;
        click(browser, ".graphiql-execute-button").await?;
        // Running: the execute button turns into a stop button.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let bob = app.api_token("bob").await;
        let bob_accounts = app.gql(Some(&bob), "{ accounts { id } }", json!({})).await;
        let sent = app
            .gql(
                Some(&bob),
                "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
                json!({ "input": { "fromAccountId": bob_accounts["data"]["accounts"][0]["id"], "toAccountNumber": alice[0].1, "amount": "7.25", "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
            )
            .await;
        expect(sent["errors"].is_null(), || format!("transfer: {sent}"))?;
        let heard = eventually(
            browser,
            "the subscription's event",
            Duration::from_secs(10),
            "const r = document.querySelector('.result-window .CodeMirror'); return !!r && r.CodeMirror.getValue().includes('accountUpdated') && r.CodeMirror.getValue().includes('7.25');",
        )
        .await;
        if heard.is_err() {
            return Err(format!("no event; the result pane shows: {}", result_text(browser).await?));
        }
        only_this_origin(browser, &app.base).await?;
        let inline = eval(browser, "return document.querySelectorAll('script:not([src])').length;").await?;
        expect(inline == 0, || format!("{inline} inline scripts"))
    })
    .await;
}

/// Bob, in a session of his own, pays Alice through the transfer form.
async fn bob_pays_alice(app: &TestWeb, alice_number: &str, amount: &str) {
    app.sign_in("bob").await;
    let bob = app.accounts("bob").await;
    let (_, _, form) = app.get("/transfer").await;
    let csrf = crate::support::hidden(&form, "csrf").expect("csrf");
    let key = crate::support::hidden(&form, "key").expect("key");
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("from", bob[0].0.as_str()),
        ("to", alice_number),
        ("amount", amount),
        ("description", "Live"),
    ];
    let (_, _, done) = app.post("/transfer/confirm", &fields).await;
    assert!(done.contains("Transfer complete"), "{done}");
}

async fn sign_in_alice(browser: &Client, app: &TestWeb) -> Step {
    browser
        .goto(&app.url("/login"))
        .await
        .map_err(fail("open /login"))?;
    crate::support::browser::fill(browser, "#username", "alice").await?;
    crate::support::browser::fill(browser, "#password", crate::support::PASSWORD).await?;
    click(browser, "#sign-in").await?;
    text_of(browser, "#total-balance").await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_dashboard_shows_money_arriving_without_a_reload() {
    with_browser("live-dashboard", true, async |browser, app| {
        let alice = app.accounts("alice").await;
        sign_in_alice(browser, app).await?;
        let balance = format!("[data-balance-for=\"{}\"]", alice[0].1);
        let before = text_of(browser, &balance).await?;
        expect(before == "$2,500.00", || format!("before: {before}"))?;
        // A mark on this page: a reload would wipe it.
        eval(browser, "window.stillThisPage = true; return true;").await?;
        // Wait for the event stream to be up before the money moves.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        bob_pays_alice(app, &alice[0].1, "42.00").await;
        eventually(
            browser,
            "the new balance",
            Duration::from_secs(5),
            &format!(
                "const b = document.querySelector({balance:?}); return !!b && b.textContent === '$2,542.00';"
            ),
        )
        .await?;
        let total = text_of(browser, "#total-balance").await?;
        expect(total == "$2,542.00", || format!("total: {total}"))?;
        let latest = text_of(browser, &format!("[data-account-number=\"{}\"] .tx", alice[0].1)).await?;
        expect(latest.contains("42.00"), || format!("latest transaction: {latest}"))?;
        let same = eval(browser, "return window.stillThisPage === true;").await?;
        expect(same == true, || "the page was reloaded".into())?;
        only_this_origin(browser, &app.base).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_without_javascript_is_the_same_page() {
    with_browser("dashboard-no-js", false, async |browser, app| {
        let alice = app.accounts("alice").await;
        sign_in_alice(browser, app).await?;
        let balance = format!("[data-balance-for=\"{}\"]", alice[0].1);
        let before = text_of(browser, &balance).await?;
        expect(before == "$2,500.00", || format!("before: {before}"))?;
        bob_pays_alice(app, &alice[0].1, "10.00").await;
        // No script runs, so nothing changes until the customer reloads; then it shows.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let unchanged = text_of(browser, &balance).await?;
        expect(unchanged == "$2,500.00", || {
            format!("changed without JavaScript: {unchanged}")
        })?;
        browser.refresh().await.map_err(fail("reload"))?;
        let after = text_of(browser, &balance).await?;
        expect(after == "$2,510.00", || format!("after a reload: {after}"))?;
        let links = browser
            .find_all(Locator::Css("#start-transfer"))
            .await
            .map_err(fail("the transfer link"))?;
        expect(links.len() == 1, || "no transfer link".into())
    })
    .await;
}
