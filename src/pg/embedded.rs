//! strata's embedded PostgreSQL: a local cluster under `.strata/` in the project, reached
//! through a Unix socket, used as the default target and the default shadow server.
//!
//! A cluster that a command started because it needed one (not `strata db start`) stops
//! itself once idle: the command arms an idle stop (`<base>/idle-stop`) and starts a watcher
//! process that stops the server after that long without a client or a command using it
//! (`<base>/last-used`). Every project's cluster is recorded in the user's state directory
//! ([`registered`]) so that `strata db status --all` can list them.
//!
//! PostgreSQL refuses to run as root. When strata runs as root, it runs initdb, pg_ctl and
//! the server as the `postgres` system user and gives that user the cluster directory.

use super::{ConnInfo, PgError};
use nix::unistd::{Gid, Uid, User};
use sha2::{Digest, Sha256};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

/// How long a cluster a command started implicitly may stay idle before it stops itself.
pub const DEFAULT_IDLE_STOP: Duration = Duration::from_secs(5 * 60);

/// Superuser created by initdb and used for every connection to the cluster. Not `strata`:
/// with `search_path = "$user", public`, objects a person creates with psql would land in
/// strata's own schema, which strata never reads.
pub const SUPERUSER: &str = "postgres";
/// The database the embedded target works in.
pub const DEV_DATABASE: &str = "dev";
/// Unix socket paths are limited to 107 bytes; leave room for `/.s.PGSQL.NNNNN`.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// Names the directory of the server programs to use (the version matrix sets it per major).
pub const BINDIR_ENV: &str = "STRATA_PG_BINDIR";
const SERVER_PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// PostgreSQL programs, all from one installation.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    /// Finds a directory holding initdb, pg_ctl and postgres: `STRATA_PG_BINDIR` (only that
    /// one when set), else PATH, `pg_config --bindir`, then /usr/lib/postgresql/<newest>/bin.
    pub fn locate() -> Result<Binaries, PgError> {
        if let Some(dir) = std::env::var_os(BINDIR_ENV).filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            return match SERVER_PROGRAMS
                .iter()
                .find(|b| !is_executable(&dir.join(b)))
            {
                None => Ok(Binaries { dir }),
                Some(missing) => Err(PgError::Embedded(format!(
                    "{BINDIR_ENV}={}: no executable {missing} there",
                    dir.display()
                ))),
            };
        }
        let candidates = path_dirs()
            .chain(pg_config_bindir())
            .chain(debian_bindirs());
        for dir in candidates {
            if SERVER_PROGRAMS.iter().all(|b| is_executable(&dir.join(b))) {
                // Resolve symlinks (Debian links /usr/local/bin/initdb into the real bindir) so
                // sibling programs such as pg_dump come from the same installation.
                let dir = std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir);
                return Ok(Binaries { dir });
            }
        }
        Err(PgError::BinariesMissing)
    }

    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn path_dirs() -> impl Iterator<Item = PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
}

fn pg_config_bindir() -> Option<PathBuf> {
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn debian_bindirs() -> impl Iterator<Item = PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    dirs.into_iter().map(|(_, d)| d)
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The unprivileged user the server runs as when strata itself runs as root.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
}

