//! Output for people and machines. Only this module writes to stdout/stderr; commands get a
//! `Reporter` so tests can capture what they say.

use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// What `--format` accepts. `github` (Actions annotations) and `sarif` (SARIF 2.1.0) are
/// `strata lint`'s; for every other command they mean text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    Github,
    Sarif,
}

impl From<OutputFormat> for Format {
    fn from(format: OutputFormat) -> Format {
        match format {
            OutputFormat::Json => Format::Json,
            OutputFormat::Text | OutputFormat::Github | OutputFormat::Sarif => Format::Text,
        }
    }
}

pub struct Reporter {
    pub format: Format,
    out: Mutex<Box<dyn Write + Send>>,
    err: Mutex<Box<dyn Write + Send>>,
    interactive: bool,
}

impl Reporter {
    pub fn stdio(format: impl Into<Format>) -> Reporter {
        let format = format.into();
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Reporter {
            format,
            out: Mutex::new(Box::new(std::io::stdout())),
            err: Mutex::new(Box::new(std::io::stderr())),
            interactive,
        }
    }

    /// A reporter writing into the given sinks (tests).
    pub fn capture(
        format: Format,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
    ) -> Reporter {
        Reporter {
            format,
            out: Mutex::new(out),
            err: Mutex::new(err),
            interactive: false,
        }
    }

    /// The command's result, on stdout. A closed pipe (`strata ... | head`) is not an error.
    pub fn result(&self, text: &str) {
        let mut out = self.out.lock().unwrap();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') && !text.is_empty() {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    pub fn json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("serialisable output");
        self.result(&text);
    }

    /// A line for the person watching, on stderr (kept out of machine output).
    pub fn note(&self, text: &str) {
        let mut err = self.err.lock().unwrap();
        let _ = writeln!(err, "{text}");
    }

    pub fn warn(&self, text: &str) {
        self.note(&format!("warning: {text}"));
    }

    /// Shows that long work is under way: a spinner on a terminal, one plain line otherwise.
    pub fn progress(&self, message: &str) -> Progress {
        if self.interactive {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(message.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            Progress { bar: Some(bar) }
        } else {
            self.note(&format!("{message}..."));
            Progress { bar: None }
        }
    }
}

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn set_message(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
