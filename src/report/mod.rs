//! Output for people and machines. Only this module writes to stdout/stderr; commands get a
//! `Reporter` so tests can capture what they say.

pub mod error_json;
pub mod stream;

use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// What `--format` accepts. `github` (Actions annotations) and `sarif` (SARIF 2.1.0) are
/// `strata lint`'s; `github-matrix` and `gitlab` are `strata targets`' and `markdown` the
/// fleet summary's (docs/fleet.md); every other command refuses them (docs/output.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    Github,
    Sarif,
    GithubMatrix,
    Gitlab,
    Markdown,
}

impl From<OutputFormat> for Format {
    fn from(format: OutputFormat) -> Format {
        match format {
            OutputFormat::Json => Format::Json,
            OutputFormat::Text
            | OutputFormat::Github
            | OutputFormat::Sarif
            | OutputFormat::GithubMatrix
            | OutputFormat::Gitlab
            | OutputFormat::Markdown => Format::Text,
        }
    }
}

/// The version of the JSON every command prints under `--format json` (docs/output.md): the
/// `strata_output` key of each object. Raised when a key changes meaning or goes away.
pub const OUTPUT_VERSION: u32 = 1;

pub struct Reporter {
    pub format: Format,
    /// The command's name in JSON output (`"migrate up"`).
    command: String,
    out: Mutex<Box<dyn Write + Send>>,
    err: Mutex<Box<dyn Write + Send>>,
    interactive: bool,
    /// Whether the command's JSON object was printed (one per command).
    printed_json: AtomicBool,
}

impl Reporter {
    pub fn stdio(format: impl Into<Format>) -> Reporter {
        let format = format.into();
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Reporter {
            format,
            command: String::new(),
            out: Mutex::new(Box::new(std::io::stdout())),
            err: Mutex::new(Box::new(std::io::stderr())),
            interactive,
            printed_json: AtomicBool::new(false),
        }
    }

    /// Names the command in the JSON it prints.
    pub fn for_command(mut self, command: impl Into<String>) -> Reporter {
        self.command = command.into();
        self
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// Whether a long step may draw a bar (a terminal, not CI).
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// A reporter writing into the given sinks (tests).
    pub fn capture(
        format: Format,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
    ) -> Reporter {
        Reporter {
            format,
            command: String::new(),
            out: Mutex::new(out),
            err: Mutex::new(err),
            interactive: false,
            printed_json: AtomicBool::new(false),
        }
    }

    /// The command's result, on stdout. A closed pipe (`strata ... | head`) is not an error.
    /// Under `--format json` stdout holds the JSON object only: text goes to stderr.
    pub fn result(&self, text: &str) {
        if self.format == Format::Json {
            self.note(text.trim_end_matches('\n'));
            return;
        }
        self.write_out(text);
    }

    fn write_out(&self, text: &str) {
        let mut out = self.out.lock().unwrap();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') && !text.is_empty() {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    /// The command's result under `--format json`: one object, `{"strata_output": 1,
    /// "command": "...", ...}` with the value's keys (a value that is not an object goes under
    /// `"result"`).
    pub fn json<T: Serialize>(&self, value: &T) {
        let value = serde_json::to_value(value).expect("serialisable output");
        let mut object = serde_json::Map::new();
        object.insert("strata_output".into(), OUTPUT_VERSION.into());
        object.insert("command".into(), self.command.clone().into());
        match value {
            serde_json::Value::Object(fields) => object.extend(fields),
            other => {
                object.insert("result".into(), other);
            }
        }
        self.raw_json(&serde_json::Value::Object(object));
    }

    /// [`Reporter::json`] for a result too big to hold as one `serde_json::Value`: its
    /// members are written piece by piece, the bytes those of `json` for the same data.
    pub fn json_pieces(&self, members: Vec<(String, stream::Piece<'_>)>) {
        let mut object = vec![
            (
                "strata_output".to_string(),
                stream::Piece::Whole(OUTPUT_VERSION.into()),
            ),
            (
                "command".to_string(),
                stream::Piece::Whole(self.command.clone().into()),
            ),
        ];
        object.extend(members);
        self.printed_json.store(true, Ordering::Relaxed);
        let mut out = self.out.lock().unwrap();
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
        // A closed pipe (`strata ... | head`) is not an error, as for `write_out`.
        let _ = stream::write(&mut buffered, stream::Piece::Object(object), 0)
            .and_then(|()| buffered.write_all(b"\n"))
            .and_then(|()| buffered.flush());
    }

    /// A document of another format's own (SARIF), unwrapped.
    pub fn raw_json<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("serialisable output");
        self.printed_json.store(true, Ordering::Relaxed);
        self.write_out(&text);
    }

    /// Under `--format json`, a command that printed no object of its own says at least that
    /// it ran and how it ended.
    pub fn finish_json(&self, exit_code: u8) {
        if self.format == Format::Json && !self.printed_json.load(Ordering::Relaxed) {
            self.json(&serde_json::json!({ "exit_code": exit_code }));
        }
    }

    /// An error under `--format json`: the one object on stdout (docs/output.md).
    pub fn error_json(&self, error: &dyn miette::Diagnostic, exit_code: u8) {
        if self.format != Format::Json || self.printed_json.load(Ordering::Relaxed) {
            // The result was printed before the failure; a second object would break readers.
            return;
        }
        self.json(&serde_json::json!({ "error": error_json::render(error, exit_code) }));
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
    pub fn progress(&self, message: &str) -> Progress<'_> {
        if self.interactive {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(message.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            Progress::Spinner(bar)
        } else {
            self.note(&format!("{message}..."));
            Progress::Line {
                reporter: self,
                message: message.to_string(),
                started: Instant::now(),
            }
        }
    }
}

/// A spinner on a terminal; otherwise (CI, logs) a plain line when the work starts and one
/// with the time it took when it ends.
pub enum Progress<'a> {
    Spinner(indicatif::ProgressBar),
    Line {
        reporter: &'a Reporter,
        message: String,
        started: Instant,
    },
}

impl Progress<'_> {
    pub fn set_message(&self, message: &str) {
        if let Progress::Spinner(bar) = self {
            bar.set_message(message.to_string());
        }
    }
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        match self {
            Progress::Spinner(bar) => bar.finish_and_clear(),
            Progress::Line {
                reporter,
                message,
                started,
            } => reporter.note(&format!("{message}: {}", duration_text(started.elapsed()))),
        }
    }
}

