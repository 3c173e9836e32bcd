//! The stylesheet and the dashboard's one script, compiled into the binary and served
//! with a long cache lifetime: each URL carries a hash of its content, so a new version
//! is a new URL.

use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

pub const CSS_PATH: &str = "/static/app.css";
pub const CSS: &str = include_str!("../static/app.css");

/// `/static/app.css?v=<hash of the content>`.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("{CSS_PATH}?v={:08x}", fnv1a(CSS.as_bytes())))
}

/// FNV-1a: stable across builds and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

pub const LIVE_JS_PATH: &str = "/static/live.js";
pub const LIVE_JS: &str = include_str!("../static/live.js");

/// `/static/live.js?v=<hash of the content>`: the dashboard's live updates.
pub fn live_js_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("{LIVE_JS_PATH}?v={:08x}", fnv1a(LIVE_JS.as_bytes())))
}

pub async fn live_js() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        LIVE_JS,
    )
}

pub async fn css() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
}
