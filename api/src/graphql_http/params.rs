//! The request parameters (`query`, `operationName`, `variables`, `extensions`) from a
//! POST's JSON body or a GET's query string, checked for shape before the schema sees
//! them. A malformed request is refused with a message meant for the client's author,
//! never with a parser's internals.

use std::collections::HashMap;

use async_graphql::{Request, Variables};
use serde::Deserialize;
use serde_json::Value;

/// Why the parameters cannot make a GraphQL request. Always the client's doing (400).
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl Malformed {
    fn new(message: impl Into<String>) -> Malformed {
        Malformed(message.into())
    }
}

/// The body as a well-formed client sends it; anything else is diagnosed by `diagnose`.
#[derive(Deserialize)]
struct Body {
    query: String,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    /// Absent and `null` both mean none; anything but a map fails.
    #[serde(default)]
    variables: Variables,
    #[serde(default)]
    extensions: async_graphql::Extensions,
}

/// A POST body (`application/json`): one JSON object with a string `query`.
pub fn from_json(body: &[u8]) -> Result<Request, Malformed> {
    // The common case reads straight into the request's types; only a refusal pays for
    // a second look to say what is wrong.
    match serde_json::from_slice::<Body>(body) {
        Ok(body) => Ok(request(
            body.query,
            body.operation_name,
            body.variables,
            body.extensions,
        )),
        Err(error) => Err(diagnose(body, &error)),
    }
}

/// What is wrong with a body that did not read as a request.
fn diagnose(body: &[u8], error: &serde_json::Error) -> Malformed {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Malformed::new(
            "the request body is empty; send a JSON object with a `query` string",
        );
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => return Malformed::new("the request body is not valid JSON"),
    };
    let Some(object) = value.as_object() else {
        return Malformed::new(match value {
            Value::Array(_) => {
                "batched requests are not supported; send one JSON object with a `query` string"
            }
            _ => "the request body must be a JSON object with a `query` string",
        });
    };
    match object.get("query") {
        None | Some(Value::Null) => return Malformed::new("the request has no `query`"),
        Some(Value::String(_)) => {}
        Some(_) => return Malformed::new("`query` must be a string"),
    }
    if !matches!(
        object.get("operationName"),
        None | Some(Value::Null | Value::String(_))
    ) {
        return Malformed::new("`operationName` must be a string or null");
    }
    for name in ["variables", "extensions"] {
        if !matches!(
            object.get(name),
            None | Some(Value::Null | Value::Object(_))
        ) {
            return Malformed::new(format!("`{name}` must be a JSON object or null"));
        }
    }
    // Every parameter has its shape, so what failed is finer: a key given twice, or a
    // variable name that is not a GraphQL name. serde's own words say which, and where.
    Malformed(format!(
        "the request body is not a GraphQL request: {error}"
    ))
}

const PARAMETERS: [&str; 4] = ["query", "operationName", "variables", "extensions"];

/// A GET's query string. `Ok(None)` when there is no `query` (the GraphiQL page's URL).
pub fn from_query_string(raw: Option<&str>) -> Result<Option<Request>, Malformed> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(raw.unwrap_or(""))?;
    let mut params: HashMap<&str, &str> = HashMap::new();
    // Other parameters (a cache buster, a tracking tag) are ignored, as in a POST body;
    // one of ours given twice is ambiguous.
    for (name, value) in pairs
        .iter()
        .filter(|(name, _)| PARAMETERS.contains(&name.as_str()))
    {
        if params.insert(name.as_str(), value.as_str()).is_some() {
            return Err(Malformed(format!("the parameter `{name}` is given twice")));
        }
    }
    let Some(query) = params.get("query") else {
        return Ok(None);
    };
    let variables = match params.get("variables") {
        None => Variables::default(),
        Some(text) => serde_json::from_str::<Option<serde_json::Map<String, Value>>>(text)
            .map_err(|_| Malformed::new("`variables` must be a JSON object, URL-encoded"))?
            .map(|map| Variables::from_json(Value::Object(map)))
            .unwrap_or_default(),
    };
    let extensions = match params.get("extensions") {
        None => async_graphql::Extensions::default(),
        Some(text) => serde_json::from_str(text)
            .map_err(|_| Malformed::new("`extensions` must be a JSON object, URL-encoded"))?,
    };
    let operation_name = params
        .get("operationName")
        .filter(|name| !name.is_empty())
        .map(|name| (*name).to_owned());
    Ok(Some(request(
        (*query).to_owned(),
        operation_name,
        variables,
        extensions,
    )))
}

