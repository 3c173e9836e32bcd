//! Money and dates as each reader writes them, and amounts read as each reader types
//! them. Numbers and dates come from CLDR through ICU4X (compiled data): English writes
//! `2,500.00` and `29 Nov 2026`, Spanish `2.500,00` and `29 nov 2026`. Money stays
//! exact: integer cents from the api's decimal strings, never a float.

use std::sync::LazyLock;

use banking_common::rules::amount::{self, Conventions, TypedAmountError};
pub use banking_common::rules::amount::{MAX_AMOUNT_CENTS, decimal};
use fixed_decimal::Decimal;
use icu_calendar::Date;
use icu_datetime::DateTimeFormatter;
use icu_datetime::fieldsets::{YMD, YMDT};
use icu_decimal::DecimalFormatter;
use icu_decimal::provider::{Baked, DecimalDigitsV1, DecimalSymbols, DecimalSymbolsV1};
use icu_locale_core::{Locale, locale};
use icu_provider::prelude::*;
use icu_time::{DateTime, Time};

use crate::locale::Lang;

/// CLDR's decimal symbols with thousands grouped from four digits on. CLDR's Spanish
/// groups only from five (`2500,00`, `12.500,00`); banks writing Spanish group every
/// amount (`2.500,00`), and a column of balances reads better that way.
struct GroupedFromFourDigits;

impl DataProvider<DecimalSymbolsV1> for GroupedFromFourDigits {
    fn load(&self, request: DataRequest) -> Result<DataResponse<DecimalSymbolsV1>, DataError> {
        let mut response = Baked.load(request)?;
        response
            .payload
            .with_mut(|symbols: &mut DecimalSymbols<'_>| symbols.grouping_sizes.min_grouping = 1);
        Ok(response)
    }
}

impl DataProvider<DecimalDigitsV1> for GroupedFromFourDigits {
    fn load(&self, request: DataRequest) -> Result<DataResponse<DecimalDigitsV1>, DataError> {
        Baked.load(request)
    }
}

/// One language's formatters, made once.
struct Formats {
    decimal: Option<DecimalFormatter>,
    date_time: Option<DateTimeFormatter<YMDT>>,
    date: Option<DateTimeFormatter<YMD>>,
    conventions: Conventions,
}

/// The CLDR locale each language's numbers and dates follow. English is written the
/// British way (day month year, a 24-hour clock), as this bank always wrote it.
fn cldr_locale(lang: Lang) -> Locale {
    match lang {
        Lang::En => locale!("en-GB"),
        Lang::Es => locale!("es"),
    }
}

impl Formats {
    fn new(lang: Lang) -> Formats {
        let cldr = cldr_locale(lang);
        let decimal = DecimalFormatter::try_new_unstable(
            &GroupedFromFourDigits,
            cldr.clone().into(),
            Default::default(),
        )
        .map_err(|e| tracing::error!(error = %e, "no CLDR decimal data"))
        .ok();
        let date_time =
            DateTimeFormatter::try_new(cldr.clone().into(), YMD::medium().with_time_hm())
                .map_err(|e| tracing::error!(error = %e, "no CLDR date data"))
                .ok();
        let date = DateTimeFormatter::try_new(cldr.into(), YMD::medium())
            .map_err(|e| tracing::error!(error = %e, "no CLDR date data"))
            .ok();
        // The separators, read off CLDR's own rendering of 1000.5 ("1,000.5", "1.000,5").
        let conventions = decimal
            .as_ref()
            .and_then(|f| {
                let mut sample = Decimal::from(10_005);
                sample.multiply_pow10(-1);
                let shown: Vec<char> = f.format(&sample).to_string().chars().collect();
                match shown.as_slice() {
                    ['1', group, '0', '0', '0', decimal, '5'] => Some(Conventions {
                        decimal: *decimal,
                        group: *group,
                    }),
                    _ => None,
                }
            })
            .unwrap_or(Conventions {
                decimal: '.',
                group: ',',
            });
        Formats {
            decimal,
            date_time,
            date,
            conventions,
        }
    }
}

static FORMATS: LazyLock<[Formats; 2]> =
    LazyLock::new(|| [Formats::new(Lang::En), Formats::new(Lang::Es)]);

fn formats(lang: Lang) -> &'static Formats {
    match lang {
        Lang::En => &FORMATS[0],
        Lang::Es => &FORMATS[1],
    }
}

/// How the reader writes a number's separators.
pub fn conventions(lang: Lang) -> Conventions {
    formats(lang).conventions
}

