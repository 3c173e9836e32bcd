//! Sign in, sign up, sign out.

use std::time::Duration;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::client::{Login, Logout, Signup, login, logout, signup};
use crate::error::{Error, sentence};
use crate::render::{Layout, html, ok};
use crate::session::{self, CsrfForm, CsrfToken, Trace, clear_session_cookie, cookie_value};

use super::form::{FormErrors, check_email, check_password, check_username};
use super::state::WebState;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    layout: Layout,
    errors: FormErrors,
    username: String,
    notice: Option<&'static str>,
    demo_users: String,
    demo_password: String,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    ended: Option<String>,
    signed_out: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn login_page(
    state: &WebState,
    csrf: &CsrfToken,
    errors: FormErrors,
    username: String,
    notice: Option<&'static str>,
) -> LoginPage {
    LoginPage {
        layout: Layout::new("Sign in", csrf, false),
        errors,
        username,
        notice,
        demo_users: state.demo_users.clone(),
        demo_password: state.demo_password.clone(),
    }
}

pub async fn login_form(
    State(state): State<WebState>,
    csrf: CsrfToken,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|q| q.0).unwrap_or_default();
    let notice = if query.ended.is_some() {
        Some("Your session has ended. Sign in again to continue.")
    } else if query.signed_out.is_some() {
        Some("You have signed out.")
    } else {
        None
    };
    ok(&login_page(
        &state,
        &csrf,
        FormErrors::default(),
        String::new(),
        notice,
    ))
}

pub async fn login(
    State(state): State<WebState>,
    csrf: CsrfToken,
    trace: Trace,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, Error> {
    let username = form.username.trim().to_owned();
    let mut errors = FormErrors::default();
    if username.is_empty() {
        errors.add("username", "Enter your username");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if errors.is_empty() {
        let variables = login::Variables {
            username: username.clone(),
            password: form.password,
        };
        match state.api.run::<Login>(&trace.anonymous(), variables).await {
            Ok(data) => return Ok(signed_in(&data.login.token, &data.login.expires_at)),
            Err(Error::WrongCredentials) => {
                errors.add("username", "Enter a correct username and password");
            }
            Err(Error::RateLimited) => errors.add(
                "username",
                "There have been too many failed attempts to sign in from here. Wait a minute and try again",
            ),
            Err(Error::BadInput(message)) => errors.add("username", sentence(&message)),
            Err(other) => return Err(other),
        }
    }
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &login_page(&state, &csrf, errors, username, None),
    ))
}

/// Sets the session cookie and goes to the accounts.
fn signed_in(token: &str, expires_at: &str) -> Response {
    let lifetime = chrono::DateTime::parse_from_rfc3339(expires_at)
        .ok()
        .and_then(|t| {
            (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .ok()
        })
        .unwrap_or(Duration::from_secs(1800))
        .max(Duration::from_secs(60));
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/".to_owned()),
            (SET_COOKIE, session::session_cookie(token, lifetime)),
        ],
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    layout: Layout,
    errors: FormErrors,
    username: String,
    email: String,
}

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn signup_form(csrf: CsrfToken) -> Response {
    ok(&SignupPage {
        layout: Layout::new("Open an account", &csrf, false),
        errors: FormErrors::default(),
        username: String::new(),
        email: String::new(),
    })
}

pub async fn signup(
    State(state): State<WebState>,
    csrf: CsrfToken,
    trace: Trace,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<Response, Error> {
    let username = form.username.trim().to_owned();
    let email = form.email.trim().to_owned();
    let mut errors = FormErrors::default();
    check_username(&username, &mut errors);
    check_email(&email, &mut errors);
    check_password(&form.password, &mut errors);
    if errors.is_empty() {
        let variables = signup::Variables {
            input: signup::SignupInput {
                username: username.clone(),
                password: form.password,
                email: email.clone(),
            },
        };
        match state.api.run::<Signup>(&trace.anonymous(), variables).await {
            Ok(data) => return Ok(signed_in(&data.signup.token, &data.signup.expires_at)),
            Err(Error::Conflict(_)) => {
                errors.add("username", "That username is taken. Choose another one");
            }
            Err(Error::BadInput(message)) => {
                let field = ["username", "email", "password"]
                    .into_iter()
                    .find(|f| message.to_lowercase().starts_with(f))
                    .unwrap_or("username");
                errors.add(field, sentence(&message));
            }
            Err(other) => return Err(other),
        }
    }
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SignupPage {
            layout: Layout::new("Open an account", &csrf, false),
            errors,
            username,
            email,
        },
    ))
}

#[derive(Deserialize)]
pub struct NoFields {}

/// Ends the session at the api (so the token stops working everywhere) and drops the cookie.
pub async fn logout(
    State(state): State<WebState>,
    trace: Trace,
    headers: axum::http::HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(token) = cookie_value(&headers, session::SESSION_COOKIE) {
        let caller = trace.with(&session::Session { token });
        match state.api.run::<Logout>(&caller, logout::Variables).await {
            Ok(_) | Err(Error::SessionEnded) => {}
            Err(e) => tracing::warn!(error = ?e, "the api could not end the session"),
        }
    }
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/login?signed_out=1".to_owned()),
            (SET_COOKIE, clear_session_cookie()),
        ],
    )
        .into_response()
}
