//! The reader's language: English or Spanish. Their own choice (the language link on
//! every page, kept in a cookie) wins; without one, the browser's `Accept-Language`;
//! without a match, English. A leaf module: pages, errors and formatting ask it.

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use fluent_langneg::{NegotiationStrategy, accepted_languages, negotiate_languages};
use unic_langid::LanguageIdentifier;

use crate::cookies::{LANGUAGE_COOKIE, cookie_value};

/// The languages every page is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Es,
}

/// The longest `Accept-Language` read; browsers send a few dozen bytes.
const MAX_ACCEPT_LANGUAGE: usize = 512;

/// The longest address the language link returns to; a longer one returns to its path.
pub const MAX_RETURN: usize = 1024;

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 tag, for `<html lang>`, the cookie and the link: `en`, `es`.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language's name in itself, as the language link shows it.
    pub const fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// Exactly one of our codes (a cookie's or a link's value); nothing else.
    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The best of our languages for an `Accept-Language` header (`es-ES,es;q=0.9`),
    /// by the browser's order of preference; `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        if header.len() > MAX_ACCEPT_LANGUAGE {
            return None;
        }
        let requested = accepted_languages::parse(header);
        let available: Vec<LanguageIdentifier> = Lang::ALL
            .iter()
            .filter_map(|l| l.code().parse().ok())
            .collect();
        let chosen = negotiate_languages(&requested, &available, None, NegotiationStrategy::Lookup);
        chosen
            .first()
            .and_then(|id| Lang::parse(id.language.as_str()))
    }

    /// The reader's language for a request: the cookie, else `Accept-Language`, else English.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        cookie_value(headers, LANGUAGE_COOKIE)
            .and_then(|v| Lang::parse(&v))
            .or_else(|| {
                headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_default()
    }
}

/// The reader's language and the address of the page they are on (where the language
/// link brings them back to).
#[derive(Clone, Debug)]
pub struct Locale {
    pub lang: Lang,
    /// This page's path and query: a same-origin path, at most [`MAX_RETURN`] bytes.
    pub here: String,
}

impl Locale {
    pub fn of(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap) -> Locale {
        let path = uri.path();
        // A page shown in answer to a form post comes back to its own address by GET;
        // every such address answers a GET (with its form, or a redirect to it).
        let here = match uri.query() {
            Some(query) if *method == Method::GET => format!("{path}?{query}"),
            _ => path.to_owned(),
        };
        let here = if here.len() <= MAX_RETURN {
            here
        } else if path.len() <= MAX_RETURN {
            path.to_owned()
        } else {
            "/".to_owned()
        };
        Locale {
            lang: Lang::of_request(headers),
            here,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Locale, Self::Rejection> {
        Ok(Locale::of(&parts.method, &parts.uri, &parts.headers))
    }
}

/// Where the language link may send the reader back to: a path of this site (`/…`, not
/// `//host` nor `/\host`, which browsers read as another site), printable ASCII only, at
/// most [`MAX_RETURN`] bytes; anything else is the accounts page.
pub fn safe_return(path: &str) -> &str {
    let bytes = path.as_bytes();
    let same_origin = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !path.contains('\\')
        && path.len() <= MAX_RETURN
        && bytes.iter().all(|b| b.is_ascii_graphic());
    if same_origin { path } else { "/" }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn accept_language_picks_the_first_we_speak() {
        for (header, expected) in [
            ("es-ES,es;q=0.9,en;q=0.8", Some(Lang::Es)),
            ("es-MX", Some(Lang::Es)),
            ("en-GB,en;q=0.9,es;q=0.5", Some(Lang::En)),
            ("fr-FR,fr;q=0.9,es;q=0.8,en;q=0.7", Some(Lang::Es)),
            ("de, en;q=0.1", Some(Lang::En)),
            ("*", None),
            ("fr", None),
            ("", None),
            ("es;q=nonsense,,,;", Some(Lang::Es)),
        ] {
            assert_eq!(Lang::from_accept_language(header), expected, "{header:?}");
        }
        assert_eq!(Lang::from_accept_language(&"es,".repeat(400)), None);
    }

    #[test]
    fn the_cookie_wins_over_the_browser_and_only_our_codes_count() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("es"));
        assert_eq!(Lang::of_request(&headers), Lang::Es);
        headers.insert("cookie", HeaderValue::from_static("bank_lang=en"));
        assert_eq!(Lang::of_request(&headers), Lang::En);
        headers.insert("cookie", HeaderValue::from_static("bank_lang=xx"));
        assert_eq!(Lang::of_request(&headers), Lang::Es);
        assert_eq!(Lang::of_request(&HeaderMap::new()), Lang::En);
        assert_eq!(Lang::parse("ES"), None);
    }

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        for good in [
            "/",
            "/transfer",
            "/accounts/3?after=abc",
            "/transfer?to=1234567890#x",
        ] {
            assert_eq!(safe_return(good), good);
        }
        for bad in [
            "",
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "/a\\b",
            "javascript:alert(1)",
            "/a b",
            "/\u{e9}",
            "/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(safe_return(bad), "/", "{bad:?}");
        }
        assert_eq!(safe_return(&format!("/{}", "a".repeat(MAX_RETURN))), "/");
    }
}
