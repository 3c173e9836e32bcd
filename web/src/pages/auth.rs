//! Sign in, sign up, sign out.

use std::time::Duration;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use banking_common::rules::text;

use crate::client::{Login, Logout, Signup, login, logout, signup};
use crate::error::Error;
use crate::i18n::Localizer;
use crate::locale::Locale;
use crate::render::{Layout, html, ok};
use crate::session::{self, CsrfForm, CsrfToken, Trace, clear_session_cookie, cookie_value};

use super::form::{FormErrors, check_email, check_password, check_username};
use super::state::WebState;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    layout: Layout,
    t: Localizer,
    errors: FormErrors,
    username: String,
    notice: Option<String>,
    /// "alice, bob or carol" in the reader's language; empty without demo users.
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
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    username: String,
    notice: Option<String>,
) -> LoginPage {
    let t = Localizer::new(locale.lang);
    LoginPage {
        layout: Layout::new(locale, t.get("login-title"), csrf, false),
        demo_users: names(&state.demo_users, &t.get("login-demo-or")),
        t,
        errors,
        username,
        notice,
        demo_password: state.demo_password.clone(),
    }
}

/// "alice, bob or carol", with the reader's word for "or".
fn names(names: &[String], or: &str) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {or} {last}", rest.join(", ")),
    }
}

pub async fn login_form(
    State(state): State<WebState>,
    csrf: CsrfToken,
    locale: Locale,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let t = Localizer::new(locale.lang);
    let query = query.map(|q| q.0).unwrap_or_default();
    let notice = if query.ended.is_some() {
        Some(t.get("login-ended"))
    } else if query.signed_out.is_some() {
        Some(t.get("login-signed-out"))
    } else {
        None
    };
    ok(&login_page(
        &state,
        &locale,
        &csrf,
        FormErrors::default(),
        String::new(),
        notice,
    ))
}

pub async fn login(
    State(state): State<WebState>,
    csrf: CsrfToken,
    locale: Locale,
    trace: Trace,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let username = form.username.trim().to_owned();
    let mut errors = FormErrors::default();
    if username.is_empty() {
        errors.add("username", t.get("login-enter-username"));
    }
    if form.password.is_empty() {
        errors.add("password", t.get("login-enter-password"));
    }
    if errors.is_empty() {
        let variables = login::Variables {
            username: username.clone(),
            password: form.password,
        };
        match state.api.run::<Login>(&trace.anonymous(), variables).await {
            Ok(data) => return Ok(signed_in(&data.login.token, &data.login.expires_at)),
            // Wrong credentials (`INVALID_CREDENTIALS`, no field: which one is not said).
            // An input the api refused (`BAD_USER_INPUT`, field `username` or
            // `password`) cannot be anyone's: the same answer, beside that field.
            Err(Error::InvalidCredentials) => {
                errors.add("username", t.get("login-wrong"));
            }
            Err(Error::BadInput(field)) => {
                let field = match field.as_deref() {
                    Some("password") => "password",
                    _ => "username",
                };
                errors.add(field, t.get("login-wrong"));
            }
            Err(Error::RateLimited) => errors.add("username", t.get("login-throttled")),
            Err(other) => return Err(other),
        }
    }
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &login_page(&state, &locale, &csrf, errors, username, None),
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
    t: Localizer,
    errors: FormErrors,
    username: String,
    email: String,
    username_min: usize,
    username_max: usize,
    password_min: usize,
}

fn signup_page(
    locale: &Locale,
    csrf: &CsrfToken,
    errors: FormErrors,
    username: String,
    email: String,
) -> SignupPage {
    let t = Localizer::new(locale.lang);
    SignupPage {
        layout: Layout::new(locale, t.get("signup-title"), csrf, false),
        t,
        errors,
        username,
        email,
        username_min: *text::USERNAME_LENGTH.start(),
        username_max: *text::USERNAME_LENGTH.end(),
        password_min: *text::PASSWORD_LENGTH.start(),
    }
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

pub async fn signup_form(csrf: CsrfToken, locale: Locale) -> Response {
    ok(&signup_page(
        &locale,
        &csrf,
        FormErrors::default(),
        String::new(),
        String::new(),
    ))
}

pub async fn signup(
    State(state): State<WebState>,
    csrf: CsrfToken,
    locale: Locale,
    trace: Trace,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<Response, Error> {
    let t = Localizer::new(locale.lang);
    let username = form.username.trim().to_owned();
    let email = form.email.trim().to_owned();
    let mut errors = FormErrors::default();
    check_username(&username, &t, &mut errors);
    check_email(&email, &t, &mut errors);
    check_password(&form.password, &t, &mut errors);
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
            Err(refusal @ (Error::Conflict(_) | Error::BadInput(_))) => {
                let (field, message) = explain_signup(&refusal, &t);
                errors.add(field, message);
            }
            Err(other) => return Err(other),
        }
    }
    Ok(html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &signup_page(&locale, &csrf, errors, username, email),
    ))
}

/// A refusal of the api's at sign-up as the field it concerns and what to do about it:
///
/// | code | field | shown beside |
/// |---|---|---|
/// | `CONFLICT` | `username` (or none) | the username: taken |
/// | `BAD_USER_INPUT` | `username`, `email`, `password` | that field, with its rule |
/// | `BAD_USER_INPUT` | none | the username: check the details |
fn explain_signup(refusal: &Error, t: &Localizer) -> (&'static str, String) {
    match (refusal, refusal.field()) {
        (Error::Conflict(_), _) => ("username", t.get("signup-username-taken")),
        (_, Some("username")) => (
            "username",
            t.arg2(
                "signup-username-rule",
                "min",
                *text::USERNAME_LENGTH.start(),
                "max",
                *text::USERNAME_LENGTH.end(),
            ),
        ),
        (_, Some("email")) => ("email", t.get("signup-email-rule")),
        (_, Some("password")) => (
            "password",
            t.arg2(
                "signup-password-rule",
                "min",
                *text::PASSWORD_LENGTH.start(),
                "max",
                *text::PASSWORD_LENGTH.end(),
            ),
        ),
        _ => ("username", t.get("signup-refused")),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_users_read_as_a_list_in_each_language() {
        let users: Vec<String> = ["alice", "bob", "carol"].map(String::from).to_vec();
        assert_eq!(names(&users, "or"), "alice, bob or carol");
        assert_eq!(names(&users, "o"), "alice, bob o carol");
        assert_eq!(names(&users[..1], "o"), "alice");
    }

    #[test]
    fn sign_up_refusals_find_their_field() {
        let t = Localizer::english();
        for (code, field, expected) in [
            ("CONFLICT", Some("username"), "username"),
            ("CONFLICT", None, "username"),
            ("BAD_USER_INPUT", Some("email"), "email"),
            ("BAD_USER_INPUT", Some("password"), "password"),
            ("BAD_USER_INPUT", Some("username"), "username"),
            ("BAD_USER_INPUT", None, "username"),
        ] {
            let refusal = Error::from_api(code, field);
            assert_eq!(explain_signup(&refusal, &t).0, expected, "{code} {field:?}");
        }
    }
}
