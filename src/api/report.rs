//! `GET /analytics/report`: one self-contained, printable HTML page of the
//! process analytics, with inline SVG charts. No script, no external
//! asset, no font download: it prints and mails as it is.

use super::responses::{Unauthenticated, Unprocessable};
use std::fmt::Write;

use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::domain::analytics::SEAL_HOUR_BINS;
use crate::error::{AppResult, Problem};
use crate::workflows::analytics::{self as flow, Period, Report};

/// The printable report of the process analytics.
///
/// One self-contained HTML page (`Accept: text/html`; inline SVG, no script, no
/// external asset): vote changes per loop, interviewer leniency with its
/// uncertainty, time to seal, agreement over time. Admins, recruiters and
/// certified Bar Raisers.
#[utoipa::path(
    tag = "analytics",
    operation_id = "get_analytics_report",
    params(Period),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A self-contained HTML page", body = String, content_type = "text/html"),
        Unauthenticated,
        (status = 403, description = "`analytics_not_permitted`", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[get("/analytics/report")]
pub async fn report(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<Period>,
) -> AppResult<HttpResponse> {
    let r = flow::report(&state, &me, q.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(render(&r)))
}

/// Text made safe for HTML content and attributes.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0} %", x * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "–".into())
}

const W: f64 = 720.0;
const H: f64 = 220.0;
const PAD: f64 = 40.0;

fn empty(chart: &str, title: &str) -> String {
    format!(
        "<svg data-chart=\"{chart}\" viewBox=\"0 0 {W} 60\" role=\"img\"><title>{title}</title>\
         <text x=\"{PAD}\" y=\"35\" class=\"muted\">Nothing decided in this period.</text></svg>"
    )
}

/// Changed votes per loop, the part that moved toward the hiring manager
/// drawn darker.
fn changes_chart(r: &Report) -> String {
    const CHART: &str = "vote-changes";
    let title = "Changed votes per decided loop; dark: moved toward the hiring manager";
    let loops: Vec<_> = r.loops.iter().rev().take(60).rev().collect();
    if loops.is_empty() {
        return empty(CHART, title);
    }
    let top = loops.iter().map(|l| l.voters).max().unwrap_or(1).max(1) as f64;
    let step = (W - 2.0 * PAD) / loops.len() as f64;
    let bar = (step * 0.7).max(1.0);
    let y = |v: f64| H - PAD - v / top * (H - 2.0 * PAD);
    let mut s = format!(
        "<svg data-chart=\"{CHART}\" viewBox=\"0 0 {W} {H}\" role=\"img\"><title>{title}</title>"
    );
    let _ = write!(
        s,
        "<line x1=\"{PAD}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" class=\"axis\"/>",
        H - PAD,
        W - PAD
    );
    for k in 0..=(top as usize) {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{k}</text>",
            PAD - 6.0,
            y(k as f64) + 4.0
        );
    }
    for (n, l) in loops.iter().enumerate() {
        let x = PAD + n as f64 * step + (step - bar) / 2.0;
        let changed = f64::from(l.changed);
        let toward = f64::from(l.toward_hiring_manager.unwrap_or(0));
        let _ = write!(
            s,
            "<rect class=\"changed\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"><title>{}: {} of {} changed</title></rect>",
            y(changed),
            H - PAD - y(changed),
            esc(&l.decided_at.format("%Y-%m-%d").to_string()),
            l.changed,
            l.voters
        );
        if toward > 0.0 {
            let _ = write!(
                s,
                "<rect class=\"toward\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"/>",
                y(toward),
                H - PAD - y(toward)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{PAD}\" y=\"{}\" class=\"tick\">oldest</text>",
        H - PAD + 16.0
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">newest</text></svg>",
        W - PAD,
        H - PAD + 16.0
    );
    s
}

/// Each interviewer's leniency (own sealed vote minus the panel's mean) as
/// a dot with its 95 % interval.
fn leniency_chart(r: &Report) -> String {
    const CHART: &str = "leniency";
    let title = "Leniency per interviewer: mean difference from the panel, with 95 % interval";
    if r.leniency.is_empty() {
        return empty(CHART, title);
    }
    let row = 22.0;
    let h = 2.0 * PAD + row * r.leniency.len() as f64;
    let left = 190.0;
    let x = |v: f64| left + (v.clamp(-3.0, 3.0) + 3.0) / 6.0 * (W - left - PAD);
    let mut s = format!(
        "<svg data-chart=\"{CHART}\" viewBox=\"0 0 {W} {h}\" role=\"img\"><title>{title}</title>"
    );
    for v in [-3, -2, -1, 0, 1, 2, 3] {
        let cls = if v == 0 { "axis" } else { "grid" };
        let _ = write!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" class=\"{cls}\"/><text x=\"{0:.1}\" y=\"{3}\" class=\"tick\" text-anchor=\"middle\">{v:+}</text>",
            x(f64::from(v)),
            PAD - 10.0,
            h - PAD,
            h - PAD + 16.0
        );
    }
    for (n, p) in r.leniency.iter().enumerate() {
        let cy = PAD + row * (n as f64 + 0.5);
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{} ({})</text>",
            left - 10.0,
            cy + 4.0,
            esc(&p.name),
            p.loops
        );
        if let Some(w) = p.half_width {
            let _ = write!(
                s,
                "<line class=\"interval\" x1=\"{:.1}\" y1=\"{cy:.1}\" x2=\"{:.1}\" y2=\"{cy:.1}\"/>",
                x(p.mean - w),
                x(p.mean + w)
            );
        }
        let _ = write!(
            s,
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{cy:.1}\" r=\"5\"><title>{:+.2}</title></circle>",
            x(p.mean),
            p.mean
        );
    }
    s.push_str("</svg>");
    s
}

