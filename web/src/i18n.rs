//! Every word the pages show, from the Fluent catalogues `web/locales/{en,es}/main.ftl`
//! (compiled in). Templates and handlers ask a [`Localizer`] for a message by its key;
//! none carries a sentence of its own. Arguments are text already formatted for the
//! reader (money and dates by `format`), or counts, which choose a plural form.
//!
//! A key used in code is always a string literal in a call to `get`, `arg`, `arg2` or
//! `args`, or wrapped in [`key`] where it is kept for later: the catalogue test finds
//! them there, and fails on a key missing from a catalogue or one no page uses.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::locale::Lang;

pub const EN_FTL: &str = include_str!("../locales/en/main.ftl");
pub const ES_FTL: &str = include_str!("../locales/es/main.ftl");

/// What a page shows where a message is missing or broken (and the log says which): a
/// marker the catalogue tests look for.
pub const MISSING: &str = "\u{27e6}missing message\u{27e7}";

/// Marks a string literal as a message key kept for later (in a table, a field).
pub const fn key(key: &'static str) -> &'static str {
    key
}

type Bundle = FluentBundle<FluentResource>;

struct Catalogues {
    en: Bundle,
    es: Bundle,
}

static CATALOGUES: LazyLock<Catalogues> = LazyLock::new(|| Catalogues {
    en: bundle(Lang::En, EN_FTL),
    es: bundle(Lang::Es, ES_FTL),
});

/// A catalogue as a bundle. A syntax error is logged and its entry left out (the tests
/// fail on any); the rest of the catalogue still works.
fn bundle(lang: Lang, source: &str) -> Bundle {
    let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Plain text in HTML and tests: no Unicode isolation marks around arguments (both
    // languages are written left to right).
    bundle.set_use_isolating(false);
    let resource =
        FluentResource::try_new(source.to_owned()).unwrap_or_else(|(resource, errors)| {
            tracing::error!(
                lang = lang.code(),
                ?errors,
                "a message catalogue has syntax errors"
            );
            resource
        });
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(
            lang = lang.code(),
            ?errors,
            "a message catalogue repeats a key"
        );
    }
    bundle
}

/// An argument of a message: text shown as it is, or a count that also picks the
/// plural form (`{ $count -> [one] … *[other] … }`).
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Count(i64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

/// What can be a message's argument, behind any number of references (templates pass
/// their fields by reference).
pub trait ToArg {
    fn to_arg(&self) -> Arg;
}

impl ToArg for str {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.to_owned())
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.clone())
    }
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg {
        (**self).to_arg()
    }
}

macro_rules! counts {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Arg {
                Arg::Count(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
counts!(usize, u64, i64, u32);

/// The messages of one language. Cheap to copy; every page has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Localizer {
    lang: Lang,
}

impl Localizer {
    pub const fn new(lang: Lang) -> Localizer {
        Localizer { lang }
    }

    pub const fn english() -> Localizer {
        Localizer { lang: Lang::En }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    fn bundle(&self) -> &'static Bundle {
        match self.lang {
            Lang::En => &CATALOGUES.en,
            Lang::Es => &CATALOGUES.es,
        }
    }

    /// The message `key`.
    pub fn get(&self, key: &str) -> String {
        self.args(key, &[])
    }

    /// The message `key` with one argument.
    pub fn arg(&self, key: &str, name: &str, value: impl ToArg) -> String {
        self.args(key, &[(name, value.to_arg())])
    }

    /// The message `key` with two arguments.
    pub fn arg2(
        &self,
        key: &str,
        name: &str,
        value: impl ToArg,
        name2: &str,
        value2: impl ToArg,
    ) -> String {
        self.args(key, &[(name, value.to_arg()), (name2, value2.to_arg())])
    }

    /// The message `key` with its arguments.
    pub fn args(&self, key: &str, args: &[(&str, Arg)]) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::error!(key, lang = self.lang.code(), "no such message");
            return MISSING.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(text.as_str())),
                Arg::Count(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(
                key,
                lang = self.lang.code(),
                ?errors,
                "a message did not format"
            );
            return MISSING.to_owned();
        }
        text.into_owned()
    }
}

#[cfg(test)]
mod tests;
