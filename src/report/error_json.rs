//! An error as JSON (`--format json`): code, message, help and location, from the error's
//! miette diagnostic (docs/output.md).

use miette::Diagnostic;
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ErrorJson {
    /// The diagnostic code (`strata::config::unknown_key`), or one per exit code when the
    /// error has none: `strata::bad_input` (1), `strata::failed` (2).
    pub code: String,
    pub message: String,
    /// What to do next, when the error says.
    pub help: Option<String>,
    /// Where in a file (the manifest, an SQL file) the error is, when it has a place.
    pub location: Option<Location>,
    /// The errors underneath, outermost first.
    pub causes: Vec<String>,
    pub exit_code: u8,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
    /// What the label at that place says, when it says something.
    pub label: Option<String>,
}

/// `error` with the exit code the command ends with (`app::error` decides it).
pub fn render(error: &dyn Diagnostic, exit_code: u8) -> ErrorJson {
    let diagnostic: &dyn Diagnostic = error;
    let code = code_of(diagnostic).unwrap_or_else(|| {
        match exit_code {
            1 => "strata::bad_input",
            130 => "strata::interrupted",
            _ => "strata::failed",
        }
        .to_string()
    });
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) && text != error.to_string() {
            causes.push(text);
        }
        source = cause.source();
    }
    ErrorJson {
        code,
        message: error.to_string(),
        help: help_of(diagnostic),
        location: location_of(diagnostic),
        causes,
        exit_code,
    }
}

/// The code of the diagnostic, or of the first one underneath that has one.
fn code_of(diagnostic: &dyn Diagnostic) -> Option<String> {
    if let Some(code) = diagnostic.code() {
        return Some(code.to_string());
    }
    diagnostic.diagnostic_source().and_then(code_of)
}

fn help_of(diagnostic: &dyn Diagnostic) -> Option<String> {
    if let Some(help) = diagnostic.help() {
        return Some(help.to_string());
    }
    diagnostic.diagnostic_source().and_then(help_of)
}

fn location_of(diagnostic: &dyn Diagnostic) -> Option<Location> {
    if let (Some(source), Some(mut labels)) = (diagnostic.source_code(), diagnostic.labels()) {
        if let Some(label) = labels.next() {
            if let Ok(contents) = source.read_span(label.inner(), 0, 0) {
                return Some(Location {
                    file: contents.name().unwrap_or_default().to_string(),
                    line: contents.line() + 1,
                    column: contents.column() + 1,
                    label: label.label().map(str::to_string),
                });
            }
        }
    }
    diagnostic.diagnostic_source().and_then(location_of)
}