/// A decimal string from the api ("1234.50") as cents.
pub fn cents(amount: &str) -> Option<i64> {
    amount::parse_decimal(amount)
}

/// Cents as a number with two places, grouped as the reader writes it: `2,500.00`,
/// `2.500,00`. Signed when negative.
pub fn number(cents: i64, lang: Lang) -> String {
    let mut value = Decimal::from(cents);
    value.multiply_pow10(-2);
    value.pad_end(-2);
    match &formats(lang).decimal {
        Some(formatter) => formatter.format(&value).to_string(),
        None => decimal(cents),
    }
}

/// How a language writes a currency: its sign, and whether it comes first. CLDR's
/// values for the currencies accounts can hold (`¤#,##0.00` in English, `#,##0.00 ¤`
/// in Spanish); any other currency is shown by its code.
fn currency_sign(currency: &str, lang: Lang) -> (String, bool) {
    match (lang, currency) {
        (Lang::En, "USD") => ("$".to_owned(), true),
        (Lang::En, "EUR") => ("€".to_owned(), true),
        (Lang::En, "GBP") => ("£".to_owned(), true),
        (Lang::En, other) => (format!("{other}\u{a0}"), true),
        (Lang::Es, "USD") => ("\u{a0}US$".to_owned(), false),
        (Lang::Es, "EUR") => ("\u{a0}€".to_owned(), false),
        (Lang::Es, other) => (format!("\u{a0}{other}"), false),
    }
}

/// The currency sign to show before and after an amount field, as the reader writes
/// money: `("$", "")` in English, `("", "US$")` in Spanish.
pub fn currency_affix(currency: &str, lang: Lang) -> (String, String) {
    let (sign, first) = currency_sign(currency, lang);
    let sign = sign.trim_matches('\u{a0}').to_owned();
    if first {
        (sign, String::new())
    } else {
        (String::new(), sign)
    }
}

/// Cents with the currency as the reader writes it: `$2,500.00` in English,
/// `2.500,00 US$` in Spanish (a no-break space before the sign); `-` before either
/// when negative.
pub fn money(cents: i64, currency: &str, lang: Lang) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let digits = number(
        i64::try_from(cents.unsigned_abs()).unwrap_or(i64::MAX),
        lang,
    );
    match currency_sign(currency, lang) {
        (symbol, true) => format!("{sign}{symbol}{digits}"),
        (symbol, false) => format!("{sign}{digits}{symbol}"),
    }
}

/// An amount from the api shown as money; the raw text if it is somehow not a number.
pub fn api_money(amount: &str, currency: &str, lang: Lang) -> String {
    cents(amount).map_or_else(|| amount.to_owned(), |c| money(c, currency, lang))
}

/// Cents as the reader would type them into the amount field: `1234.50`, `1234,50`.
/// What the review page sends back to be read again.
pub fn typed(cents: i64, lang: Lang) -> String {
    decimal(cents).replace('.', &conventions(lang).decimal.to_string())
}

/// Reads an amount the reader typed, in their language's convention (`12,50` is twelve
/// and a half in Spanish and refused in English), with the account's currency sign
/// allowed before or after it. The one parser: `banking_common::rules::amount::parse_typed`.
pub fn parse_amount(input: &str, currency: &str, lang: Lang) -> Result<i64, TypedAmountError> {
    let mut text = input.trim();
    let (sign, _) = currency_sign(currency, lang);
    for symbol in [sign.trim_matches('\u{a0}'), "$"] {
        if !symbol.is_empty() {
            text = text.strip_prefix(symbol).unwrap_or(text);
            text = text.strip_suffix(symbol).unwrap_or(text);
        }
    }
    amount::parse_typed(text, conventions(lang))
}

