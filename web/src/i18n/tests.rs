//! The catalogues against each other and against the code: the same keys in both, every
//! key the templates and handlers use present, no key that nothing uses, the same
//! arguments in both languages, and no syntax error.

use std::collections::BTreeSet;
use std::path::Path;

use fluent_bundle::FluentResource;
use fluent_syntax::ast;

use super::*;

/// The keys of a catalogue with the arguments each message uses; fails on a syntax error.
fn entries(name: &str, source: &str) -> Vec<(String, BTreeSet<String>)> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => resource,
        Err((_, errors)) => panic!("{name} has syntax errors: {errors:?}"),
    };
    resource
        .entries()
        .filter_map(|entry| match entry {
            ast::Entry::Message(message) => {
                let mut args = BTreeSet::new();
                if let Some(pattern) = &message.value {
                    pattern_args(pattern, &mut args);
                }
                Some((message.id.name.to_owned(), args))
            }
            _ => None,
        })
        .collect()
}

fn pattern_args(pattern: &ast::Pattern<&str>, args: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_args(expression, args);
        }
    }
}

fn expression_args(expression: &ast::Expression<&str>, args: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Inline(inline) => inline_args(inline, args),
        ast::Expression::Select { selector, variants } => {
            inline_args(selector, args);
            for variant in variants {
                pattern_args(&variant.value, args);
            }
        }
    }
}

fn inline_args(inline: &ast::InlineExpression<&str>, args: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            args.insert(id.name.to_owned());
        }
        ast::InlineExpression::Placeable { expression } => expression_args(expression, args),
        _ => {}
    }
}

/// Every `get("…")`, `arg("…"`, `arg2("…"`, `args("…"` and `key("…")` in a text: the
/// keys the code uses.
fn used_keys(text: &str, keys: &mut BTreeSet<String>) {
    for call in ["get(", "arg(", "arg2(", "args(", "key("] {
        let mut rest = text;
        while let Some(at) = rest.find(call) {
            // A whole name: `.get(` or `key(`, not `budget(`.
            let before = rest[..at].chars().next_back();
            rest = &rest[at + call.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // The key may be on the next line, as rustfmt leaves long calls.
            let Some(quoted) = rest.trim_start().strip_prefix('"') else {
                continue;
            };
            let Some(end) = quoted.find('"') else { break };
            let candidate = &quoted[..end];
            if candidate.contains('-')
                && candidate
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                keys.insert(candidate.to_owned());
            }
        }
    }
}

/// The files under `dir` (recursively) whose names end with `extension`.
fn files(dir: &Path, extension: &str, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("read a source directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            files(&path, extension, found);
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
}

#[test]
fn both_catalogues_have_every_key_the_pages_use_and_no_other() {
    let en = entries("en/main.ftl", EN_FTL);
    let es = entries("es/main.ftl", ES_FTL);
    let en_keys: BTreeSet<String> = en.iter().map(|(k, _)| k.clone()).collect();
    let es_keys: BTreeSet<String> = es.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(en.len(), en_keys.len(), "en/main.ftl repeats a key");
    assert_eq!(es.len(), es_keys.len(), "es/main.ftl repeats a key");
    let only_en: Vec<_> = en_keys.difference(&es_keys).collect();
    let only_es: Vec<_> = es_keys.difference(&en_keys).collect();
    assert!(only_en.is_empty(), "missing from es/main.ftl: {only_en:?}");
    assert!(only_es.is_empty(), "missing from en/main.ftl: {only_es:?}");
    for ((key, en_args), (_, es_args)) in en.iter().zip(
        en.iter()
            .map(|(k, _)| es.iter().find(|(e, _)| e == k).expect("same keys")),
    ) {
        assert_eq!(en_args, es_args, "{key} takes other arguments in Spanish");
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    files(&root.join("templates"), "html", &mut sources);
    files(&root.join("src"), "rs", &mut sources);
    let mut used = BTreeSet::new();
    for path in &sources {
        // This file names keys in its own examples.
        if path.ends_with("i18n/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("read a source file");
        used_keys(&text, &mut used);
    }
    let missing: Vec<_> = used.difference(&en_keys).collect();
    let unused: Vec<_> = en_keys.difference(&used).collect();
    assert!(missing.is_empty(), "used but in no catalogue: {missing:?}");
    assert!(
        unused.is_empty(),
        "in the catalogues but used nowhere: {unused:?}"
    );
    assert!(used.len() > 200, "only {} keys found in use", used.len());
}

#[test]
fn the_scanner_finds_keys_in_calls_only() {
    let mut keys = BTreeSet::new();
    used_keys(
        r#"{{ t.get("a-b") }} t.arg("c-d", "x", y) key("e-f") budget("g-h") get("plain") headers.get("x-forwarded-for") t.args(
            "i-j", &[])"#,
        &mut keys,
    );
    // `headers.get("x-forwarded-for")` has the shape of a key: the catalogue test would
    // report it as missing, which is why headers are read with constants here.
    let keys: Vec<_> = keys.into_iter().collect();
    assert_eq!(keys, ["a-b", "c-d", "e-f", "i-j", "x-forwarded-for"]);
}

#[test]
fn a_missing_key_or_argument_shows_the_marker_not_the_key() {
    let t = Localizer::english();
    assert_eq!(t.get("no-such-key"), MISSING);
    assert_eq!(t.get("account-heading"), MISSING, "an argument left out");
    assert_eq!(
        t.arg("account-heading", "kind", "Checking"),
        "Checking account"
    );
    let es = Localizer::new(Lang::Es);
    assert_eq!(
        es.arg("account-heading", "kind", "Corriente"),
        "Cuenta Corriente"
    );
}

#[test]
fn counts_choose_the_plural_form() {
    let en = Localizer::english();
    let es = Localizer::new(Lang::Es);
    assert_eq!(
        en.arg2("open-held", "held", 1usize, "max", 5u64),
        "You have 1 account. You can have up to 5."
    );
    assert_eq!(
        en.arg2("open-held", "held", 3usize, "max", 5u64),
        "You have 3 accounts. You can have up to 5."
    );
    assert_eq!(
        es.arg2("open-held", "held", 1usize, "max", 5u64),
        "Tiene 1 cuenta. Puede tener hasta 5."
    );
}
