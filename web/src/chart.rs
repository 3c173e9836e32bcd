//! The balance chart: daily closing balances as an inline SVG drawn on the server, with
//! its words (the period, and the start, end, lowest and highest balance) for the visible
//! summary, the SVG's `<title>`/`<desc>` and the axis labels. No script, no inline style:
//! the template places the numbers, `app.css` colours them.

use crate::format;
use crate::i18n::Localizer;
use crate::statement::DailyBalances;

/// The drawing's coordinates: stretched to the width of the page
/// (`preserveAspectRatio="none"`), lines kept 2 px thick (`non-scaling-stroke`).
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 300.0;
/// Room above the highest balance and below zero, so the line is never cut at the edge.
const PAD: f64 = 12.0;

/// The chart of one account's balance, or why there is none.
pub enum BalanceChart {
    /// Money went in or out: the line.
    Drawn(Box<ChartView>),
    /// No postings in the period: the balance it stayed at.
    Flat { balance: String, days: usize },
    /// The statement could not be read just now.
    Unavailable,
}

/// What the template needs to draw the chart and say what it shows.
pub struct ChartView {
    /// How many days it covers.
    pub days: usize,
    /// The SVG's `viewBox`, and its width for lines across it.
    pub view_box: String,
    pub width: String,
    /// The path of the daily closing balances (a step each day), and the same closed
    /// along the zero line to shade the area under it.
    pub line: String,
    pub area: String,
    /// The y of the top grid line (the highest balance) and of the zero line.
    pub top: String,
    pub zero: String,
    /// "1 Sep 2026", the first day; "29 Nov 2026", the last.
    pub first_day: String,
    pub last_day: String,
    /// Money: the axis's bottom (zero), and the four the summary names (the highest is
    /// the axis's top).
    pub zero_label: String,
    pub start: String,
    pub end: String,
    pub lowest: String,
    pub highest: String,
    pub postings: usize,
    /// "From 1 Sept 2026 to 29 Nov 2026 the balance went from $100.00 to $70.00. It was
    /// lowest at $60.00 and highest at $120.00." The text alternative of the drawing.
    pub summary: String,
}

impl BalanceChart {
    pub fn new(balances: &DailyBalances, currency: &str, t: &Localizer) -> BalanceChart {
        let lang = t.lang();
        let money = |cents| format::money(cents, currency, lang);
        let days = balances.closing.len();
        let (Some(&first), Some(&last)) = (balances.closing.first(), balances.closing.last())
        else {
            return BalanceChart::Unavailable;
        };
        if balances.postings == 0 {
            return BalanceChart::Flat {
                balance: money(last),
                days,
            };
        }
        let lowest = balances.closing.iter().copied().min().unwrap_or(first);
        let highest = balances.closing.iter().copied().max().unwrap_or(first);
        // Balances never go below zero: the axis runs from zero to the highest.
        let ceiling = highest.max(1) as f64;
        let y = |cents: i64| HEIGHT - PAD - (cents.max(0) as f64 / ceiling) * (HEIGHT - 2.0 * PAD);
        let step = WIDTH / days as f64;
        let mut line = String::new();
        for (i, &cents) in balances.closing.iter().enumerate() {
            let (x0, x1, y) = (i as f64 * step, (i + 1) as f64 * step, y(cents));
            if i == 0 {
                line.push_str(&format!("M{x0:.1} {y:.1}"));
            } else {
                line.push_str(&format!(" V{y:.1}"));
            }
            line.push_str(&format!(" H{x1:.1}"));
        }
        let zero = y(0);
        let area = format!("{line} V{zero:.1} H0 Z");
        let last_day = balances
            .from
            .checked_add_days(chrono::Days::new(days as u64 - 1))
            .unwrap_or(balances.from);
        let (first_day, last_day) = (
            format::day(balances.from, lang),
            format::day(last_day, lang),
        );
        let (start, end, low, high) = (money(first), money(last), money(lowest), money(highest));
        let summary = t.args(
            "chart-summary",
            &[
                ("first", first_day.clone().into()),
                ("last", last_day.clone().into()),
                ("start", start.clone().into()),
                ("end", end.clone().into()),
                ("lowest", low.clone().into()),
                ("highest", high.clone().into()),
            ],
        );
        BalanceChart::Drawn(Box::new(ChartView {
            days,
            view_box: format!("0 0 {WIDTH} {HEIGHT}"),
            width: WIDTH.to_string(),
            zero_label: money(0),
            line,
            area,
            top: format!("{:.1}", y(highest.max(1))),
            zero: format!("{zero:.1}"),
            first_day,
            last_day,
            start,
            end,
            lowest: low,
            highest: high,
            postings: balances.postings,
            summary,
        }))
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::locale::Lang;

    const T: Localizer = Localizer::english();

    fn balances(closing: Vec<i64>, postings: usize) -> DailyBalances {
        DailyBalances {
            from: NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
            closing,
            postings,
        }
    }

    #[test]
    fn the_line_steps_through_each_day_and_the_words_name_the_balances() {
        let BalanceChart::Drawn(chart) =
            BalanceChart::new(&balances(vec![10_000, 6_000, 12_000, 7_000], 3), "USD", &T)
        else {
            panic!("a chart");
        };
        assert_eq!(
            chart.line,
            "M0.0 58.0 H250.0 V150.0 H500.0 V12.0 H750.0 V127.0 H1000.0"
        );
        assert!(chart.area.ends_with("H1000.0 V288.0 H0 Z"));
        assert_eq!((chart.top.as_str(), chart.zero.as_str()), ("12.0", "288.0"));
        assert_eq!(
            chart.summary,
            "From 1 Sept 2026 to 4 Sept 2026 the balance went from $100.00 to $70.00. It was lowest at $60.00 and highest at $120.00."
        );
        let BalanceChart::Drawn(chart) = BalanceChart::new(
            &balances(vec![10_000, 6_000, 12_000, 7_000], 3),
            "USD",
            &Localizer::new(Lang::Es),
        ) else {
            panic!("a chart");
        };
        assert_eq!(
            chart.summary,
            "Del 1 sept 2026 al 4 sept 2026 el saldo pasó de 100,00\u{a0}US$ a 70,00\u{a0}US$. El mínimo fue de 60,00\u{a0}US$ y el máximo, de 120,00\u{a0}US$."
        );
    }

    #[test]
    fn no_postings_no_line() {
        match BalanceChart::new(&balances(vec![2_500; 90], 0), "USD", &T) {
            BalanceChart::Flat { balance, days } => {
                assert_eq!((balance.as_str(), days), ("$25.00", 90));
            }
            _ => panic!("a flat balance"),
        }
        assert!(matches!(
            BalanceChart::new(&balances(vec![], 0), "USD", &T),
            BalanceChart::Unavailable
        ));
        // All zero, with postings (in and out again the same day): a line on the axis.
        let BalanceChart::Drawn(chart) = BalanceChart::new(&balances(vec![0, 0], 2), "USD", &T)
        else {
            panic!("a chart");
        };
        assert!(chart.line.starts_with("M0.0 288.0"));
    }
}
