//! An existing env file, edited in place: where each variable is defined, and rewriting chosen values while every
//! other byte — other lines, comments, blank lines, order, line endings, the quoting of untouched values — stays as
//! it was.
//!
//! The file's *values* are read with a real dotenv parser (the `kommo-env` CLI uses `dotenvy`); this module only
//! finds **where** each definition's value is written, so it can be replaced. To agree with dotenvy on what a
//! definition is, the scanner follows dotenvy 0.15's line grammar: a line whose first non-blank character is `#` is a
//! comment; otherwise `[export ]NAME=value`, where `NAME` starts with an ASCII letter or `_` and goes on with ASCII
//! letters, digits, `_` and `.`; a `#` after white space outside quotes starts a comment; a quote left open carries
//! the value on to the next line. The scanner yields the definitions in the order dotenvy yields its pairs, so a
//! caller can zip the two and check that they name the same variables.
//!
//! Values written by [`set_values`] and [`upsert_values`] are quoted with [`crate::env::dotenv_quote`], the page's
//! quoting. Pure text in, text out: no IO.

use std::ops::Range;

use crate::env::dotenv_quote;

/// One `NAME=value` definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The variable name, without `export `.
    pub name: String,
    /// The (1-based) line the definition starts on.
    pub line: usize,
    /// Where its value is written, quotes included, trailing blanks and comment excluded. Empty (at the position
    /// after `=` and any blanks) when the value is empty.
    pub value: Range<usize>,
}

/// Why a file could not be scanned or edited. Messages name the line or the variable, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvFileError {
    #[error("line {line}: {what}")]
    Malformed { line: usize, what: &'static str },
    #[error("{name} is defined more than once (lines {first} and {second}); keep one so every tool reads the same value")]
    Duplicate {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("{name} is not in the file")]
    Missing { name: String },
}

/// The UTF-8 byte-order mark, which dotenvy skips at the start of a file.
const BOM: &str = "\u{feff}";

/// The end state of dotenvy's multi-line reader after a physical line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Complete,
    Escape,
    Strong,
    StrongEscape,
    Weak,
    WeakEscape,
    WhiteSpace,
    /// A comment starts at this offset of the physical line.
    Comment(usize),
}

/// dotenvy's `eval_end_state`: how one physical line (with its `\n`) moves the reader's state.
fn reader_state(mut state: Reader, line: &str) -> Reader {
    for (pos, c) in line.char_indices() {
        state = match state {
            Reader::WhiteSpace => match c {
                '#' => return Reader::Comment(pos),
                '\\' => Reader::Escape,
                '"' => Reader::Weak,
                '\'' => Reader::Strong,
                _ => Reader::Complete,
            },
            Reader::Escape => Reader::Complete,
            Reader::Complete => match c {
                c if c.is_whitespace() && c != '\n' && c != '\r' => Reader::WhiteSpace,
                '\\' => Reader::Escape,
                '"' => Reader::Weak,
                '\'' => Reader::Strong,
                _ => Reader::Complete,
            },
            Reader::Weak => match c {
                '\\' => Reader::WeakEscape,
                '"' => Reader::Complete,
                _ => Reader::Weak,
            },
            Reader::WeakEscape => Reader::Weak,
            Reader::Strong => match c {
                '\\' => Reader::StrongEscape,
                '\'' => Reader::Complete,
                _ => Reader::Strong,
            },
            Reader::StrongEscape => Reader::Strong,
            Reader::Comment(_) => unreachable!("returned above"),
        };
    }
    state
}

