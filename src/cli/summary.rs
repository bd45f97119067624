//! The end-of-run summary: what came in, what was refused and why, what went out.

use std::fmt::Write as _;

use crate::engine::Topic;
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
            "  {:<20}{:>12}  rule {}: from {} matches; held back by the rule {}, by the hourly cap {}, past valid_until {}, without uid or pid {}",
            "PROMOTION_NOTIFICATIONS",
            n.notifications,
            n.rule.name(),
            n.matches,
            held.rule,
            held.cap,
            held.expired,
            held.unaddressed
        );
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
