//! What every page handler shares.

use crate::client::ApiClient;

#[derive(Clone)]
pub struct WebState {
    pub api: ApiClient,
    /// The demo users the sign-in page of the all-in-one names; empty otherwise.
    pub demo_users: Vec<String>,
    pub demo_password: String,
}
