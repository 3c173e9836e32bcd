//! The HTTP stack's limit for `just bench`: the smallest axum handler, JSON out, on the
//! same runtime settings as the api. Not part of the product.

use axum::{Json, Router, routing::get};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8099".into());
    let app = Router::new().route(
        "/",
        get(|| async { Json(serde_json::json!([{ "id": 1, "balance": "100.00" }])) })
            .post(|| async { "ok" }),
    );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    axum::serve(listener, app).await
}
