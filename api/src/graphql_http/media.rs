//! Which media type an answer is written in (the `Accept` header), and whether a POST's
//! body is one we read (the `Content-Type` header).
//!
//! GraphQL over HTTP has two answer types. `application/graphql-response+json` lets the
//! status code say what went wrong with a request; `application/json` is the older type,
//! always 200 for a well-formed request, which every client understands. A client that
//! names neither (no `Accept`, or `*/*`) gets `application/json`, as the specification
//! asks until its "watershed" date.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};

/// The media types an answer can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Json,
    GraphQLResponse,
}

impl Answer {
    pub fn content_type(self) -> &'static str {
        match self {
            Answer::Json => "application/json; charset=utf-8",
            Answer::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
        }
    }

    fn essence(self) -> &'static str {
        match self {
            Answer::Json => "application/json",
            Answer::GraphQLResponse => "application/graphql-response+json",
        }
    }
}

/// How well one `Accept` header admits a media type: the weight of the most specific range
/// that matches it, how specific that range was, and where it stood in the header.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct Admission {
    /// Thousandths, as weights have at most three decimals.
    weight: u16,
    /// 2 for the type itself, 1 for `application/*`, 0 for `*/*`.
    specificity: u8,
    /// Earlier ranges win ties; stored negated so that larger is better.
    position: i32,
}

/// The answer type the client asked for, or `None` when its `Accept` allows neither (406).
///
/// Weights decide; at equal weight a type named outright beats a wildcard, then the range
/// listed first wins, then `application/json`. So `*/*` and no header give JSON, and
/// `application/graphql-response+json, application/json;q=0.9` (what the specification
/// tells clients to send) gives the newer type.
pub fn negotiate(headers: &HeaderMap) -> Option<Answer> {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .collect();
    if values.is_empty() {
        return Some(Answer::Json);
    }
    let ranges: Vec<(String, Option<u16>)> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(parse_range)
        .collect();
    let admit = |answer: Answer| -> Option<Admission> {
        let (type_, _) = answer.essence().split_once('/')?;
        let mut best: Option<Admission> = None;
        for (position, (range, weight)) in ranges.iter().enumerate() {
            let specificity = if range == answer.essence() {
                2
            } else if range.strip_suffix("/*") == Some(type_) {
                1
            } else if range == "*/*" {
                0
            } else {
                continue;
            };
            // A range with an unreadable weight admits nothing.
            let Some(weight) = *weight else { continue };
            let candidate = Admission {
                weight,
                specificity,
                position: -i32::try_from(position).unwrap_or(i32::MAX),
            };
            // The most specific matching range decides the weight (RFC 9110, 12.5.1).
            if best.is_none_or(|b| specificity > b.specificity) {
                best = Some(candidate);
            }
        }
        best.filter(|b| b.weight > 0)
    };
    match (admit(Answer::GraphQLResponse), admit(Answer::Json)) {
        (None, None) => None,
        (Some(_), None) => Some(Answer::GraphQLResponse),
        (None, Some(_)) => Some(Answer::Json),
        (Some(newer), Some(json)) if newer > json => Some(Answer::GraphQLResponse),
        (Some(_), Some(_)) => Some(Answer::Json),
    }
}

/// One media range of an `Accept` header: lower-cased, without parameters, and its weight
/// in thousandths (`None` when the weight is not a number from 0 to 1).
fn parse_range(range: &str) -> (String, Option<u16>) {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let mut weight = Some(1000);
    for parameter in parts {
        if let Some((name, value)) = parameter.split_once('=')
            && name.trim().eq_ignore_ascii_case("q")
        {
            weight = value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .map(|q| (q * 1000.0).round() as u16);
        }
    }
    (media, weight)
}

/// Why a POST body will not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyRefusal {
    NoContentType,
    Unsupported,
}