fn serde_urlencoded_pairs(raw: &str) -> Result<Vec<(String, String)>, Malformed> {
    let uri = format!("/?{raw}");
    let uri: axum::http::Uri = uri
        .parse()
        .map_err(|_| Malformed::new("the query string is not a valid URL query"))?;
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|axum::extract::Query(pairs)| pairs)
        .map_err(|_| Malformed::new("the query string is not valid URL encoding"))
}

fn request(
    query: String,
    operation_name: Option<String>,
    variables: Variables,
    extensions: async_graphql::Extensions,
) -> Request {
    let mut request = Request::new(query).variables(variables);
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    request.extensions = extensions;
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> String {
        match from_json(body.as_bytes()) {
            Ok(request) => panic!("{body} was read as {:?}", request.query),
            Err(Malformed(message)) => message,
        }
    }

    #[test]
    fn a_well_formed_body_is_read() {
        let request = from_json(
            br#"{"query":"query Q($n: Int) { __typename }","operationName":"Q","variables":{"n":1},"extensions":{"some":"value"}}"#,
        )
        .expect("read");
        assert_eq!(request.query, "query Q($n: Int) { __typename }");
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(
            request
                .variables
                .get("n")
                .map(ToString::to_string)
                .as_deref(),
            Some("1")
        );
        assert!(request.extensions.contains_key("some"));
        let nulls = from_json(
            br#"{"query":"{ __typename }","operationName":null,"variables":null,"extensions":null}"#,
        )
        .expect("nulls");
        assert!(nulls.operation_name.is_none() && nulls.variables.is_empty());
    }

    #[test]
    fn each_malformed_body_gets_a_plain_reason() {
        let cases = [
            ("", "the request body is empty"),
            ("  \n", "the request body is empty"),
            ("{ \"not a JSON", "the request body is not valid JSON"),
            (
                "[{\"query\":\"{ a }\"}]",
                "batched requests are not supported",
            ),
            ("42", "must be a JSON object"),
            ("{\"notquery\":\"{ a }\"}", "the request has no `query`"),
            ("{\"query\":null}", "the request has no `query`"),
            ("{\"query\":{\"obj\":\"ect\"}}", "`query` must be a string"),
            ("{\"query\":0}", "`query` must be a string"),
            (
                "{\"query\":\"{ a }\",\"operationName\":false}",
                "`operationName` must be",
            ),
            (
                "{\"query\":\"{ a }\",\"variables\":\"string\"}",
                "`variables` must be",
            ),
            (
                "{\"query\":\"{ a }\",\"variables\":[\"array\"]}",
                "`variables` must be",
            ),
            (
                "{\"query\":\"{ a }\",\"extensions\":0}",
                "`extensions` must be",
            ),
            (
                "{\"query\":\"{ a }\",\"query\":\"{ b }\"}",
                "duplicate field `query`",
            ),
        ];
        for (body, expected) in cases {
            let message = refusal(body);
            assert!(message.contains(expected), "{body}: {message}");
            assert!(!message.contains("Error("), "{body}: {message}");
        }
    }

    #[test]
    fn a_query_string_is_read_and_a_missing_query_means_graphiql() {
        assert!(from_query_string(None).expect("empty").is_none());
        assert!(from_query_string(Some("x=1")).expect("no query").is_none());
        assert!(
            from_query_string(Some("x=1&x=2"))
                .expect("junk twice")
                .is_none()
        );
        assert!(
            from_query_string(Some("query=%7Ba%7D&v=1&v=2"))
                .expect("junk beside a query")
                .is_some()
        );
        let request = from_query_string(Some(
            "query=query%20T(%24name%3A%20String!)%20%7B%20__type(name%3A%20%24name)%20%7B%20name%20%7D%20%7D&variables=%7B%22name%22%3A%22sometype%22%7D&operationName=T",
        ))
        .expect("read")
        .expect("a request");
        assert_eq!(request.operation_name.as_deref(), Some("T"));
        assert!(request.query.starts_with("query T($name: String!)"));
        assert_eq!(
            request
                .variables
                .get("name")
                .map(ToString::to_string)
                .as_deref(),
            Some("\"sometype\"")
        );
        for bad in [
            "query=%7B%20a%20%7D&variables=nope",
            "query=%7B%20a%20%7D&variables=%5B1%5D",
            "query=%7B%20a%20%7D&extensions=%22s%22",
            "query=a&query=b",
        ] {
            assert!(from_query_string(Some(bad)).is_err(), "{bad}");
        }
    }
}