/// A duration for people: `340 ms`, `12.4 s`, `3 min 05 s`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=119_999 => format!("{:.1} s", d.as_secs_f64()),
        _ => format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60),
    }
}

/// How far a long step is, as a heartbeat shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Advance {
    /// Units done and the (estimated) total, when known: rows, blocks.
    pub done: Option<u64>,
    pub total: Option<u64>,
    /// What is counted (`rows`, `blocks`).
    pub unit: &'static str,
    /// What it is doing (`building index: scanning table`, `waiting for a lock`).
    pub phase: Option<String>,
}

impl Advance {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (self.done, self.total) {
            (Some(done), Some(total)) if total > 0 => parts.push(format!(
                "{done} of ~{total} {} ({}%)",
                self.unit,
                (done.min(total) * 100) / total
            )),
            (Some(done), _) => parts.push(format!("{done} {}", self.unit)),
            _ => {}
        }
        if let Some(phase) = &self.phase {
            parts.push(phase.clone());
        }
        parts.join(", ")
    }
}

/// How often a long step says it is still under way: every 10 s in a log (CI), every
/// 200 ms on a terminal's bar; `STRATA_PROGRESS_EVERY` (e.g. `1s`) overrides either.
fn heartbeat_every(interactive: bool) -> Duration {
    std::env::var("STRATA_PROGRESS_EVERY")
        .ok()
        .and_then(|v| crate::config::duration::parse(&v).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(if interactive {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(10)
        })
}

impl Reporter {
    /// Runs `work`, showing how far it is while it lasts: on a terminal a bar (or a spinner
    /// when there is no total), in a log a line `still running: LABEL (N s; ...)` at every
    /// heartbeat. `probe` says how far it is; `label` what runs now (it may change).
    pub async fn with_heartbeat<T>(
        &self,
        label: &dyn Fn() -> String,
        mut probe: impl AsyncFnMut() -> Advance,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        let every = heartbeat_every(self.interactive);
        let start = std::time::Instant::now();
        let mut bar: Option<indicatif::ProgressBar> = None;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => {
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                    return out;
                }
                _ = ticker.tick() => {
                    let advance = probe().await;
                    let elapsed = start.elapsed().as_secs();
                    if self.interactive {
                        let bar = bar.get_or_insert_with(|| new_bar(advance.total));
                        if let Some(total) = advance.total {
                            bar.set_length(total);
                        }
                        if let Some(done) = advance.done {
                            bar.set_position(done);
                        }
                        bar.set_message(format!("{} {}", label(), advance.phase.clone().unwrap_or_default()));
                    } else {
                        let how_far = advance.describe();
                        self.note(&format!(
                            "still running: {} ({elapsed} s{}{how_far})",
                            label(),
                            if how_far.is_empty() { "" } else { "; " }
                        ));
                    }
                }
            }
        }
    }
}

fn new_bar(total: Option<u64>) -> indicatif::ProgressBar {
    let bar = match total {
        Some(total) => indicatif::ProgressBar::new(total).with_style(
            indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {percent:>3}% {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        ),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink the test reads back after the reporter wrote into it.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn progress_off_a_terminal_prints_a_line_at_the_start_and_one_with_the_time_at_the_end() {
        let err = Sink::default();
        let reporter = Reporter::capture(
            Format::Text,
            Box::new(Sink::default()),
            Box::new(err.clone()),
        );
        {
            let _progress = reporter.progress("loading schema/");
            assert_eq!(
                String::from_utf8(err.0.lock().unwrap().clone()).unwrap(),
                "loading schema/...\n"
            );
        }
        let text = String::from_utf8(err.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let took = lines[1].strip_prefix("loading schema/: ").expect(lines[1]);
        assert!(took.ends_with(" ms") || took.ends_with(" s"), "{took}");
    }
}
