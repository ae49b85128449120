//! The application's documentation where Asterisk users look: `core show application
//! StasisBroadcast`, filled section by section from doc/app_stasis_broadcast-en_US.xml (mounted
//! by the test bed into the container's thirdparty documentation). Ours only: upstream shows
//! its own text.

mod common;

use std::collections::BTreeMap;

use common::*;

const DOC: &str = "doc/app_stasis_broadcast-en_US.xml";

/// The CLI output without colours, split into its `[Section]`s (name -> text, trimmed).
fn sections(out: &str) -> BTreeMap<String, String> {
    let mut plain = String::new();
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An ANSI colour sequence: ESC [ ... letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let mut map = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in plain.lines() {
        let t = line.trim();
        let header = t.len() > 2
            && t.starts_with('[')
            && t.ends_with(']')
            && t[1..t.len() - 1]
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == ' ');
        if header {
            if let Some((name, text)) = current.take() {
                map.insert(name, text.trim().to_string());
            }
            current = Some((t[1..t.len() - 1].to_string(), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Some((name, text)) = current {
        map.insert(name, text.trim().to_string());
    }
    map
}

/// A section's text with its line wrapping undone (Asterisk wraps at 80 columns).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn core_show_application_fills_every_section_from_the_xml() {
    assert_eq!(
        target(),
        Target::Ours,
        "the docs test checks our documentation"
    );
    asterisk();
    let out = cli("core show application StasisBroadcast");
    let s = sections(&out);
    let get = |name: &str| -> String {
        s.get(name)
            .unwrap_or_else(|| panic!("no [{name}] section in:\n{out}"))
            .clone()
    };
    for (name, text) in &s {
        assert!(
            !text.to_lowercase().contains("not available"),
            "[{name}] is not filled:\n{out}"
        );
    }

    assert_eq!(
        flat(&get("Synopsis")),
        "Offer a call to many ARI applications at once; the first to claim it gets it in Stasis."
    );
    // Rendered by Asterisk 22.10+ only (the XML's module attribute).
    if let Some(by) = s.get("Provided By") {
        assert_eq!(by, "app_stasis_broadcast", "{out}");
    }
    // Rendered by Asterisk 20+ only: the releases that brought StasisBroadcast into Asterisk
    // (its own XML says 20.17.0, 22.7.0, 23.1.0, versions it was not in).
    if let Some(since) = s.get("Since") {
        assert_eq!(since, "20.20.0, 22.10.0, 23.4.0", "{out}");
    }

    let description = flat(&get("Description"));
    for fact in [
        "CallBroadcast",
        "POST /ari/events/claim",
        "channelId",
        "'204'",
        "'409'",
        "'404'",
        "Stasis(winner,args...)",
        "res_stasis_broadcast",
        "stasis broadcast show",
        "differs from Asterisk's own implementation",
        "offers the call to nobody instead of to every application",
        "${STASISSTATUS}",
        "SUCCESS: The call was claimed",
        "FAILED: The call was claimed but Stasis could not run",
        "TIMEOUT: Nobody claimed the call in time",
        "${STASISBROADCAST_REASON}",
        "DISABLED: Broadcasting is disabled",
        "StasisBroadcast(2000,^ivr-,sales:priority-high)",
    ] {
        assert!(
            description.contains(fact),
            "[Description] lacks {fact:?}:\n{out}"
        );
    }

    assert_eq!(
        get("Syntax"),
        "StasisBroadcast([timeout][,app_filter[,args[,notify_claimed]]])"
    );

    let arguments = get("Arguments");
    let names: Vec<&str> = arguments
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .collect();
    assert_eq!(
        names,
        ["timeout", "app_filter", "args", "notify_claimed"],
        "{out}"
    );
    let arguments = flat(&arguments);
    for fact in [
        "'0' to '60000'",
        "Default (also when empty): '500'",
        "unanchored",
        "'[,]'",
        "linear time",
        "back-references",
        "'\"args\": [\"sales\",\"priority-high\"]'",
        "'CallClaimed'",
        "Default: off",
    ] {
        assert!(
            arguments.contains(fact),
            "[Arguments] lack {fact:?}:\n{out}"
        );
    }

    assert_eq!(
        flat(&get("See Also")),
        "Stasis(), 'stasis broadcast show', 'stasis broadcast stats', 'stasis broadcast disable'"
    );
}

/// The module uses the XML only when its synopsis is the module's own (see sb_register_app in
/// src/shim/shim.c): the two texts must not drift apart.
#[test]
fn the_xml_synopsis_is_the_one_the_module_looks_for() {
    let xml = std::fs::read_to_string(repo().join(DOC)).unwrap();
    let shim = std::fs::read_to_string(repo().join("src/shim/shim.c")).unwrap();
    let between = |text: &str, start: &str, end: &str| -> String {
        let from = text.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
        let to = from + text[from..].find(end).unwrap_or_else(|| panic!("no {end}"));
        text[from..to].to_string()
    };
    let in_xml = flat(&between(&xml, "<synopsis>", "</synopsis>"));
    let in_shim = between(&shim, "app_synopsis[] =\n\t\"", "\";");
    assert_eq!(in_xml, in_shim);
}