/// Find every definition, in file order. Fails on a line dotenvy could not read either.
pub fn scan(text: &str) -> Result<Vec<Definition>, EnvFileError> {
    let mut defs = Vec::new();
    let mut pos = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let mut line_no = 1;
    while pos < text.len() {
        let start = pos;
        let first_line = line_no;
        // Join physical lines while a quote (or a trailing escape) is open, as dotenvy does.
        let mut state = Reader::Complete;
        let logical_end;
        loop {
            let phys_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
            // A logical line whose text so far starts with `#` is a comment, whatever follows.
            if text[start..phys_end].trim_start().starts_with('#') {
                logical_end = start;
                pos = phys_end;
                line_no += 1;
                break;
            }
            state = reader_state(state, &text[pos..phys_end]);
            let at = pos;
            pos = phys_end;
            line_no += 1;
            match state {
                Reader::Complete => {
                    logical_end = phys_end;
                    break;
                }
                Reader::Comment(offset) => {
                    logical_end = at + offset;
                    break;
                }
                _ if pos >= text.len() => {
                    return Err(EnvFileError::Malformed {
                        line: first_line,
                        what: "a quote or a trailing \\ is left open at the end of the file",
                    });
                }
                _ => {}
            }
        }
        if logical_end > start {
            if let Some(def) = definition(text, start, logical_end, first_line)? {
                defs.push(def);
            }
        }
    }
    Ok(defs)
}

fn is_blank(c: char) -> bool {
    c.is_whitespace()
}

/// dotenvy's `LineParser` on the logical line `text[start..end]`.
fn definition(
    text: &str,
    start: usize,
    end: usize,
    line: usize,
) -> Result<Option<Definition>, EnvFileError> {
    let logical = text[start..end].trim_end();
    let end = start + logical.len();
    let mut at = start + (logical.len() - logical.trim_start().len());
    if at == end || text[at..end].starts_with('#') {
        return Ok(None);
    }
    let malformed = |what| EnvFileError::Malformed { line, what };
    let key = |at: usize| -> Result<usize, EnvFileError> {
        let rest = &text[at..end];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return Err(malformed(
                "expected NAME=value (a name starts with a letter or _)",
            ));
        }
        Ok(at
            + rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len()))
    };
    let skip_blanks = |at: usize| -> usize {
        at + text[at..end]
            .find(|c: char| !is_blank(c))
            .unwrap_or(end - at)
    };
    let mut key_start = at;
    let mut key_end = key(at)?;
    at = skip_blanks(key_end);
    if &text[key_start..key_end] == "export" && !text[at..end].starts_with('=') {
        key_start = at;
        key_end = key(at)?;
        at = skip_blanks(key_end);
    }
    if !text[at..end].starts_with('=') {
        return Err(malformed("expected = after the variable name"));
    }
    at = skip_blanks(at + 1);
    let value = if at == end || text[at..end].starts_with('#') {
        at..at
    } else {
        at..value_end(&text[at..end], at).map_err(malformed)?
    };
    Ok(Some(Definition {
        name: text[key_start..key_end].to_string(),
        line,
        value,
    }))
}

/// dotenvy's `parse_value`, keeping only where the value ends (absolute offset), not what it means.
fn value_end(input: &str, offset: usize) -> Result<usize, &'static str> {
    #[derive(PartialEq)]
    enum Subst {
        None,
        Block,
        Braced,
    }
    let (mut strong, mut weak, mut escaped, mut expecting_end) = (false, false, false, false);
    let mut subst = Subst::None;
    // Whether a name has started after `$` (`${` opens a braced name only right after the `$`).
    let mut named = false;
    let mut end = input.len();
    for (i, c) in input.char_indices() {
        if expecting_end {
            if c == ' ' || c == '\t' {
                continue;
            } else if c == '#' {
                break;
            }
            return Err("white space inside an unquoted value: quote the value");
        } else if escaped {
            if !matches!(c, '\\' | '\'' | '"' | '$' | ' ' | 'n') {
                return Err("an unknown escape (only \\\\ \\' \\\" \\$ \\n and \\ followed by a space are read)");
            }
            escaped = false;
        } else if strong {
            if c == '\'' {
                strong = false;
            }
        } else if subst != Subst::None {
            // As dotenvy: the character that ends a `$NAME` is taken literally, not as a quote or a blank.
            if c.is_alphanumeric() {
                named = true;
            } else {
                match subst {
                    Subst::Block if c == '{' && !named => subst = Subst::Braced,
                    Subst::Block => {
                        subst = if c == '$' { Subst::Block } else { Subst::None };
                        named = false;
                    }
                    Subst::Braced if c == '}' => {
                        subst = Subst::None;
                        named = false;
                    }
                    _ => named = true,
                }
            }
        } else if c == '$' {
            subst = Subst::Block;
            named = false;
        } else if weak {
            if c == '"' {
                weak = false;
            } else if c == '\\' {
                escaped = true;
            }
        } else if c == '\'' {
            strong = true;
        } else if c == '"' {
            weak = true;
        } else if c == '\\' {
            escaped = true;
        } else if c == ' ' || c == '\t' {
            expecting_end = true;
            end = i;
        }
    }
    if subst == Subst::Braced || strong || weak {
        return Err("a quote or ${ is left open");
    }
    Ok(offset + end)
}

