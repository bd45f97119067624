//! The end-of-run summary: what came in, what was refused and why, what went out.

use std::fmt::Write as _;

use super::duration::format_duration_ms;
use crate::engine::pipeline::join_columns;
use crate::engine::rfc3339::format_rfc3339_ms;
use crate::engine::{MemoryShed, PipelineParams, Topic};
use crate::io::run_loop::RunReport;

/// The summary `instore run` prints on stderr.
pub fn format_summary(report: &RunReport) -> String {
    let stats = report.pipeline.stats();
    let params = report.pipeline.params();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "instore run: decimals={} radius={} ft match_key={}",
        params.decimal_policy.name(),
        params.radius_ft,
        params.match_key.name()
    );
    let _ = writeln!(
        s,
        "{:<22}{:>12}{:>10}{:>10}",
        "input topic", "records", "rejected", "late"
    );
    let mut total_in = 0;
    for topic in Topic::INPUTS {
        let c = stats.topic(topic);
        total_in += c.records;
        let _ = writeln!(
            s,
            "  {:<20}{:>12}{:>10}{:>10}",
            topic.name(),
            c.records,
            c.rejected,
            c.late
        );
    }
    let unmatchable = Topic::INPUTS.map(|topic| (topic, stats.topic(topic).unmatchable));
    if unmatchable.iter().any(|(_, n)| *n > 0) {
        let _ = writeln!(
            s,
            "taken, but never able to reach a shopper (a NULL where the joins need a value)"
        );
        for (topic, n) in unmatchable.into_iter().filter(|(_, n)| *n > 0) {
            let needs = join_columns(topic, params.match_key);
            let _ = writeln!(s, "  {:<20}{n:>8}  without one of {needs}", topic.name());
        }
    }
    for input in &report.cut_short {
        let _ = writeln!(
            s,
            "{input} is cut short: its gzip stream ends before its end (a recording stopped \
             mid-write, or an unfinished copy); every line before the cut was read"
        );
    }
    if stats.rejects.total() > 0 {
        let _ = writeln!(s, "rejected by reason");
        for (topic, reason, entry) in stats.rejects.iter() {
            let _ = writeln!(s, "  {topic:<20}{:>8}  {reason}", entry.count);
        }
    }
    let _ = writeln!(s, "{:<22}{:>12}{:>10}", "output topic", "records", "late");
    for topic in Topic::OUTPUTS {
        let c = stats.topic(topic);
        let _ = writeln!(s, "  {:<20}{:>12}{:>10}", topic.name(), c.records, c.late);
    }
    if let Some(n) = &report.notifications {
        let held = &n.held_back;
        let _ = writeln!(
            s,
            "  {:<20}{:>12}  rule {}: from {} matches, {} of them sent on; held back by the rule {}, by the hourly cap {}, past valid_until {}, without uid or pid {}",
            "PROMOTION_NOTIFICATIONS",
            n.notifications,
            n.rule.name(),
            n.matches,
            n.notifying,
            held.rule,
            held.cap,
            held.expired,
            held.unaddressed
        );
        if let Some(c) = &n.campaign {
            let _ = writeln!(
                s,
                "campaign: {} NEARBY_CUSTOMERS kept; {} beyond its radius and {} in other stores left out; {} notifications past its budget not sent",
                c.matches, c.near, c.other_store, c.over_budget
            );
        }
    }
    if let Some(shed) = report.pipeline.memory_shed() {
        let _ = writeln!(s, "{}", describe_memory_shed(&shed, params));
    }
    let state = report.pipeline.state_size();
    let _ = writeln!(
        s,
        "state at end: {} products+promotions, {} pings, {} valid-promotion cell entries buffered",
        state.promotion_join, state.customers, state.valid_promotion_entries
    );
    let secs = report.wall_time.as_secs_f64();
    let rate = if secs > 0.0 {
        report.lines_read as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "{} lines ({} input records) in {:.3} s: {:.0} records/s",
        report.lines_read, total_in, secs, rate
    );
    s
}

/// What the state-memory budget cost, and which grace keeps within it.
fn describe_memory_shed(shed: &MemoryShed, params: &PipelineParams) -> String {
    let window = params.customer_window();
    let fitting_grace_ms = shed.kept_ms - 2 * window.within_ms;
    let advice = if fitting_grace_ms > 0 {
        format!(
            "To keep within it, lower --customer-grace to {} or less, or give a larger \
             --state-memory.",
            format_duration_ms(fitting_grace_ms)
        )
    } else {
        "It holds less than two windows of pings: give a larger --state-memory (or a shorter \
         --customer-window)."
            .to_owned()
    };
    format!(
        "state memory: past the {} budget from {} on ({} times): the NEARBY_CUSTOMERS \
         join kept the last {} of pings and valid promotions instead of {} (2 x {} window + \
         {} grace); older records are counted late. {advice}",
        size(shed.budget_bytes),
        format_rfc3339_ms(shed.first_at_ms),
        shed.sheddings,
        format_duration_ms(shed.kept_ms),
        format_duration_ms(window.retention_ms()),
        format_duration_ms(window.within_ms),
        format_duration_ms(window.grace_ms),
    )
}

/// A size for people, in the decimal units `--state-memory` reads: `500 KB`, `800 MB`.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} KB", b / 1e3)
    }
}