impl BodyRefusal {
    pub fn message(&self) -> &'static str {
        match self {
            BodyRefusal::NoContentType => {
                "the request has no Content-Type; send the body as application/json"
            }
            BodyRefusal::Unsupported => {
                "the body's Content-Type is not supported; send it as application/json (UTF-8)"
            }
        }
    }
}

/// A POST body is read only as `application/json`, in UTF-8 (the default when no
/// `charset` is given).
pub fn check_body_type(headers: &HeaderMap) -> Result<(), BodyRefusal> {
    let value = headers
        .get(CONTENT_TYPE)
        .ok_or(BodyRefusal::NoContentType)?
        .to_str()
        .map_err(|_| BodyRefusal::Unsupported)?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(BodyRefusal::Unsupported);
    }
    for parameter in parts {
        if let Some((name, charset)) = parameter.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
            && !charset
                .trim()
                .trim_matches('"')
                .eq_ignore_ascii_case("utf-8")
        {
            return Err(BodyRefusal::Unsupported);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: axum::http::HeaderName, values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(name.clone(), HeaderValue::from_str(value).expect("value"));
        }
        headers
    }

    fn accept(values: &[&str]) -> Option<Answer> {
        negotiate(&with(ACCEPT, values))
    }

    #[test]
    fn json_unless_the_newer_type_is_preferred() {
        use Answer::*;
        let cases: &[(&[&str], Option<Answer>)] = &[
            (&[], Some(Json)),
            (&[""], Some(Json)),
            (&["*/*"], Some(Json)),
            (&["application/*"], Some(Json)),
            (&["application/json"], Some(Json)),
            (&["application/json; charset=utf-8"], Some(Json)),
            (
                &["application/graphql-response+json"],
                Some(GraphQLResponse),
            ),
            (
                &["application/graphql-response+json, application/json;q=0.9"],
                Some(GraphQLResponse),
            ),
            (
                &["application/json;q=0.5, application/graphql-response+json"],
                Some(GraphQLResponse),
            ),
            (
                &["application/json, application/graphql-response+json"],
                Some(Json),
            ),
            (
                &["application/graphql-response+json, */*"],
                Some(GraphQLResponse),
            ),
            (&["text/html, application/xhtml+xml, */*;q=0.8"], Some(Json)),
            (
                &["text/html", "application/graphql-response+json"],
                Some(GraphQLResponse),
            ),
            (&["APPLICATION/JSON"], Some(Json)),
            (&["text/html"], None),
            (&["application/xml, text/*"], None),
            (&["application/json;q=0"], None),
            (&["*/*, application/json;q=0"], Some(GraphQLResponse)),
            (&["application/json;q=banana"], None),
            (&["application/json;q=2"], None),
        ];
        for (values, expected) in cases {
            assert_eq!(accept(values), *expected, "Accept: {values:?}");
        }
    }

    #[test]
    fn only_utf8_json_bodies_are_read() {
        let check = |values: &[&str]| check_body_type(&with(CONTENT_TYPE, values));
        assert_eq!(check(&[]), Err(BodyRefusal::NoContentType));
        assert_eq!(check(&["application/json"]), Ok(()));
        assert_eq!(check(&["Application/JSON; charset=UTF-8"]), Ok(()));
        assert_eq!(check(&["application/json; charset=\"utf-8\""]), Ok(()));
        assert_eq!(
            check(&["application/json; charset=latin1"]),
            Err(BodyRefusal::Unsupported)
        );
        assert_eq!(check(&["text/plain"]), Err(BodyRefusal::Unsupported));
        assert_eq!(
            check(&["application/graphql"]),
            Err(BodyRefusal::Unsupported)
        );
        assert_eq!(
            check(&["multipart/form-data; boundary=x"]),
            Err(BodyRefusal::Unsupported)
        );
        assert_eq!(
            check(&["application/x-www-form-urlencoded"]),
            Err(BodyRefusal::Unsupported)
        );
    }
}