/// An RFC 3339 time as the reader writes a date and time (UTC): `27 Nov 2025, 14:03`,
/// `27 nov 2025, 14:03`. The raw text if it is not one.
pub fn date(rfc3339: &str, lang: Lang) -> String {
    let Ok(time) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_owned();
    };
    let utc = time.naive_utc();
    use chrono::Timelike;
    let time = Time::try_new(
        u8::try_from(utc.hour()).unwrap_or(0),
        u8::try_from(utc.minute()).unwrap_or(0),
        0,
        0,
    )
    .ok();
    match (icu_date(utc.date()).zip(time), &formats(lang).date_time) {
        (Some((date, time)), Some(formatter)) => {
            formatter.format(&DateTime { date, time }).to_string()
        }
        _ => utc.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// A day as the reader writes it: `29 Nov 2026`, `29 nov 2026`.
pub fn day(day: chrono::NaiveDate, lang: Lang) -> String {
    match (icu_date(day), &formats(lang).date) {
        (Some(date), Some(formatter)) => formatter.format(&date).to_string(),
        _ => day.to_string(),
    }
}

fn icu_date(day: chrono::NaiveDate) -> Option<Date<icu_calendar::Iso>> {
    use chrono::Datelike;
    Date::try_new_iso(
        day.year(),
        u8::try_from(day.month()).ok()?,
        u8::try_from(day.day()).ok()?,
    )
    .ok()
}

/// An account number as people read it: `1234 567 890`.
pub fn account_number(number: &str) -> String {
    if number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {}", &number[..4], &number[4..7], &number[7..])
    } else {
        number.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_as_each_reader_writes_it() {
        assert_eq!(cents("1234.50"), Some(123_450));
        assert_eq!(cents("-3.2"), Some(-320));
        assert_eq!(cents("abc"), None);
        for (cents, currency, en, es) in [
            (250_000, "USD", "$2,500.00", "2.500,00\u{a0}US$"),
            (100_000_000, "USD", "$1,000,000.00", "1.000.000,00\u{a0}US$"),
            (5, "EUR", "€0.05", "0,05\u{a0}€"),
            (-4250, "USD", "-$42.50", "-42,50\u{a0}US$"),
            (0, "CHF", "CHF\u{a0}0.00", "0,00\u{a0}CHF"),
            (99_999, "GBP", "£999.99", "999,99\u{a0}GBP"),
        ] {
            assert_eq!(money(cents, currency, Lang::En), en);
            assert_eq!(money(cents, currency, Lang::Es), es);
        }
        assert_eq!(decimal(123_405), "1234.05");
        assert_eq!(typed(123_405, Lang::Es), "1234,05");
        assert_eq!(typed(123_405, Lang::En), "1234.05");
    }

    #[test]
    fn the_separators_are_cldrs() {
        assert_eq!(
            conventions(Lang::En),
            Conventions {
                decimal: '.',
                group: ','
            }
        );
        assert_eq!(
            conventions(Lang::Es),
            Conventions {
                decimal: ',',
                group: '.'
            }
        );
    }

    #[test]
    fn typed_amounts_are_read_in_the_readers_convention() {
        assert_eq!(parse_amount("12,50", "USD", Lang::Es), Ok(1250));
        assert_eq!(parse_amount("12,50 US$", "USD", Lang::Es), Ok(1250));
        assert_eq!(parse_amount("$1,234.56", "USD", Lang::En), Ok(123_456));
        assert_eq!(parse_amount("1.234,56", "USD", Lang::Es), Ok(123_456));
        assert_eq!(
            parse_amount("12,50", "USD", Lang::En),
            Err(TypedAmountError::Separators)
        );
        assert_eq!(
            parse_amount("12.50", "USD", Lang::Es),
            Err(TypedAmountError::Separators)
        );
        assert_eq!(parse_amount("€5", "EUR", Lang::En), Ok(500));
        assert_eq!(
            parse_amount(" ", "USD", Lang::Es),
            Err(TypedAmountError::Empty)
        );
    }

    proptest::proptest! {
        #[test]
        fn what_the_pages_write_reads_back(cents in 1..=MAX_AMOUNT_CENTS, spanish: bool) {
            let lang = if spanish { Lang::Es } else { Lang::En };
            proptest::prop_assert_eq!(parse_amount(&number(cents, lang), "USD", lang), Ok(cents));
            proptest::prop_assert_eq!(parse_amount(&money(cents, "USD", lang), "USD", lang), Ok(cents));
            proptest::prop_assert_eq!(parse_amount(&typed(cents, lang), "USD", lang), Ok(cents));
        }
    }

    #[test]
    fn dates_as_each_reader_writes_them() {
        assert_eq!(
            date("2026-11-29T14:03:09.123Z", Lang::En),
            "29 Nov 2026, 14:03"
        );
        assert_eq!(
            date("2026-11-29T14:03:09.123Z", Lang::Es),
            "29 nov 2026, 14:03"
        );
        // UTC, whatever offset the api wrote.
        assert_eq!(
            date("2026-11-30T01:03:00+02:00", Lang::Es),
            "29 nov 2026, 23:03"
        );
        assert_eq!(date("not a date", Lang::Es), "not a date");
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        assert_eq!(day(d, Lang::En), "29 Nov 2026");
        assert_eq!(day(d, Lang::Es), "29 nov 2026");
        assert_eq!(account_number("1234567890"), "1234 567 890");
    }
}