impl RunAs {
    /// `None` when strata is not root: then everything runs as the current user.
    pub fn needed() -> Result<Option<RunAs>, PgError> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        match User::from_name("postgres") {
            Ok(Some(user)) => Ok(Some(RunAs {
                name: user.name,
                uid: user.uid,
                gid: user.gid,
            })),
            _ => Err(PgError::NoUnprivilegedUser),
        }
    }

    /// Whether this user can traverse every directory down to `path`.
    fn can_reach(&self, path: &Path) -> bool {
        path.ancestors().skip(1).all(|dir| {
            let Ok(meta) = std::fs::metadata(dir) else {
                return true; // not created yet: strata creates it with open permissions
            };
            let mode = meta.mode();
            if meta.uid() == self.uid.as_raw() {
                mode & 0o100 != 0
            } else if meta.gid() == self.gid.as_raw() {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    }
}

/// A cluster's files: `<base>/cluster.json` (settings strata reads back), `<base>/cluster/`
/// (owned by the server's user: `data/`, the log, the socket).
#[derive(Debug, Clone)]
pub struct Cluster {
    base: PathBuf,
    /// The project it belongs to (`None` for a cluster made with [`Cluster::at`]).
    project: Option<PathBuf>,
    bins: Binaries,
    run_as: Option<RunAs>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Settings {
    port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterState {
    NotInitialised,
    Stopped,
    Running,
}

impl Cluster {
    /// The project's cluster: `<project>/.strata`, or a directory under the system's temp
    /// dir named after the project when the socket path would be too long or the server's
    /// user cannot reach the project (a root-owned home directory, say).
    pub fn for_project(project: &Path) -> Result<Cluster, PgError> {
        let project = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
        let preferred = project.join(".strata");
        let run_as = RunAs::needed()?;
        let reachable = run_as
            .as_ref()
            .is_none_or(|r| r.can_reach(&preferred.join("cluster")));
        let short_enough = preferred.join("cluster").as_os_str().len() <= MAX_SOCKET_DIR_LEN;
        let base = if reachable && short_enough {
            preferred
        } else {
            let digest = Sha256::digest(project.as_os_str().as_encoded_bytes());
            std::env::temp_dir().join(format!("strata-{}", &hex::encode(digest)[..12]))
        };
        Ok(Cluster {
            project: Some(project),
            ..Cluster::at(base)?
        })
    }

    /// A cluster whose files live in `base` (tests use a temp dir).
    pub fn at(base: PathBuf) -> Result<Cluster, PgError> {
        Ok(Cluster {
            base,
            project: None,
            bins: Binaries::locate()?,
            run_as: RunAs::needed()?,
        })
    }

    pub fn base(&self) -> &Path {
        &self.base
    }

    pub fn binaries(&self) -> &Binaries {
        &self.bins
    }

    fn cluster_dir(&self) -> PathBuf {
        self.base.join("cluster")
    }

    fn data_dir(&self) -> PathBuf {
        self.cluster_dir().join("data")
    }

    pub fn log_file(&self) -> PathBuf {
        self.cluster_dir().join("postgres.log")
    }

    fn settings_file(&self) -> PathBuf {
        self.base.join("cluster.json")
    }

    fn settings(&self) -> Result<Settings, PgError> {
        let text =
            std::fs::read_to_string(self.settings_file()).map_err(|_| PgError::NotInitialised {
                base: self.base.clone(),
            })?;
        serde_json::from_str(&text).map_err(|e| {
            PgError::Embedded(format!(
                "{} is damaged ({e}); remove {} and start again",
                self.settings_file().display(),
                self.base.display()
            ))
        })
    }

    pub fn state(&self) -> Result<ClusterState, PgError> {
        if !self.data_dir().join("PG_VERSION").exists() || !self.settings_file().exists() {
            return Ok(ClusterState::NotInitialised);
        }
        let out = self.run_pg_ctl(&["status"])?;
        Ok(if out.status.success() {
            ClusterState::Running
        } else {
            ClusterState::Stopped
        })
    }

    /// Creates the cluster if needed and starts it; harmless when it already runs.
    /// Returns whether this call started it.
    pub fn start(&self) -> Result<bool, PgError> {
        match self.state()? {
            ClusterState::Running => return Ok(false),
            ClusterState::NotInitialised => self.init()?,
            ClusterState::Stopped => {}
        }
        let log = self.log_file();
        let out = self.run_pg_ctl(&["-w", "-t", "60", "-l", path_str(&log), "start"])?;
        if !out.status.success() {
            return Err(PgError::Embedded(format!(
                "the embedded PostgreSQL did not start: {}\n--- last lines of {} ---\n{}",
                String::from_utf8_lossy(&out.stderr).trim(),
                log.display(),
                tail(&log, 15)
            )));
        }
        self.ensure_dev_database()?;
        // A new server: whoever started it decides whether it stops itself.
        self.disarm_idle_stop();
        self.register();
        Ok(true)
    }

    /// Stops the cluster if it runs; returns whether it was running.
    pub fn stop(&self) -> Result<bool, PgError> {
        self.disarm_idle_stop();
        if self.state()? != ClusterState::Running {
            return Ok(false);
        }
        let out = self.run_pg_ctl(&["-w", "-t", "60", "-m", "fast", "stop"])?;
        if !out.status.success() {
            return Err(PgError::Embedded(format!(
                "pg_ctl stop failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(true)
    }

    /// Makes the running cluster stop itself after `idle` without use (see the module docs;
    /// the caller starts the watcher). `idle` is kept in `<base>/idle-stop`.
    pub fn arm_idle_stop(&self, idle: Duration) -> Result<(), PgError> {
        self.touch();
        let path = self.idle_stop_file();
        std::fs::write(&path, idle.as_millis().to_string()).map_err(|e| self.io_error(&path, e))
    }

    /// Keeps the cluster running for good; returns whether an idle stop was armed.
    pub fn disarm_idle_stop(&self) -> bool {
        std::fs::remove_file(self.idle_stop_file()).is_ok()
    }

    /// The armed idle stop, if any.
    pub fn idle_stop(&self) -> Option<Duration> {
        let text = std::fs::read_to_string(self.idle_stop_file()).ok()?;
        text.trim().parse().ok().map(Duration::from_millis)
    }

    /// Marks the cluster used now: its idle time starts over.
    pub fn touch(&self) {
        let _ = std::fs::write(self.base.join("last-used"), b"");
    }

    /// Marks the cluster in use for as long as this process lives (a shared lock on
    /// `<base>/in-use`, released by the kernel when the process ends), so that the idle
    /// watcher never stops it between two of a command's connections. Waits while the
    /// watcher is stopping it. Returns false when the cluster's directory does not exist yet.
    pub fn hold_in_use(&self) -> bool {
        use nix::fcntl::{Flock, FlockArg};
        let Ok(file) = std::fs::File::create(self.base.join("in-use")) else {
            return false;
        };
        match Flock::lock(file, FlockArg::LockShared) {
            Ok(lock) => {
                std::mem::forget(lock);
                true
            }
            Err(_) => false,
        }
    }

    /// The exclusive lock on `<base>/in-use` when no process holds the cluster in use
    /// ([`Cluster::hold_in_use`]); while the watcher holds it, no command starts using it.
    pub fn idle_lock(&self) -> Option<impl Drop> {
        use nix::fcntl::{Flock, FlockArg};
        let file = std::fs::File::create(self.base.join("in-use")).ok()?;
        Flock::lock(file, FlockArg::LockExclusiveNonblock).ok()
    }

    /// Time since the cluster was last marked used.
    pub fn idle_for(&self) -> Duration {
        std::fs::metadata(self.base.join("last-used"))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or(Duration::MAX)
    }

    /// The running server's process id (`data/postmaster.pid`), if it runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Client connections other than the caller's own.
    pub async fn client_count(&self) -> Result<i64, PgError> {
        let client = self.conninfo("postgres")?.connect().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .map_err(PgError::query("counting the embedded cluster's clients"))?;
        Ok(row.get(0))
    }

    fn idle_stop_file(&self) -> PathBuf {
        self.base.join("idle-stop")
    }

    /// Records this project's cluster in the user's registry (best effort).
    fn register(&self) {
        let (Some(dir), Some(project)) = (registry_dir(), &self.project) else {
            return;
        };
        let entry = serde_json::json!({ "base": self.base, "project": project });
        let _ = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join(registry_name(&self.base)), entry.to_string()));
    }

    /// Stops at once, for throwaway clusters.
    pub fn stop_immediately(&self) {
        let _ = self.run_pg_ctl(&["-w", "-t", "30", "-m", "immediate", "stop"]);
    }

    /// Connection parameters for a database of this cluster (the socket is all it listens on).
    pub fn conninfo(&self, dbname: &str) -> Result<ConnInfo, PgError> {
        ConnInfo::parse_with_env(&self.url(dbname)?, |_| None)
    }

    pub fn url(&self, dbname: &str) -> Result<String, PgError> {
        let port = self.settings()?.port;
        let cluster_dir = self.cluster_dir();
        let socket_dir = percent_encoding::utf8_percent_encode(
            path_str(&cluster_dir),
            percent_encoding::NON_ALPHANUMERIC,
        );
        Ok(format!(
            "postgresql://{SUPERUSER}@{socket_dir}:{port}/{dbname}?sslmode=disable"
        ))
    }

    fn init(&self) -> Result<(), PgError> {
        let cluster_dir = self.cluster_dir();
        for dir in self.base.ancestors().collect::<Vec<_>>().into_iter().rev() {
            if !dir.exists() {
                std::fs::create_dir(dir).map_err(|e| self.io_error(dir, e))?;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| self.io_error(dir, e))?;
            }
        }
        if cluster_dir.exists() {
            // A half-made cluster from an interrupted init: start over.
            std::fs::remove_dir_all(&cluster_dir).map_err(|e| self.io_error(&cluster_dir, e))?;
        }
        std::fs::create_dir(&cluster_dir).map_err(|e| self.io_error(&cluster_dir, e))?;
        std::fs::set_permissions(&cluster_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| self.io_error(&cluster_dir, e))?;
        if let Some(user) = &self.run_as {
            nix::unistd::chown(&cluster_dir, Some(user.uid), Some(user.gid))
                .map_err(|e| self.io_error(&cluster_dir, e.into()))?;
        }
        let data = self.data_dir();
        let out = self.run(
            &self.bins.program("initdb"),
            &[
                "-D",
                path_str(&data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )?;
        if !out.status.success() {
            return Err(PgError::Embedded(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let port = free_port()?;
        let conf = format!(
            "\n# strata embedded cluster: local, socket only, no durability needed\n\
             listen_addresses = ''\n\
             port = {port}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             max_connections = 200\n\
             max_locks_per_transaction = 1024\n\
             shared_buffers = 128MB\n\
             log_min_messages = warning\n\
             log_line_prefix = '%m [%p] %d '\n",
            path_str(&cluster_dir).replace('\'', "''")
        );
        let conf_path = data.join("postgresql.conf");
        let mut existing =
            std::fs::read_to_string(&conf_path).map_err(|e| self.io_error(&conf_path, e))?;
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing).map_err(|e| self.io_error(&conf_path, e))?;
        let settings = serde_json::to_string_pretty(&Settings { port }).expect("serialisable");
        std::fs::write(self.settings_file(), settings)
            .map_err(|e| self.io_error(&self.settings_file(), e))?;
        Ok(())
    }

    fn ensure_dev_database(&self) -> Result<(), PgError> {
        let psql = self.bins.program("psql");
        let psql = if is_executable(&psql) {
            psql
        } else {
            PathBuf::from("psql")
        };
        let url = self.url("postgres")?;
        let exists = Command::new(&psql)
            .args([url.as_str(), "-XAtqc"])
            .arg(format!(
                "SELECT 1 FROM pg_database WHERE datname = '{DEV_DATABASE}'"
            ))
            .output()
            .map_err(|e| PgError::Embedded(format!("cannot run psql: {e}")))?;
        if String::from_utf8_lossy(&exists.stdout).trim() == "1" {
            return Ok(());
        }
        let out = Command::new(&psql)
            .args([url.as_str(), "-XAtqc"])
            .arg(format!("CREATE DATABASE {DEV_DATABASE}"))
            .output()
            .map_err(|e| PgError::Embedded(format!("cannot run psql: {e}")))?;
        if !out.status.success() {
            return Err(PgError::Embedded(format!(
                "cannot create database {DEV_DATABASE}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    fn run_pg_ctl(&self, args: &[&str]) -> Result<Output, PgError> {
        let data = self.data_dir();
        let mut full = vec!["-D", path_str(&data)];
        full.extend_from_slice(args);
        self.run(&self.bins.program("pg_ctl"), &full)
    }

    /// Runs a PostgreSQL program, as the unprivileged user when strata is root.
    fn run(&self, program: &Path, args: &[&str]) -> Result<Output, PgError> {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .current_dir(self.cluster_dir().parent().unwrap_or(Path::new("/")))
            // The server inherits these; a caller's PG* settings must not steer it.
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw())
                .gid(user.gid.as_raw())
                .env("HOME", "/tmp")
                .env("USER", &user.name);
        }
        // pg_ctl start leaves the server holding inherited pipes; give it files instead.
        let out_file = tempfile::tempfile().map_err(|e| PgError::Embedded(e.to_string()))?;
        let err_file = tempfile::tempfile().map_err(|e| PgError::Embedded(e.to_string()))?;
        let status = cmd
            .stdout(
                out_file
                    .try_clone()
                    .map_err(|e| PgError::Embedded(e.to_string()))?,
            )
            .stderr(
                err_file
                    .try_clone()
                    .map_err(|e| PgError::Embedded(e.to_string()))?,
            )
            .status()
            .map_err(|e| PgError::Embedded(format!("cannot run {}: {e}", program.display())))?;
        Ok(Output {
            status,
            stdout: read_all(out_file),
            stderr: read_all(err_file),
        })
    }

    fn io_error(&self, path: &Path, e: std::io::Error) -> PgError {
        PgError::Embedded(format!("{}: {e}", path.display()))
    }
}

/// Where the clusters of this user are recorded: `$XDG_STATE_HOME/strata/clusters`, else
/// `~/.local/state/strata/clusters`.
fn registry_dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("strata/clusters"))
}

fn registry_name(base: &Path) -> String {
    let digest = Sha256::digest(base.as_os_str().as_encoded_bytes());
    format!("{}.json", &hex::encode(digest)[..16])
}

/// Every project cluster recorded in the registry whose files still exist, as
/// (cluster directory, project), sorted by project. Entries of removed clusters are dropped.
pub fn registered() -> Vec<(PathBuf, PathBuf)> {
    #[derive(serde::Deserialize)]
    struct Entry {
        base: PathBuf,
        project: PathBuf,
    }
    let Some(dir) = registry_dir() else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let entry: Entry = serde_json::from_str(&text).ok()?;
            if entry.base.join("cluster.json").exists() {
                Some((entry.base, entry.project))
            } else {
                let _ = std::fs::remove_file(e.path());
                None
            }
        })
        .collect();
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

fn read_all(mut file: std::fs::File) -> Vec<u8> {
    use std::io::{Read, Seek};
    let mut buf = Vec::new();
    let _ = file.seek(std::io::SeekFrom::Start(0));
    let _ = file.read_to_end(&mut buf);
    buf
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("strata paths are UTF-8")
}

fn free_port() -> Result<u16, PgError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| PgError::Embedded(format!("no free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PgError::Embedded(e.to_string()))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
