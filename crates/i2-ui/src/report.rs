//! A job report (`report_xml.xml`, built by the task's upstream report class) as HTML.
//!
//! Report elements are `CCP4i2Report<Kind>` (Fold, Text, Table, Graph, Div…) around plain
//! HTML-like markup and `ccp4_data` graph tables. Text is shown as text (markup inside it
//! is stripped, never passed through), a known set of HTML elements is rebuilt without
//! attributes, graphs become server-drawn SVG ([`crate::svg`]); anything else shows its
//! children.

use i2_tasks::xml::{Element, parse_str};
use maud::{Markup, html};

use crate::svg::{PlotSpec, line_chart, parse_rows};

/// The largest report rendered; beyond this the page offers the raw report instead.
const MAX_REPORT: usize = 8 << 20;
/// Nesting deeper than this is not drawn (a malformed report must not exhaust the stack).
const MAX_DEPTH: usize = 64;

pub fn render(xml: &str) -> Markup {
    if xml.len() > MAX_REPORT {
        return html! { p.notice { "This report is too large to show here." } };
    }
    match parse_str(xml) {
        Ok(root) => html! { div.report { (element(&root, 0)) } },
        Err(e) => {
            tracing::warn!(error = %e, "unreadable report");
            html! { p.notice.error { "The report of this job cannot be read." } }
        }
    }
}

const HTML_TAGS: &[&str] = &[
    "div", "p", "span", "table", "thead", "tbody", "tr", "th", "td", "b", "i", "em", "strong",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "code", "sub", "sup", "br",
    "caption",
];

fn element(e: &Element, depth: usize) -> Markup {
    if depth > MAX_DEPTH {
        return html! {};
    }
    let text = strip_tags(e.text.as_deref().unwrap_or(""));
    let tail = strip_tags(e.tail.as_deref().unwrap_or(""));
    let body = if let Some(kind) = e.tag.strip_prefix("CCP4i2Report") {
        report_element(kind, e, &text, depth)
    } else if e.tag == "ccp4_data" {
        graph(e)
    } else if HTML_TAGS.contains(&e.tag.as_str()) {
        html_element(e, &text, depth)
    } else if matches!(
        e.tag.as_str(),
        "status" | "launch" | "help" | "headers" | "data" | "plot"
    ) {
        // Housekeeping elements and graph parts outside a graph: nothing to show.
        html! {}
    } else {
        html! { (text) (children(e, depth)) }
    };
    html! { (body) (tail) }
}

fn children(e: &Element, depth: usize) -> Markup {
    html! { @for c in &e.children { (element(c, depth + 1)) } }
}

fn report_element(kind: &str, e: &Element, text: &str, depth: usize) -> Markup {
    match kind {
        "Fold" => {
            let label = e
                .attr("label")
                .or_else(|| e.attr("title"))
                .unwrap_or("Details");
            let open = e
                .attr("initiallyOpen")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            html! { details.fold open[open] { summary { (label) } (text) (children(e, depth)) } }
        }
        "Text" | "Alignment" | "Copy" => html! { div.text { (text) (children(e, depth)) } },
        "Pre" | "FetchPre" => html! { pre { (text) } (children(e, depth)) },
        "Title" => html! {
            h3.report-title { (e.attr("title").unwrap_or(text)) }
            (children(e, depth))
        },
        "Graph" | "FlotGraph" | "GraphGroup" | "FlotGraphGroup" => html! {
            div.graphs { (text) (children(e, depth)) }
        },
        "Status" | "Help" | "Launch" | "DAGGraph" | "Picture" | "ObjectGallery" => html! {},
        _ => html! { div class={"r-" (kind.to_lowercase())} { (text) (children(e, depth)) } },
    }
}

