//! What every page handler shares.

use crate::client::ApiClient;
use crate::live::Streams;

#[derive(Clone)]
pub struct WebState {
    pub api: ApiClient,
    /// The demo users the sign-in page of the all-in-one names; empty otherwise.
    pub demo_users: Vec<String>,
    pub demo_password: String,
    /// The open live-update streams (`GET /events`) and their limits.
    pub live: Streams,
}
