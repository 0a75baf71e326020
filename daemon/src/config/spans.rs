//! The raw TOML document with byte spans ([`Document`]), and the mapping from places in it
//! (paths like `reader[1].antennas."3"`) to 1-based line numbers. This is how semantic errors,
//! found long after parsing, still name the line of the offending value. It never interprets
//! values.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A raw value with its span in the document.
pub(crate) type RawValue<'i> = Spanned<DeValue<'i>>;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A key of a table.
    Key(String),
    /// A 0-based position in an array.
    Index(usize),
}

/// Shorthand for a key step.
pub(crate) fn key(name: &str) -> Seg {
    Seg::Key(name.to_owned())
}

/// A parsed TOML document and its line index.
pub(crate) struct Document<'i> {
    /// The top-level table.
    pub(crate) root: DeTable<'i>,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
}

impl<'i> Document<'i> {
    /// Parses TOML syntax only (no schema).
    pub(crate) fn parse(text: &'i str) -> Result<Self, toml::de::Error> {
        let root = DeTable::parse(text)?.into_inner();
        Ok(Document {
            root,
            line_starts: line_starts(text),
        })
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
    }

    /// The value at `path`, if the document has one.
    pub(crate) fn get(&self, path: &[Seg]) -> Option<&RawValue<'i>> {
        let (first, rest) = path.split_first()?;
        let Seg::Key(first) = first else { return None };
        let mut value = self.root.get(first.as_str())?;
        for seg in rest {
            value = child(value.get_ref(), seg)?;
        }
        Some(value)
    }

    /// The span of the value at `path` or, when it is absent, of its deepest present ancestor
    /// (so a missing key points at its table's header). `None` when not even the first step
    /// exists.
    pub(crate) fn nearest_span(&self, path: &[Seg]) -> Option<Range<usize>> {
        let (first, rest) = path.split_first()?;
        let Seg::Key(first) = first else { return None };
        let mut value = self.root.get(first.as_str())?;
        for seg in rest {
            match child(value.get_ref(), seg) {
                Some(next) => value = next,
                None => break,
            }
        }
        Some(value.span())
    }
}

/// The value at `path` relative to `value`.
pub(crate) fn value_at<'a, 'i>(value: &'a RawValue<'i>, path: &[Seg]) -> Option<&'a RawValue<'i>> {
    path.iter()
        .try_fold(value, |value, seg| child(value.get_ref(), seg))
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn child<'a, 'i>(value: &'a DeValue<'i>, seg: &Seg) -> Option<&'a RawValue<'i>> {
    match (value, seg) {
        (DeValue::Table(table), Seg::Key(k)) => table.get(k.as_str()),
        (DeValue::Array(array), Seg::Index(i)) => array.get(*i),
        _ => None,
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The path (relative to `value`) of the deepest entry whose key or value covers `target`;
/// `None` when only `value` itself does.
pub(crate) fn locate(value: &DeValue<'_>, target: &Range<usize>) -> Option<Vec<Seg>> {
    match value {
        DeValue::Table(table) => table.iter().find_map(|(k, v)| {
            let here = || Seg::Key(k.get_ref().to_string());
            if let Some(mut path) = locate(v.get_ref(), target) {
                path.insert(0, here());
                Some(path)
            } else if contains(&k.span(), target) || contains(&v.span(), target) {
                Some(vec![here()])
            } else {
                None
            }
        }),
        DeValue::Array(array) => array.iter().enumerate().find_map(|(i, v)| {
            if let Some(mut path) = locate(v.get_ref(), target) {
                path.insert(0, Seg::Index(i));
                Some(path)
            } else if contains(&v.span(), target) {
                Some(vec![Seg::Index(i)])
            } else {
                None
            }
        }),
        _ => None,
    }
}

/// Removes the table entry at `path` (relative to `value`); paths ending in an array index are
/// left alone (callers cut paths before the first index).
pub(crate) fn remove(value: &mut DeValue<'_>, path: &[Seg]) {
    match path {
        [] | [Seg::Index(_)] => {}
        [Seg::Key(k)] => {
            if let DeValue::Table(table) = value {
                table.remove(k.as_str());
            }
        }
        [first, rest @ ..] => {
            let next = match (value, first) {
                (DeValue::Table(table), Seg::Key(k)) => table.get_mut(k.as_str()),
                (DeValue::Array(array), Seg::Index(i)) => array.get_mut(*i),
                _ => None,
            };
            if let Some(next) = next {
                remove(next.get_mut(), rest);
            }
        }
    }
}

/// The raw string at `path`, if there is one.
pub(crate) fn raw_str<'a>(doc: &'a Document<'_>, path: &[Seg]) -> Option<&'a str> {
    doc.get(path).and_then(|v| v.get_ref().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "[gateway]\nstore = \"s\"\n\n[[reader]]\nid = \"r1\"\n[reader.antennas]\n1 = \"a\"\n";

    #[test]
    fn paths_map_to_lines() {
        let doc = Document::parse(TEXT).expect("valid toml");
        let line = |path: &[Seg]| doc.nearest_span(path).map(|s| doc.line(s.start));
        assert_eq!(line(&[key("gateway"), key("store")]), Some(2));
        assert_eq!(
            line(&[key("gateway"), key("id")]),
            Some(1),
            "missing key → table header"
        );
        assert_eq!(line(&[key("reader"), Seg::Index(0), key("id")]), Some(5));
        assert_eq!(
            line(&[key("reader"), Seg::Index(0), key("antennas"), key("1")]),
            Some(7)
        );
        assert_eq!(line(&[key("mqtt"), key("url")]), None);
    }

    #[test]
    fn locate_finds_the_deepest_entry() {
        let doc = Document::parse(TEXT).expect("valid toml");
        let reader = doc.get(&[key("reader"), Seg::Index(0)]).expect("reader");
        let one = doc
            .get(&[key("reader"), Seg::Index(0), key("antennas"), key("1")])
            .expect("antenna");
        assert_eq!(
            locate(reader.get_ref(), &one.span()),
            Some(vec![key("antennas"), key("1")])
        );
        assert_eq!(locate(reader.get_ref(), &reader.span()), None);
        let mut reader = reader.clone();
        remove(reader.get_mut(), &[key("antennas"), key("1")]);
        assert_eq!(locate(reader.get_ref(), &one.span()), None);
    }
}