fn html_element(e: &Element, text: &str, depth: usize) -> Markup {
    let inner = html! { (text) (children(e, depth)) };
    match e.tag.as_str() {
        "table" => html! { div.table-wrap { table.list { (inner) } } },
        "thead" => html! { thead { (inner) } },
        "tbody" => html! { tbody { (inner) } },
        "tr" => html! { tr { (inner) } },
        "th" => html! { th { (inner) } },
        "td" => html! { td { (inner) } },
        "p" => html! { p { (inner) } },
        "pre" => html! { pre { (inner) } },
        "br" => html! { br; },
        "b" | "strong" => html! { strong { (inner) } },
        "i" | "em" => html! { em { (inner) } },
        "h1" | "h2" | "h3" => html! { h3 { (inner) } },
        "h4" | "h5" | "h6" => html! { h4 { (inner) } },
        "ul" => html! { ul { (inner) } },
        "ol" => html! { ol { (inner) } },
        "li" => html! { li { (inner) } },
        "sub" => html! { sub { (inner) } },
        "sup" => html! { sup { (inner) } },
        "code" => html! { code { (inner) } },
        "caption" => html! { caption { (inner) } },
        _ => html! { span { (inner) } },
    }
}

fn child_text(e: &Element, tag: &str) -> String {
    e.child(tag)
        .map(|c| c.text_str().trim().to_string())
        .unwrap_or_default()
}

/// A `ccp4_data` table: headers, rows, and its plots, each drawn as SVG.
fn graph(e: &Element) -> Markup {
    let headers: Vec<String> = e
        .child("headers")
        .map(|h| {
            let text = h.text_str();
            match h.attr("separator").filter(|s| !s.trim().is_empty()) {
                Some(sep) => text.split(sep).map(|s| s.trim().to_string()).collect(),
                None => text.split_whitespace().map(str::to_string).collect(),
            }
        })
        .unwrap_or_default();
    let rows = e
        .child("data")
        .map(|d| parse_rows(d.text_str()))
        .unwrap_or_default();
    let title = e.attr("title").unwrap_or("").to_string();
    let plots: Vec<&Element> = e.children.iter().filter(|c| c.tag == "plot").collect();
    html! {
        figure.graph-set {
            @if !title.is_empty() { figcaption { (title) } }
            @for p in &plots {
                @let spec = PlotSpec {
                    title: child_text(p, "title"),
                    xlabel: child_text(p, "xlabel"),
                    ylabel: child_text(p, "ylabel"),
                    lines: p.children.iter().filter(|l| l.tag == "plotline").filter_map(|l| {
                        let x = l.attr("xcol")?.trim().parse().ok()?;
                        let y = l.attr("ycol")?.trim().parse().ok()?;
                        Some((x, y, l.attr("colour").map(str::to_string)))
                    }).collect(),
                };
                (line_chart(&spec, &headers, &rows))
            }
            @if plots.is_empty() && !rows.is_empty() {
                div.table-wrap { table.list {
                    @if !headers.is_empty() { thead { tr { @for h in &headers { th { (h) } } } } }
                    tbody { @for r in rows.iter().take(200) { tr { @for v in r { td.num { @if let Some(v) = v { (v) } } } } } }
                } }
            }
        }
    }
}

/// Text with any markup inside it removed (`<br/>` becomes a space).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_text_tables_and_graphs() {
        let xml = r#"<CCP4i2ReportReport><CCP4i2ReportFold label="Summary" initiallyOpen="True">
            <CCP4i2ReportText>Free R set made <b>here</b><script>x</script></CCP4i2ReportText>
            <CCP4i2ReportTable><table><tr><th>Cell</th><td onclick="x">42</td></tr></table></CCP4i2ReportTable>
            <CCP4i2ReportGraph><ccp4_data title="Stats"><headers>res R</headers><data>1 0.2
2 0.3</data><plot><title>R</title><plotline xcol="1" ycol="2"/></plot></ccp4_data></CCP4i2ReportGraph>
            </CCP4i2ReportFold></CCP4i2ReportReport>"#;
        let out = render(xml).into_string();
        assert!(
            out.contains("<details class=\"fold\" open><summary>Summary</summary>"),
            "{out}"
        );
        assert!(out.contains("<th>Cell</th><td>42</td>"), "{out}");
        assert!(
            !out.contains("onclick") && !out.contains("<script"),
            "{out}"
        );
        assert!(out.contains("<svg") && out.contains("<polyline"), "{out}");
    }

    #[test]
    fn unreadable_report_says_so() {
        assert!(
            render("<a><b></a>")
                .into_string()
                .contains("cannot be read")
        );
    }
}
