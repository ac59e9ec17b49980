//! libpq's connection conventions against a real server configured for each: TCP with
//! SCRAM passwords, TLS with a self-signed server certificate, client certificates
//! (`hostssl ... cert`), made with the `openssl` command in the test.

mod common;

use common::project::Project;
use common::TestDb;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use strata::pg::{ConnInfo, SslMode};

const PASSWORD: &str = "pw:with\\odd chars";

struct Server {
    port: u16,
    /// The server's own certificate: self-signed, a CA, for DNS name `localhost`.
    server_crt: PathBuf,
    client_crt: PathBuf,
    client_key: PathBuf,
    _certs: tempfile::TempDir,
}

static SERVER: OnceLock<Server> = OnceLock::new();

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the libpq tests need the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Certificates: the server's (self-signed, CA:TRUE, SAN localhost) and a client CA that
/// signs a certificate for role `certuser`.
fn make_certificates(dir: &Path) {
    let subject_alt = "subjectAltName=DNS:localhost";
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            "server.key",
            "-out",
            "server.crt",
            "-subj",
            "/CN=localhost",
            "-addext",
            subject_alt,
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            "client-ca.key",
            "-out",
            "client-ca.crt",
            "-subj",
            "/CN=strata test client CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "client.key",
            "-out",
            "client.csr",
            "-subj",
            "/CN=certuser",
        ],
    );
    // Extensions make it an X.509 v3 certificate; rustls (webpki) refuses v1 ones.
    std::fs::write(dir.join("client.ext"), "basicConstraints=CA:FALSE\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "client-ca.crt",
            "-CAkey",
            "client-ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "client.crt",
            "-extfile",
            "client.ext",
        ],
    );
    std::fs::set_permissions(
        dir.join("client.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

/// The test binary's cluster, reconfigured once: TCP on localhost, ssl=on, SCRAM passwords
/// and client-certificate authentication in pg_hba.conf.
fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        let db = TestDb::new();
        let data = PathBuf::from(db.psql("SHOW data_directory"));
        let port: u16 = db.psql("SHOW port").parse().unwrap();
        let certs = tempfile::tempdir().unwrap();
        make_certificates(certs.path());
        let owner = std::fs::metadata(&data).unwrap();
        for file in ["server.crt", "server.key", "client-ca.crt"] {
            let to = data.join(file);
            std::fs::copy(certs.path().join(file), &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
            use std::os::unix::fs::MetadataExt;
            std::os::unix::fs::chown(&to, Some(owner.uid()), Some(owner.gid())).unwrap();
        }
        let hba = data.join("pg_hba.conf");
        let old = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(
            &hba,
            format!(
                "hostssl all certuser localhost cert\n\
                 host all all localhost scram-sha-256\n{old}"
            ),
        )
        .unwrap();
        for setting in [
            "listen_addresses = 'localhost'",
            "ssl = on",
            "ssl_cert_file = 'server.crt'",
            "ssl_key_file = 'server.key'",
            "ssl_ca_file = 'client-ca.crt'",
            "password_encryption = 'scram-sha-256'",
        ] {
            db.psql(&format!("ALTER SYSTEM SET {setting}"));
        }
        common::crash_cluster();
        common::restart_cluster();
        let escaped = PASSWORD.replace('\'', "''");
        db.psql(&format!(
            "CREATE ROLE pwuser LOGIN PASSWORD '{escaped}'; CREATE ROLE certuser LOGIN"
        ));
        Server {
            port,
            server_crt: certs.path().join("server.crt"),
            client_crt: certs.path().join("client.crt"),
            client_key: certs.path().join("client.key"),
            _certs: certs,
        }
    })
}

fn env_of(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |k| map.get(k).cloned()
}

