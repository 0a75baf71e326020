//! [`Reporter`]: collects [`ConfigError`]s while decoding and validating, giving each one its
//! field label (`mqtt.url`, `reader "r2": antennas.3`) and the line of the offending value.
//! Also names the config's sections ([`Section`]) and places in them ([`Place`]).

use super::error::ConfigError;
use super::spans::{Document, Seg, key, raw_str};
use std::ops::Range;
use std::path::PathBuf;

/// A top-level section of the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Gateway,
    Mqtt,
    Reader,
    Location,
    Dock,
    Gpio,
    Product,
    Lane,
    Reconcile,
    Metrics,
    Log,
    Epcis,
}

impl Section {
    /// Every section, in the order of the example config.
    pub(crate) const ALL: [Section; 12] = [
        Section::Gateway,
        Section::Mqtt,
        Section::Reader,
        Section::Location,
        Section::Dock,
        Section::Gpio,
        Section::Product,
        Section::Lane,
        Section::Reconcile,
        Section::Metrics,
        Section::Log,
        Section::Epcis,
    ];

    /// The section's key in the file.
    pub(crate) const fn key(self) -> &'static str {
        match self {
            Section::Gateway => "gateway",
            Section::Mqtt => "mqtt",
            Section::Reader => "reader",
            Section::Location => "location",
            Section::Dock => "dock",
            Section::Gpio => "gpio",
            Section::Product => "product",
            Section::Lane => "lane",
            Section::Reconcile => "reconcile",
            Section::Metrics => "metrics",
            Section::Log => "log",
            Section::Epcis => "epcis",
        }
    }

    /// True for `[[array]]` sections.
    pub(crate) const fn is_array(self) -> bool {
        matches!(
            self,
            Section::Reader
                | Section::Location
                | Section::Dock
                | Section::Gpio
                | Section::Product
                | Section::Lane
        )
    }

    /// The key that identifies an element of an array section.
    pub(crate) const fn id_key(self) -> &'static str {
        match self {
            Section::Gpio => "name",
            Section::Product => "epc_prefix",
            _ => "id",
        }
    }

    /// The section whose key is `name`.
    pub(crate) fn from_key(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.key() == name)
    }
}

/// A section, or one element of an array section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    /// The section.
    pub(crate) section: Section,
    /// The element's 0-based position for array sections.
    pub(crate) index: Option<usize>,
}

impl Place {
    /// A single-table section.
    pub(crate) const fn table(section: Section) -> Self {
        Place {
            section,
            index: None,
        }
    }

    /// Element `index` of an array section.
    pub(crate) const fn element(section: Section, index: usize) -> Self {
        Place {
            section,
            index: Some(index),
        }
    }

    /// The document path of `path` inside this place.
    pub(crate) fn doc_path(self, path: &[Seg]) -> Vec<Seg> {
        let mut full = vec![key(self.section.key())];
        full.extend(self.index.map(Seg::Index));
        full.extend_from_slice(path);
        full
    }
}

/// Renders a relative path: `antennas.3`, `planogram #2`.
fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => out.push_str(&format!(" #{}", i + 1)),
        }
    }
    out
}

/// Collects errors with labels and lines.
pub(crate) struct Reporter<'d, 'i> {
    file: PathBuf,
    doc: &'d Document<'i>,
    errors: Vec<ConfigError>,
}

impl<'d, 'i> Reporter<'d, 'i> {
    /// A reporter for `doc`, read from `file`.
    pub(crate) fn new(file: PathBuf, doc: &'d Document<'i>) -> Self {
        Reporter {
            file,
            doc,
            errors: Vec::new(),
        }
    }

    /// The document being reported on.
    pub(crate) fn doc(&self) -> &'d Document<'i> {
        self.doc
    }

    /// The label of `path` in `place`: `mqtt.url`, `reader "r2": protocol`, `reader #3`.
    pub(crate) fn label(&self, place: Place, path: &[Seg]) -> String {
        let section = place.section.key();
        let rendered = render_path(path);
        let Some(index) = place.index else {
            return if rendered.is_empty() {
                section.to_owned()
            } else {
                format!("{section}.{rendered}")
            };
        };
        let id_path = place.doc_path(&[key(place.section.id_key())]);
        let base = match raw_str(self.doc, &id_path) {
            Some(id) => format!("{section} {id:?}"),
            None => format!("{section} #{}", index + 1),
        };
        if rendered.is_empty() {
            base
        } else {
            format!("{base}: {rendered}")
        }
    }

    /// The 1-based line of `path` in `place` (or of its nearest present ancestor).
    pub(crate) fn line_of(&self, place: Place, path: &[Seg]) -> Option<usize> {
        self.doc
            .nearest_span(&place.doc_path(path))
            .map(|span| self.doc.line(span.start))
    }

    /// An error about `path` in `place`, at the line of its value.
    pub(crate) fn error(&mut self, place: Place, path: &[Seg], message: impl Into<String>) {
        let field = self.label(place, path);
        let line = self.line_of(place, path);
        self.push(line, field, message.into());
    }

    /// An error with an explicit field label and span.
    pub(crate) fn error_at(
        &mut self,
        span: Option<Range<usize>>,
        field: String,
        message: impl Into<String>,
    ) {
        let line = span.map(|s| self.doc.line(s.start));
        self.push(line, field, message.into());
    }

    fn push(&mut self, line: Option<usize>, field: String, message: String) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line,
            field,
            message,
        });
    }

    /// True when nothing was reported.
    pub(crate) fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, in line order (errors without a line first, then by line, then as reported).
    pub(crate) fn finish(self) -> Vec<ConfigError> {
        let mut errors = self.errors;
        errors.sort_by_key(|e| e.line.unwrap_or(0));
        errors
    }
}