/// How long interviewers took to seal, in bins.
fn seal_chart(r: &Report) -> String {
    const CHART: &str = "time-to-seal";
    let title = "Time from interview end to seal";
    let total: usize = r.seal_histogram.iter().sum();
    if total == 0 {
        return empty(CHART, title);
    }
    let mut labels: Vec<String> = Vec::new();
    let mut lower = 0.0;
    for b in SEAL_HOUR_BINS {
        labels.push(format!("{}–{} h", lower, b));
        lower = b;
    }
    labels.push(format!("≥ {lower} h"));
    let top = *r.seal_histogram.iter().max().unwrap_or(&1) as f64;
    let step = (W - 2.0 * PAD) / labels.len() as f64;
    let y = |v: f64| H - PAD - v / top * (H - 2.0 * PAD);
    let mut s = format!(
        "<svg data-chart=\"{CHART}\" viewBox=\"0 0 {W} {H}\" role=\"img\"><title>{title}</title>"
    );
    let _ = write!(
        s,
        "<line x1=\"{PAD}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" class=\"axis\"/>",
        H - PAD,
        W - PAD
    );
    for (n, (count, label)) in r.seal_histogram.iter().zip(&labels).enumerate() {
        let x = PAD + n as f64 * step + step * 0.1;
        let c = *count as f64;
        let _ = write!(
            s,
            "<rect class=\"bin\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{count}</text><text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            y(c),
            step * 0.8,
            H - PAD - y(c),
            x + step * 0.4,
            y(c) - 4.0,
            x + step * 0.4,
            H - PAD + 16.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

/// Krippendorff's α of the sealed votes, month by month.
fn alpha_chart(r: &Report) -> String {
    const CHART: &str = "alpha-over-time";
    let title = "Agreement of the sealed votes (Krippendorff's α, ordinal) by month";
    let points: Vec<(usize, f64, &str)> = r
        .alpha_by_month
        .iter()
        .enumerate()
        .filter_map(|(n, m)| Some((n, m.alpha?, m.month.as_str())))
        .collect();
    if points.is_empty() {
        return empty(CHART, title);
    }
    let months = r.alpha_by_month.len().max(2) as f64;
    let x = |n: usize| PAD + n as f64 / (months - 1.0) * (W - 2.0 * PAD);
    let y = |a: f64| H - PAD - (a.clamp(-1.0, 1.0) + 1.0) / 2.0 * (H - 2.0 * PAD);
    let mut s = format!(
        "<svg data-chart=\"{CHART}\" viewBox=\"0 0 {W} {H}\" role=\"img\"><title>{title}</title>"
    );
    for a in [-1.0, 0.0, 0.667, 0.8, 1.0] {
        let cls = if a == 0.0 { "axis" } else { "grid" };
        let _ = write!(
            s,
            "<line x1=\"{PAD}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" class=\"{cls}\"/><text x=\"{2}\" y=\"{3:.1}\" class=\"tick\" text-anchor=\"end\">{a}</text>",
            y(a),
            W - PAD,
            PAD - 6.0,
            y(a) + 4.0
        );
    }
    let path: Vec<String> = points
        .iter()
        .map(|(n, a, _)| format!("{:.1},{:.1}", x(*n), y(*a)))
        .collect();
    let _ = write!(
        s,
        "<polyline class=\"line\" points=\"{}\"/>",
        path.join(" ")
    );
    for (n, a, month) in &points {
        let _ = write!(
            s,
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"><title>{}: {a:.3}</title></circle>",
            x(*n),
            y(*a),
            esc(month)
        );
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\">{}</text>",
            x(first.0),
            H - PAD + 16.0,
            esc(first.2)
        );
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>",
            x(last.0),
            H - PAD + 16.0,
            esc(last.2)
        );
    }
    s.push_str("</svg>");
    s
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#1d2430;max-width:800px;margin:24px auto;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}p.lead{color:#5a6474;margin:0 0 16px}\
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{padding:4px 8px;border-bottom:1px solid #e3e6eb;text-align:left}\
th{font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}svg{width:100%;height:auto;margin:4px 0 8px}\
.axis{stroke:#5a6474;stroke-width:1}.grid{stroke:#e3e6eb;stroke-width:1}.tick,.label,.muted{font-size:11px;fill:#5a6474}\
.label{fill:#1d2430;font-size:12px}.changed{fill:#b9c6dc}.toward{fill:#2f4b7c}.bin{fill:#5b8bd0}\
.dot{fill:#2f4b7c}.interval{stroke:#2f4b7c;stroke-width:2}.line{fill:none;stroke:#2f4b7c;stroke-width:2}\
@media print{body{margin:0}h2{break-after:avoid}svg{break-inside:avoid}}";

/// The whole page.
pub fn render(r: &Report) -> String {
    let s = &r.summary;
    let period = format!(
        "{} to {}",
        s.period.from.format("%Y-%m-%d"),
        s.period.to.format("%Y-%m-%d")
    );
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Interview process analytics, {period}</title>\
         <style>{STYLE}</style></head><body><h1>Interview process analytics</h1>\
         <p class=\"lead\">{} decided loops, {period}{}. Only decided loops count; figures of an interviewer need {} loops.</p>",
        s.loops,
        s.period
            .position
            .as_deref()
            .map(|p| format!(", position {}", esc(p)))
            .unwrap_or_default(),
        r.min_loops
    );
    let _ = write!(
        out,
        "<table><tr><th>Agreement of sealed votes (α)</th><td class=\"n\">{}</td></tr>\
         <tr><th>Loops where a debrief changed a vote</th><td class=\"n\">{}</td></tr>\
         <tr><th>Changed votes that moved toward the hiring manager</th><td class=\"n\">{}</td></tr>\
         <tr><th>Mean convergence in the debrief</th><td class=\"n\">{}</td></tr>\
         <tr><th>Quick votes: voters who committed one / amended at the seal / final vote differs</th><td class=\"n\">{} / {} / {}</td></tr>\
         <tr><th>Hours to seal, median / 90th percentile</th><td class=\"n\">{} / {}</td></tr>\
         <tr><th>Hours from last interview to debrief, median</th><td class=\"n\">{}</td></tr>\
         <tr><th>Hours from debrief to decision, median</th><td class=\"n\">{}</td></tr></table>",
        num(s.votes.alpha, 3),
        pct(s.changed_share),
        pct(s.toward_hiring_manager_share),
        num(s.mean_convergence, 2),
        pct(s.quick_voted_share),
        pct(s.amended_share),
        pct(s.quick_to_final_changed_share),
        num(s.timeliness.seal_hours.p50, 1),
        num(s.timeliness.seal_hours.p90, 1),
        num(s.timeliness.debrief_open_hours.p50, 1),
        num(s.timeliness.decision_hours.p50, 1),
    );
    let _ = write!(
        out,
        "<h2>How much debriefs moved people</h2>{}",
        changes_chart(r)
    );
    let _ = write!(out, "<h2>Interviewer leniency</h2>{}", leniency_chart(r));
    let _ = write!(out, "<h2>Time to seal</h2>{}", seal_chart(r));
    let _ = write!(out, "<h2>Agreement over time</h2>{}", alpha_chart(r));
    out.push_str("<h2>Bar Raisers</h2><table><tr><th>Bar Raiser</th><th>Loops</th><th>Concurs</th><th>Vetoes</th><th>Veto rate</th></tr>");
    for b in &s.bar_raisers {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&b.bar_raiser.name),
            b.loops,
            b.concurs,
            b.vetoes,
            pct(b.veto_rate)
        );
    }
    out.push_str("</table></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<b a=\"x\">'&'</b>"),
            "&lt;b a=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;"
        );
    }
}