/// Connects and says who we are and whether the session is encrypted.
async fn whoami(info: &ConnInfo) -> Result<(String, bool), String> {
    let client = info.connect().await.map_err(|e| format!("{e:?}"))?;
    let row = client
        .query_one(
            "SELECT current_user::text, coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok((row.get(0), row.get(1)))
}

fn write_private(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn password_from_a_pgpass_file() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    write_private(
        &pgpass,
        &format!(
            "# strata test\nlocalhost:{}:postgres:someone:wrong\nlocalhost:{}:*:pwuser:{escaped}\n",
            s.port, s.port
        ),
        0o600,
    );
    let text = format!("host=localhost port={} user=pwuser dbname=postgres", s.port);
    let env = env_of(&[("PGPASSFILE", pgpass.display().to_string())]);
    let info = ConnInfo::parse_with_env(&text, env).unwrap();
    assert_eq!(whoami(&info).await.unwrap().0, "pwuser");
    assert!(!format!("{info} {info:?}").contains("odd chars"));

    // Readable by others: libpq ignores it (with a warning), so the server asks in vain.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = env_of(&[("PGPASSFILE", pgpass.display().to_string())]);
    let info = ConnInfo::parse_with_env(&text, env).unwrap();
    let err = whoami(&info).await.unwrap_err();
    assert!(err.contains("password"), "{err}");

    // ~/.pgpass when PGPASSFILE is not set.
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::copy(&pgpass, home.path().join(".pgpass")).unwrap();
    let env = env_of(&[("HOME", home.path().display().to_string())]);
    let info = ConnInfo::parse_with_env(&text, env).unwrap();
    assert_eq!(whoami(&info).await.unwrap().0, "pwuser");
}

#[tokio::test]
async fn a_service_file_supplies_what_the_string_leaves_out() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.conf");
    write_private(
        &file,
        &format!(
            "# services\n[other]\nhost=nowhere.invalid\n\n[app]\nhost=localhost\nport={}\nuser=pwuser\npassword={PASSWORD}\ndbname=postgres\nsslmode=require\n",
            s.port
        ),
        0o600,
    );
    let env = env_of(&[("PGSERVICEFILE", file.display().to_string())]);
    let info = ConnInfo::parse_with_env("service=app", &env).unwrap();
    assert_eq!(info.ssl_mode(), SslMode::Require);
    assert_eq!(whoami(&info).await.unwrap(), ("pwuser".to_string(), true));

    // PGSERVICE names it too; the string still wins over the service.
    let env = env_of(&[
        ("PGSERVICEFILE", file.display().to_string()),
        ("PGSERVICE", "app".to_string()),
    ]);
    let info = ConnInfo::parse_with_env("sslmode=disable", &env).unwrap();
    assert_eq!(whoami(&info).await.unwrap(), ("pwuser".to_string(), false));

    let err = ConnInfo::parse_with_env("service=missing", &env).unwrap_err();
    assert!(
        err.to_string().contains("service \"missing\" not found"),
        "{err}"
    );
}

#[tokio::test]
async fn verify_full_accepts_a_self_signed_server_certificate_given_as_root() {
    let s = server();
    let text = format!(
        "host=localhost port={} user=pwuser password='{}' dbname=postgres sslmode=verify-full sslrootcert={}",
        s.port,
        PASSWORD.replace('\\', "\\\\").replace('\'', "\\'"),
        s.server_crt.display()
    );
    let info = ConnInfo::parse_with_env(&text, |_| None).unwrap();
    assert_eq!(whoami(&info).await.unwrap(), ("pwuser".to_string(), true));

    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca accepts.
    let by_ip = text.replace("host=localhost", "host=127.0.0.1");
    let info = ConnInfo::parse_with_env(&by_ip, |_| None).unwrap();
    let err = whoami(&info).await.unwrap_err();
    assert!(
        err.contains("NotValidForName") || err.contains("name"),
        "{err}"
    );
    let info =
        ConnInfo::parse_with_env(&by_ip.replace("verify-full", "verify-ca"), |_| None).unwrap();
    assert_eq!(whoami(&info).await.unwrap(), ("pwuser".to_string(), true));

    // Another CA's certificate does not verify this server.
    let wrong_root = text.replace(
        &s.server_crt.display().to_string(),
        &s.client_crt.display().to_string(),
    );
    let info = ConnInfo::parse_with_env(&wrong_root, |_| None).unwrap();
    assert!(whoami(&info).await.is_err());
}

