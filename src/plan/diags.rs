//! Diagnostic codes and the diagnostic type every check produces.
//!
//! Codes are public API: pipelines filter on them and docs link to them. They are listed here, in
//! one place, each with a one-line description ([`Code::ALL`]); a test keeps them unique and
//! snapshots the list so that a rename shows up in review. Never reuse a retired code.
//!
//! Problems are collected, not returned: loading, the schema check and the guardrails all push
//! [`Diagnostic`]s into one list per file, and the command renders all of them at the end.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, SourceCode};

use super::source::{CharSpan, SourceFile};

macro_rules! codes {
    ($($variant:ident = $name:literal: $desc:literal,)*) => {
        /// A stable diagnostic code, printed as `aepact::<name>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed, e.g. `aepact::duplicate_segment`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => concat!("aepact::", $name),)* }
            }

            /// One line saying what the code means.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }
    };
}

codes! {
    // Reading files and paths.
    PathNotFound = "path_not_found": "a path given on the command line does not exist",
    NoPlans = "no_plans": "a directory holds no `*.yaml` or `*.yml` plan files",
    Unreadable = "unreadable": "a plan file could not be read (permissions, not a regular file, I/O error)",
    FileTooLarge = "file_too_large": "a plan file is larger than the 1 MiB limit",
    NotUtf8 = "not_utf8": "a plan file is not valid UTF-8",
    // YAML.
    EmptyFile = "empty_file": "a plan file holds no YAML document",
    YamlSyntax = "yaml_syntax": "the YAML parser rejected the file",
    MultipleDocuments = "multiple_documents": "a plan file holds more than one YAML document",
    DuplicateKey = "duplicate_key": "a mapping has the same key twice",
    AliasLimit = "alias_limit": "anchors and aliases expand past the node limit (a \"billion laughs\" file)",
    TooDeep = "too_deep": "the document nests deeper than the limit",
    UnsupportedYaml = "unsupported_yaml": "YAML that has no JSON equivalent: complex keys, custom tags, huge or non-finite numbers",
    // Schema.
    UnknownKey = "unknown_key": "a key the plan format does not define",
    MissingKey = "missing_key": "a required key is missing",
    WrongType = "wrong_type": "a value has the wrong type (for example a string where a list is expected)",
    InvalidValue = "invalid_value": "a value is outside what the format allows",
    InvalidName = "invalid_name": "the plan `name` is not a slug",
    MalformedId = "malformed_id": "a destination, segment or export job ID is malformed",
    EmptyList = "empty_list": "a list that needs at least one entry is empty",
    // Guardrails on one plan.
    MissingExports = "missing_exports": "`exports` is left out although API version 1 requires export job IDs",
    DuplicateExport = "duplicate_export": "an export job ID is listed twice",
    ExportIdLeadingZero = "export_id_leading_zero": "an export job ID is written with a leading zero (`011037` names job 11037)",
    DuplicateDestination = "duplicate_destination": "a destination is listed twice",
    DuplicateSegment = "duplicate_segment": "a segment is listed twice under one destination",
    TooManySegments = "too_many_segments": "one job would activate more distinct segments than the platform allows",
    ExpectBounds = "expect_bounds": "an `expect` has `minRecords` greater than `maxRecords`",
    // Guardrails across the plans of one invocation.
    DuplicateName = "duplicate_name": "two plans have the same `name`",
    SharedLockfile = "shared_lockfile": "two plan files would keep their records in the same lockfile (`a.yaml` and `a.yml`)",
    SegmentInSeveralPlans = "segment_in_several_plans": "two plans activate the same segment and must not run concurrently",
    // The policy file (`aepact.policy.yaml`) and its offline rules.
    PolicyVersion = "policy::version": "a policy file has an `apiVersion` this aepact does not read (it reads `aepact/policy-v1`)",
    PolicyRule = "policy::rule": "the policy rule a violation breaks, shown beside it (never on its own)",
    PolicyDestination = "policy::destination": "a destination the policy does not allow in the plan's sandbox (`destinations`)",
    PolicyMaxSegmentsPerPlan = "policy::max_segments_per_plan": "a plan activates more distinct segments than the policy allows (`maxSegmentsPerPlan`)",
    PolicyMaxSegmentsPerApply = "policy::max_segments_per_apply": "the plans given to one command activate more distinct segments than the policy allows (`maxSegmentsPerApply`)",
    PolicyRequireDescription = "policy::require_description": "a plan has no `description` and the policy requires one (`requireDescription`)",
    PolicyRequireLabels = "policy::require_labels": "a destination or segment has no `name:` label and the policy requires one (`requireLabels`)",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a diagnostic is. Only errors make a file invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A labelled place in a source file. The first label of a diagnostic is its primary one.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: CharSpan,
    pub text: Option<String>,
}

/// A resolved position for machine-readable output: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// One problem found in a plan (or with a path), with everything every renderer needs.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The file (or directory) the problem is about.
    pub path: Arc<str>,
    /// The file's text, when it could be read.
    pub source: Option<SourceFile>,
    /// Labelled spans in `source`; the first is primary.
    pub labels: Vec<Label>,
    /// JSON pointer of the offending node, e.g. `/destinations/0/segments/3`.
    pub pointer: Option<String>,
    /// Diagnostics in other files that explain this one (the first plan of a duplicate name).
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// An error about a file or path, without a position.
    pub fn error(code: Code, path: impl Into<Arc<str>>, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            help: None,
            path: path.into(),
            source: None,
            labels: Vec::new(),
            pointer: None,
            related: Vec::new(),
        }
    }

    /// An error at a place in a source file.
    pub fn at(code: Code, source: &SourceFile, span: CharSpan, message: impl Into<String>) -> Self {
        let mut diag = Self::error(code, source.name(), message);
        diag.source = Some(source.clone());
        diag.labels.push(Label { span, text: None });
        diag
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// Sets the text of the primary label.
    pub fn with_label_text(mut self, text: impl Into<String>) -> Self {
        if let Some(label) = self.labels.first_mut() {
            label.text = Some(text.into());
        }
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: CharSpan, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: Some(text.into()),
        });
        self
    }

    pub fn with_related(mut self, related: Diagnostic) -> Self {
        self.related.push(related);
        self
    }

    /// The primary label's position, when the diagnostic has one.
    pub fn position(&self) -> Option<Position> {
        let source = self.source.as_ref()?;
        let label = self.labels.first()?;
        let span = source.label_span(label.span);
        let (line, column) = source.line_col(span.offset());
        let (end_line, end_column) = source.line_col(span.offset() + span.len());
        Some(Position {
            line,
            column,
            end_line,
            end_column,
        })
    }

    /// The byte offset used to sort diagnostics within a file.
    pub fn sort_key(&self) -> (usize, Code) {
        let offset = match (&self.source, self.labels.first()) {
            (Some(source), Some(label)) => source.byte_of_char(label.span.start),
            _ => 0,
        };
        (offset, self.code)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let source = self.source.as_ref()?;
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, label)| {
                let span = source.label_span(label.span);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(label.text.clone(), span)
                } else {
                    LabeledSpan::new_with_span(label.text.clone(), span)
                }
            },
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} is listed twice");
        }
    }

    #[test]
    fn code_list_is_stable() {
        let list: String = Code::ALL
            .iter()
            .map(|c| format!("{:<34} {}\n", c.as_str(), c.description()))
            .collect();
        insta::assert_snapshot!(list);
    }
}
