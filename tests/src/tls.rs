//! A real TLS terminator (stunnel) in front of a plain collector port, and
//! the certificates it needs, made at test time: a CA, a server
//! certificate for `127.0.0.1` (valid, or expired), a client certificate
//! for mutual TLS, and a second CA that signed none of them.
//!
//! rotel's receivers speak no TLS, so a test starts rotel, then a
//! [`Terminator`] that accepts TLS on its own loopback port and forwards the
//! plain stream to rotel's gRPC or HTTP port, as a TLS-terminating proxy in
//! front of a production collector does.
//!
//! The `stunnel` binary comes from `STUNNEL`, else from the workspace's
//! `scripts/install-tls-terminator` (Debian's `stunnel4`); when neither works
//! the test fails, naming what was tried: it never skips.
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use eventlog_tests::tls::{Certs, ServerCert, Terminator};
//!
//! let certs = Certs::new();
//! assert!(std::fs::read_to_string(&certs.ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
//! let backend = TcpListener::bind("127.0.0.1:0").unwrap();
//! let tls = Terminator::start(&certs, backend.local_addr().unwrap().port(), ServerCert::Valid, false);
//! assert!(TcpStream::connect(("127.0.0.1", tls.port)).is_ok());
//! assert_eq!(tls.endpoint("/v1/logs"), format!("https://127.0.0.1:{}/v1/logs", tls.port));
//! ```

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The `stunnel` binary: `STUNNEL`, else installed by the workspace's
/// `scripts/install-tls-terminator`. Panics (never skips) if neither works.
pub fn stunnel() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("STUNNEL").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "STUNNEL={} is not a file: install it with scripts/install-tls-terminator",
                path.display()
            );
            return path;
        }
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-tls-terminator");
        let out = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("no TLS terminator: cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "no TLS terminator: {} failed ({}); the TLS tests need stunnel (apt-get install stunnel4)",
            script.display(),
            out.status
        );
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(
            path.is_file(),
            "install-tls-terminator printed {}, which is not a file",
            path.display()
        );
        path
    })
}

/// PEM files of a test PKI, in a temporary directory kept while this lives.
#[derive(Debug)]
pub struct Certs {
    dir: tempfile::TempDir,
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// A CA that signed nothing here: trusting it alone must fail.
    pub other_ca: PathBuf,
    /// The server's certificate for `127.0.0.1` and `localhost`, valid now.
    pub server_cert: PathBuf,
    /// Its key.
    pub server_key: PathBuf,
    /// A server certificate for the same names that expired in 2001.
    pub expired_cert: PathBuf,
    /// Its key.
    pub expired_key: PathBuf,
    /// A client certificate signed by `ca`, for mutual TLS.
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
}

fn ca(name: &str) -> (Issuer<'static, KeyPair>, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = params.self_signed(&key).unwrap().pem();
    (Issuer::new(params, key), pem)
}

fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    usage: ExtendedKeyUsagePurpose,
    expired: bool,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "eventlog test");
    params.extended_key_usages = vec![usage];
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Certs {
    /// Makes the CA, the certificates and their keys, and writes them.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, pem: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        let (issuer, ca_pem) = ca("eventlog test CA");
        let (_, other_pem) = ca("some other CA");
        let (server, server_key) = leaf(&issuer, ExtendedKeyUsagePurpose::ServerAuth, false);
        let (expired, expired_key) = leaf(&issuer, ExtendedKeyUsagePurpose::ServerAuth, true);
        let (client, client_key) = leaf(&issuer, ExtendedKeyUsagePurpose::ClientAuth, false);
        Certs {
            ca: write("ca.pem", &ca_pem),
            other_ca: write("other-ca.pem", &other_pem),
            server_cert: write("server.pem", &server),
            server_key: write("server.key", &server_key),
            expired_cert: write("expired.pem", &expired),
            expired_key: write("expired.key", &expired_key),
            client_cert: write("client.pem", &client),
            client_key: write("client.key", &client_key),
            dir,
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for Certs {
    fn default() -> Self {
        Self::new()
    }
}

/// Which certificate the terminator presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCert {
    /// Valid now, signed by [`Certs::ca`].
    Valid,
    /// Expired in 2001, signed by [`Certs::ca`].
    Expired,
}

/// A running stunnel accepting TLS on `port` and forwarding to a plain
/// loopback port; stopped when dropped.
#[derive(Debug)]
pub struct Terminator {
    /// The TLS port on 127.0.0.1.
    pub port: u16,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl Terminator {
    /// Starts stunnel in front of `127.0.0.1:backend_port` with the server
    /// certificate `server`; with `require_client_cert`, only clients
    /// presenting a certificate signed by [`Certs::ca`] get through.
    pub fn start(
        certs: &Certs,
        backend_port: u16,
        server: ServerCert,
        require_client_cert: bool,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("stunnel.log");
        let (cert, key) = match server {
            ServerCert::Valid => (&certs.server_cert, &certs.server_key),
            ServerCert::Expired => (&certs.expired_cert, &certs.expired_key),
        };
        let mut config = format!(
            "foreground = yes\npid =\ndebug = 5\noutput = {log}\n\n[otlp]\naccept = 127.0.0.1:{port}\n\
             connect = 127.0.0.1:{backend_port}\ncert = {cert}\nkey = {key}\n",
            log = log.display(),
            cert = cert.display(),
            key = key.display(),
        );
        if require_client_cert {
            use std::fmt::Write as _;
            let _ = write!(
                config,
                "CAfile = {}\nverifyChain = yes\nrequireCert = yes\n",
                certs.ca.display()
            );
        }
        let conf = dir.path().join("stunnel.conf");
        std::fs::write(&conf, config).unwrap();
        let mut child = Command::new(stunnel())
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", stunnel().display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "stunnel exited ({status}) before listening on {port}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "stunnel did not listen on {port} within 20 s: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Terminator {
            port,
            child,
            log,
            _dir: dir,
        }
    }

    /// `https://127.0.0.1:<port>` followed by `path` (`""` for gRPC,
    /// `/v1/logs` for HTTP).
    pub fn endpoint(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// What stunnel logged so far (handshake failures name their cause).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Terminator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