/// The one definition of `name`, if any; two or more is an error (tools disagree on which one wins).
pub fn find<'a>(
    defs: &'a [Definition],
    name: &str,
) -> Result<Option<&'a Definition>, EnvFileError> {
    let mut found = defs.iter().filter(|d| d.name == name);
    let first = found.next();
    if let (Some(a), Some(b)) = (first, found.next()) {
        return Err(EnvFileError::Duplicate {
            name: name.to_string(),
            first: a.line,
            second: b.line,
        });
    }
    Ok(first)
}

/// Replace the values of variables that are each defined exactly once. Nothing else changes.
pub fn set_values(text: &str, changes: &[(&str, &str)]) -> Result<String, EnvFileError> {
    edit(text, changes, false)
}

/// Like [`set_values`], but a variable not in the file is appended at the end as `NAME=value` (after a line break
/// if the file does not end with one, in the file's own line-break style).
pub fn upsert_values(text: &str, changes: &[(&str, &str)]) -> Result<String, EnvFileError> {
    edit(text, changes, true)
}

fn edit(text: &str, changes: &[(&str, &str)], append: bool) -> Result<String, EnvFileError> {
    let defs = scan(text)?;
    let mut spans: Vec<(Range<usize>, &str)> = Vec::new();
    let mut missing = Vec::new();
    for &(name, value) in changes {
        match find(&defs, name)? {
            Some(d) => spans.push((d.value.clone(), value)),
            None if append => missing.push((name, value)),
            None => {
                return Err(EnvFileError::Missing {
                    name: name.to_string(),
                })
            }
        }
    }
    spans.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for (range, value) in spans {
        out.push_str(&text[at..range.start]);
        out.push_str(&dotenv_quote(value));
        at = range.end;
    }
    out.push_str(&text[at..]);
    if !missing.is_empty() {
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        for (name, value) in missing {
            out.push_str(name);
            out.push('=');
            out.push_str(&dotenv_quote(value));
            out.push_str(eol);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, usize, String)> {
        scan(text)
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.line, text[d.value].to_string()))
            .collect()
    }

    fn n(name: &str, line: usize, raw: &str) -> (String, usize, String) {
        (name.to_string(), line, raw.to_string())
    }

    #[test]
    fn finds_definitions_with_their_raw_values() {
        let text = "# Kommo\n\nA=1\nexport B='two words'  # note\n  C = \"x\\\"y\"\nD=\nE= # empty\nF=a#b\nexport=3\r\nG.H=v\r\n";
        assert_eq!(
            names(text),
            vec![
                n("A", 3, "1"),
                n("B", 4, "'two words'"),
                n("C", 5, "\"x\\\"y\""),
                n("D", 6, ""),
                n("E", 7, ""),
                n("F", 8, "a#b"),
                n("export", 9, "3"),
                n("G.H", 10, "v"),
            ]
        );
    }

    #[test]
    fn a_quoted_value_may_span_lines_and_hide_look_alikes() {
        let text =
            "KEY=\"-----BEGIN\nP_ACCESS_TOKEN=not-a-definition\n-----END\"\nP_ACCESS_TOKEN=real\n";
        assert_eq!(
            names(text),
            vec![
                n(
                    "KEY",
                    1,
                    "\"-----BEGIN\nP_ACCESS_TOKEN=not-a-definition\n-----END\""
                ),
                n("P_ACCESS_TOKEN", 4, "real"),
            ]
        );
        // A comment line swallows nothing, even with an apostrophe in it.
        assert_eq!(names("# it's a note\nA=1\n"), vec![n("A", 2, "1")]);
    }

    #[test]
    fn malformed_lines_are_named_by_number() {
        let cases: &[(&str, usize)] = &[
            ("A=1\nthis is not a variable\n", 2),
            ("A=1\n\nB 2\n", 3),
            ("A=1\n1X=2\n", 2),
            ("A=1\nB=two words\n", 2),
            ("A=1\nB=\"open\nC=3\n", 2),
            ("A=\"x\\q\"\n", 1),
            ("A=${OPEN\n", 1),
        ];
        for (text, line) in cases {
            match scan(text) {
                Err(EnvFileError::Malformed { line: l, .. }) => assert_eq!(l, *line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn rewrites_only_the_chosen_values() {
        let text = "# tokens\nP_ACCESS_TOKEN=old.a.b # kept comment\r\nOTHER='x y'\nexport P_REFRESH_TOKEN=\"def-old\"\nTAIL=1";
        let out = set_values(
            text,
            &[
                ("P_REFRESH_TOKEN", "def50200new"),
                ("P_ACCESS_TOKEN", "new.a.b"),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "# tokens\nP_ACCESS_TOKEN=new.a.b # kept comment\r\nOTHER='x y'\nexport P_REFRESH_TOKEN=def50200new\nTAIL=1"
        );
        assert_eq!(
            set_values(text, &[("NOPE", "x")]),
            Err(EnvFileError::Missing {
                name: "NOPE".into()
            })
        );
        assert_eq!(set_values(text, &[]).unwrap(), text);
    }

    #[test]
    fn an_empty_value_is_filled_in_place() {
        let out = set_values("A=\nB= # c\nC=3\n", &[("A", "1"), ("B", "2")]).unwrap();
        assert_eq!(out, "A=1\nB=2 # c\nC=3\n");
    }

    #[test]
    fn duplicates_are_refused_with_both_lines() {
        let text = "A=1\nB=2\nA=3\n";
        assert_eq!(
            set_values(text, &[("A", "x")]),
            Err(EnvFileError::Duplicate {
                name: "A".into(),
                first: 1,
                second: 3
            })
        );
        // A duplicate of a variable not touched is left alone.
        assert_eq!(set_values(text, &[("B", "x")]).unwrap(), "A=1\nB=x\nA=3\n");
    }

    #[test]
    fn upsert_appends_what_is_missing_in_the_files_style() {
        assert_eq!(
            upsert_values("A=1", &[("A", "2"), ("B", "3")]).unwrap(),
            "A=2\nB=3\n"
        );
        assert_eq!(
            upsert_values("A=1\r\n", &[("B", "3")]).unwrap(),
            "A=1\r\nB=3\r\n"
        );
        assert_eq!(upsert_values("", &[("B", "3")]).unwrap(), "B=3\n");
    }

    #[test]
    fn a_byte_order_mark_stays() {
        let text = "\u{feff}A=1\n";
        assert_eq!(names(text), vec![n("A", 1, "1")]);
        assert_eq!(set_values(text, &[("A", "2")]).unwrap(), "\u{feff}A=2\n");
    }

    /// What dotenvy 0.15.7 (the parser `kommo-env` reads values with) makes of `text`: the pairs in order, or
    /// `None` when it refuses the file. The BOM is dropped first, as dotenvy's own loaders do.
    fn dotenvy_pairs(text: &str) -> Option<Vec<(String, String)>> {
        let text = text.strip_prefix(BOM).unwrap_or(text);
        dotenvy::from_read_iter(text.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .ok()
    }

    /// Lines of the kinds real env files hold, including dotenvy's odd corners.
    const FRAGMENTS: &[&str] = &[
        "A=1",
        "export B=two",
        "C='single quoted # not a comment'",
        "D=\"double \\\"quoted\\\" \\$HOME\"",
        "E=bare # comment",
        "F=a#b",
        "G=",
        "H= # empty",
        "# a comment with an apostrophe: it's",
        "   # indented comment",
        "",
        "   ",
        "I=\"multi\nline\nJ=inside\"",
        "K='multi\nline'",
        "L=${A}x",
        "M=$A\"q\"",
        "N = spaced",
        "export O",
        "P=two words",
        "Q=\"open",
        "1R=bad",
        "S=it's",
        "T=\"\\q\"",
        "U=a\\ b",
        "V.W=dotted",
        "X=\"x\" # c",
        "Y='a\\'",
        "export=7",
        "Z=\t tab",
    ];

    #[test]
    fn agrees_with_dotenvy_on_every_fragment() {
        for f in FRAGMENTS {
            for text in [
                format!("{f}\n"),
                f.to_string(),
                format!("A0=1\n{f}\r\nZ9=2\n"),
            ] {
                let ours = scan(&text);
                let theirs = dotenvy_pairs(&text);
                match (&ours, &theirs) {
                    (Ok(defs), Some(pairs)) => {
                        let a: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
                        let b: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
                        assert_eq!(a, b, "{text:?}");
                    }
                    (Err(_), None) => {}
                    _ => panic!("{text:?}: scanner {ours:?}, dotenvy {theirs:?}"),
                }
            }
        }
    }

    #[test]
    fn rewritten_files_read_back_exactly_with_dotenvy() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2lnX9Qw-_";
        let refresh = "def50200a1b2c3d4e5f6";
        for f in FRAGMENTS {
            let text =
                format!("# top\nP_ACCESS_TOKEN='old' # kept\n{f}\nexport P_REFRESH_TOKEN=old2\n");
            let Some(before) = dotenvy_pairs(&text) else {
                assert!(scan(&text).is_err(), "{text:?}");
                continue;
            };
            let out = set_values(
                &text,
                &[("P_ACCESS_TOKEN", token), ("P_REFRESH_TOKEN", refresh)],
            )
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let after = dotenvy_pairs(&out).unwrap_or_else(|| panic!("{out:?}"));
            assert_eq!(before.len(), after.len(), "{out:?}");
            for ((k0, v0), (k1, v1)) in before.iter().zip(&after) {
                assert_eq!(k0, k1);
                match k0.as_str() {
                    "P_ACCESS_TOKEN" => assert_eq!(v1, token),
                    "P_REFRESH_TOKEN" => assert_eq!(v1, refresh),
                    _ => assert_eq!(v0, v1, "{k0} in {out:?}"),
                }
            }
            // Only the two token lines differ.
            let changed: Vec<(&str, &str)> = text
                .lines()
                .zip(out.lines())
                .filter(|(a, b)| a != b)
                .collect();
            assert_eq!(
                changed,
                vec![
                    (
                        "P_ACCESS_TOKEN='old' # kept",
                        &*format!("P_ACCESS_TOKEN={token} # kept")
                    ),
                    (
                        "export P_REFRESH_TOKEN=old2",
                        &*format!("export P_REFRESH_TOKEN={refresh}")
                    ),
                ],
                "{out:?}"
            );
        }
    }
}