#[tokio::test]
async fn client_certificate_authentication() {
    let s = server();
    let text = format!(
        "host=localhost port={} user=certuser dbname=postgres sslmode=verify-full sslrootcert={} sslcert={} sslkey={}",
        s.port,
        s.server_crt.display(),
        s.client_crt.display(),
        s.client_key.display()
    );
    let info = ConnInfo::parse_with_env(&text, |_| None).unwrap();
    assert_eq!(whoami(&info).await.unwrap(), ("certuser".to_string(), true));

    // Without the certificate the `cert` line refuses the role.
    let bare = format!(
        "host=localhost port={} user=certuser dbname=postgres sslmode=verify-full sslrootcert={}",
        s.port,
        s.server_crt.display()
    );
    let info = ConnInfo::parse_with_env(&bare, |_| None).unwrap();
    assert!(whoami(&info).await.is_err());

    // From ~/.postgresql, libpq's default place, through PGSSLMODE.
    let home = tempfile::tempdir().unwrap();
    let dot = home.path().join(".postgresql");
    std::fs::create_dir(&dot).unwrap();
    std::fs::copy(&s.server_crt, dot.join("root.crt")).unwrap();
    std::fs::copy(&s.client_crt, dot.join("postgresql.crt")).unwrap();
    std::fs::copy(&s.client_key, dot.join("postgresql.key")).unwrap();
    let env = env_of(&[
        ("HOME", home.path().display().to_string()),
        ("PGSSLMODE", "verify-full".to_string()),
    ]);
    let text = format!(
        "host=localhost port={} user=certuser dbname=postgres",
        s.port
    );
    let info = ConnInfo::parse_with_env(&text, env).unwrap();
    assert_eq!(whoami(&info).await.unwrap(), ("certuser".to_string(), true));

    // A key file others can read is refused, as libpq refuses it.
    std::fs::set_permissions(
        dot.join("postgresql.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let env = env_of(&[
        ("HOME", home.path().display().to_string()),
        ("PGSSLMODE", "verify-full".to_string()),
    ]);
    let info = ConnInfo::parse_with_env(&text, env).unwrap();
    let err = whoami(&info).await.unwrap_err();
    assert!(err.contains("group or world access"), "{err}");
}

#[tokio::test]
async fn several_hosts_and_target_session_attrs() {
    let s = server();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = format!(
        "host=127.0.0.1,localhost port={closed_port},{} user=pwuser password='{}' dbname=postgres sslmode=disable target_session_attrs=read-write",
        s.port,
        PASSWORD.replace('\\', "\\\\").replace('\'', "\\'"),
    );
    let info = ConnInfo::parse_with_env(&text, |_| None).unwrap();
    assert_eq!(whoami(&info).await.unwrap().0, "pwuser");
    // The only server is a primary: nothing is read-only.
    let info =
        ConnInfo::parse_with_env(&text.replace("read-write", "read-only"), |_| None).unwrap();
    assert!(whoami(&info).await.is_err());
}

#[test]
fn an_unknown_parameter_is_named_and_the_password_never_shown() {
    let p = Project::create(
        "strata-libpq-",
        "[shadow]\nurl = \"env:STRATA_TEST_SHADOW_URL\"\n\n[targets.test]\nurl = \"env:STRATA_TEST_TARGET_URL\"\n",
        "CREATE TABLE a (id int);\n",
    );
    let out = p
        .strata()
        .arg("status")
        .env(
            "STRATA_TEST_TARGET_URL",
            "postgresql://u:topsecret@localhost:1/db?sslcompresion=1",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("sslcompresion"), "{stderr}");
    assert!(!stderr.contains("topsecret"), "{stderr}");

    let out = p
        .strata()
        .arg("status")
        .env(
            "STRATA_TEST_TARGET_URL",
            "host=localhost password=topsecret sslmode=verify-ful",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("verify-ful"), "{stderr}");
    assert!(!stderr.contains("topsecret"), "{stderr}");
}
