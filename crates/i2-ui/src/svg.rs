//! Line graphs as SVG, drawn on the server from a report's `ccp4_data` table: columns of
//! numbers, and plots naming which column is x and which columns are lines.

use maud::{Markup, PreEscaped, html};

/// One plot: a title, axis labels, and (x column, y column, colour) per line, 1-based.
#[derive(Debug, Clone, Default)]
pub struct PlotSpec {
    pub title: String,
    pub xlabel: String,
    pub ylabel: String,
    pub lines: Vec<(usize, usize, Option<String>)>,
}

/// A line: its legend name, colour and points.
type Series = (String, String, Vec<(f64, f64)>);

const PALETTE: &[&str] = &[
    "#1f6fb2", "#d1495b", "#2a9d8f", "#e9a03b", "#6c4ab6", "#555",
];
const W: f64 = 520.0;
const H: f64 = 280.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;

/// Rows of numbers from a data block (`-`, `nan`, `*` and other non-numbers are gaps).
pub fn parse_rows(text: &str) -> Vec<Vec<Option<f64>>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect()
        })
        .collect()
}

fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = vec![];
    while t <= hi + step * 1e-9 && out.len() < 12 {
        out.push(t);
        t += step;
    }
    out
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 || (v.abs() >= 0.01 && v.abs() < 10000.0) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.1e}")
    }
}

/// The SVG of one plot over `rows`, with `headers` naming the columns (for the legend).
pub fn line_chart(spec: &PlotSpec, headers: &[String], rows: &[Vec<Option<f64>>]) -> Markup {
    let series: Vec<Series> = spec
        .lines
        .iter()
        .enumerate()
        .map(|(i, (xc, yc, colour))| {
            let pts = rows
                .iter()
                .filter_map(|r| {
                    let x = r.get(xc.checked_sub(1)?).copied().flatten()?;
                    let y = r.get(yc.checked_sub(1)?).copied().flatten()?;
                    Some((x, y))
                })
                .collect();
            let name = headers
                .get(yc.saturating_sub(1))
                .cloned()
                .unwrap_or_else(|| format!("column {yc}"));
            let colour = colour
                .clone()
                .filter(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '#'))
                .unwrap_or_else(|| PALETTE[i % PALETTE.len()].to_string());
            (name, colour, pts)
        })
        .collect();
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.2.iter().copied()).collect();
    if all.is_empty() {
        return html! { p.empty { "(graph “" (spec.title) "” has no data)" } };
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in &all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let mut svg = String::new();
    svg.push_str(&format!(
        r#"<svg class="graph" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        esc(&spec.title)
    ));
    svg.push_str(&format!(
        r#"<text x="{}" y="18" text-anchor="middle" class="g-title">{}</text>"#,
        W / 2.0,
        esc(&spec.title)
    ));
    svg.push_str(&format!(
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>"##
    ));
    for t in nice_ticks(x0, x1) {
        let x = sx(t);
        svg.push_str(&format!(
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle" class="g-tick">{}</text>"##,
            TOP,
            TOP + ph,
            TOP + ph + 14.0,
            fmt_tick(t)
        ));
    }
    for t in nice_ticks(y0, y1) {
        let y = sy(t);
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" class="g-tick">{}</text>"##,
            LEFT + pw,
            LEFT - 4.0,
            y + 4.0,
            fmt_tick(t)
        ));
    }
    for (_, colour, pts) in &series {
        let d: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        svg.push_str(&format!(
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{}"/>"#,
            d.join(" ")
        ));
    }
    svg.push_str(&format!(
        r#"<text x="{}" y="{}" text-anchor="middle" class="g-label">{}</text>"#,
        LEFT + pw / 2.0,
        H - 8.0,
        esc(&spec.xlabel)
    ));
    svg.push_str(&format!(
        r#"<text transform="translate(12,{}) rotate(-90)" text-anchor="middle" class="g-label">{}</text>"#,
        TOP + ph / 2.0,
        esc(&spec.ylabel)
    ));
    for (i, (name, colour, _)) in series.iter().enumerate() {
        let y = TOP + 12.0 + 14.0 * i as f64;
        svg.push_str(&format!(
            r#"<rect x="{}" y="{}" width="10" height="3" fill="{colour}"/><text x="{}" y="{}" class="g-legend">{}</text>"#,
            LEFT + pw - 120.0,
            y - 4.0,
            LEFT + pw - 106.0,
            y,
            esc(name)
        ));
    }
    svg.push_str("</svg>");
    PreEscaped(svg)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_and_escapes_titles() {
        let rows = parse_rows("1 2 3\n2 4 -\n3 6 9\n");
        let spec = PlotSpec {
            title: "R <vs> resolution".into(),
            xlabel: "x".into(),
            ylabel: "y".into(),
            lines: vec![(1, 2, None), (1, 3, Some("red".into()))],
        };
        let svg = line_chart(&spec, &["a".into(), "b".into(), "c".into()], &rows).into_string();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("R &lt;vs&gt; resolution"));
        assert!(svg.contains(r#"stroke="red""#));
        // The gap in column 3 leaves that line two points.
        let third = svg.split("<polyline").nth(2).unwrap_or_default();
        let points = third.split("points=\"").nth(1).unwrap_or_default();
        let points = points.split('"').next().unwrap_or_default();
        assert_eq!(points.split(' ').count(), 2, "{points}");
    }
}
