//! `eventlog report --html`: one self-contained page (inline CSS and
//! script, the aggregates embedded as JSON, no request of any kind) that
//! an on-call person opens from disk.
//!
//! The records are aggregated here ([`data`]); the page's script only
//! filters and draws what it is given. No chart library: the charts are a
//! few hundred lines of SVG drawing in `page.js`, which keeps the file
//! small and its licence ours.

mod data;
mod funnel;

use data::PageData;
pub(crate) use data::{PageBuilder, PageZone};
pub use funnel::FunnelBy;
pub(crate) use funnel::check_steps;

const TEMPLATE: &str = include_str!("page.html");
const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// The page for `data`, titled `title` (the paths read).
pub(crate) fn render(data: &PageData, title: &str) -> Result<String, serde_json::Error> {
    let json = embedded_json(data)?;
    let mut page = String::with_capacity(TEMPLATE.len() + CSS.len() + JS.len() + json.len());
    let mut rest = TEMPLATE;
    // Each placeholder is filled once, in one pass: what is inserted (a
    // title from the command line, the data) is never searched again.
    while let Some((before, after)) = rest.split_once("{{") {
        let Some((name, tail)) = after.split_once("}}") else {
            break;
        };
        page.push_str(before);
        match name {
            "TITLE" => page.push_str(&escape_html(title)),
            "CSS" => page.push_str(CSS),
            "JS" => page.push_str(JS),
            "DATA" => page.push_str(&json),
            other => {
                page.push_str("{{");
                page.push_str(other);
                page.push_str("}}");
            }
        }
        rest = tail;
    }
    page.push_str(rest);
    Ok(page)
}

/// JSON safe inside `<script>`: every `<` escaped, so no value (a message
/// holding `</script>`) can end the element early.
fn embedded_json(data: &PageData) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string(data)?.replace('<', "\\u003c"))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)] // A failed index fails the test.
mod tests {
    use super::*;

    #[test]
    fn a_hostile_message_and_title_cannot_leave_their_elements() {
        let mut b = PageBuilder::default();
        let record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"timestamp":"2026-12-01T00:00:00Z","event_name":"x","message":"</script><script>alert(1)</script> {{JS}}"}"#,
        )
        .unwrap();
        b.add(&crate::view::RecordView::Full(&record));
        let page = render(&b.finish(), "<img src=x onerror=alert(1)> {{CSS}}").unwrap();
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "only the page's own two"
        );
        assert!(!page.contains("<img src=x"));
        assert_eq!(page.matches("\"use strict\"").count(), 1, "the script once");
        assert!(
            page.contains("{{CSS}}") && page.contains("{{JS}}"),
            "inserted text is not re-expanded"
        );
        // The embedded data still parses, message intact.
        let start = page.find("id=\"eventlog-data\">").unwrap() + "id=\"eventlog-data\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(
            data["samples"][0]["message"],
            "</script><script>alert(1)</script> {{JS}}"
        );
    }
}
