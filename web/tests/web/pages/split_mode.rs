//! The split mode: web and api as two processes, and the web when the api is down.

use reqwest::StatusCode;

use crate::support::TestWeb;

#[tokio::test]
async fn the_split_mode_talks_to_a_separate_api_and_says_when_it_is_down() {
    let database = testkit::TestDatabase::new(testkit::Backend::Sqlite).await;
    let api_app = api::Application::build(crate::support::api_config(&database, None))
        .await
        .expect("api");
    let api_url = format!("http://127.0.0.1:{}/graphql", api_app.listeners().port());
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_server = tokio::spawn(api_app.run_until(async move {
        let _ = api_stopped.await;
    }));
    let target = web::config::ApiTarget::Remote(api_url.parse().expect("url"));
    let app = TestWeb::start(crate::support::web_config(target), None, "split".into()).await;
    app.sign_in("bob").await;
    let (_, _, body) = app.get("/").await;
    assert!(body.contains("$1,200.50"), "{body}");
    let (status, _, _) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    // The web serves pages only: the api's routes are not here.
    let (status, _, _) = app.get("/graphql").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The api goes away: a clear 503 page, never a stack trace.
    let _ = stop_api.send(());
    let _ = api_server.await;
    let (status, _, body) = app.get("/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("the bank is unavailable"), "{body}");
    assert!(body.contains("Your money is safe"));
    let (status, _, _) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    app.shutdown().await;
    drop(database);
}
