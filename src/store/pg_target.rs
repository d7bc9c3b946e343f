//! Where a trust's PostgreSQL is and how to reach it: the `database_url`, its password filled
//! in as libpq would (`pgpass.rs`), and TLS when the URL says `sslmode=require`.
//!
//! With `sslmode=require` the connection is encrypted with rustls and the server's certificate
//! is always verified, against `sslrootcert` (libpq's own parameter: the PEM file of the CA
//! that signed the database server's certificate) or, without it, the public web's roots. That
//! is stricter than libpq, whose `require` alone checks nothing: a school's pupil activity and
//! staff password hashes cross the trust's network. Other modes connect without TLS.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, NoTls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A parsed `database_url`, ready to connect.
#[derive(Clone)]
pub struct Target {
    pub config: postgres::Config,
    /// `sslrootcert`: the CA certificate file the server's certificate must chain to.
    pub root_cert: Option<PathBuf>,
    tls: Option<MakeRustlsConnect>,
}

impl Target {
    /// Parses and checks the URL (both libpq spellings: `postgres://…?k=v&…` and `k=v k=v`);
    /// reads the CA file when TLS is asked for. Does not connect.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (rest, root_cert) = take_root_cert(url);
        let mut config: postgres::Config = rest.parse().map_err(|e: postgres::Error| e.to_string())?;
        // A URL without a password: PGPASSWORD or the password file, as libpq would.
        super::pgpass::fill_in(&mut config, &super::pgpass::Sources::from_env());
        let tls = match config.get_ssl_mode() {
            SslMode::Require => Some(MakeRustlsConnect::new(client_config(root_cert.as_ref())?)),
            _ if root_cert.is_some() => return Err("sslrootcert is given but sslmode is not require: add sslmode=require to use TLS".into()),
            _ => None,
        };
        Ok(Target { config, root_cert, tls })
    }

    /// Is the connection encrypted?
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// One connection (blocking: not on an async worker).
    pub fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }
}

/// The TLS settings: verify the server against `root_cert`, or the public web's roots.
fn client_config(root_cert: Option<&PathBuf>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(file) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
                .map_err(|e| {
                    format!("sslrootcert {}: cannot read it ({e}); give the PEM file of the CA that signed the database server's certificate", file.display())
                })?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("sslrootcert {}: not a PEM certificate ({e})", file.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("sslrootcert {}: no usable CA certificate in it", file.display()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
}

/// The URL without its `sslrootcert` (which the driver does not know), and that file.
fn take_root_cert(url: &str) -> (String, Option<PathBuf>) {
    let mut root_cert = None;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None) };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| match pair.split_once('=') {
                Some(("sslrootcert", value)) => {
                    // Percent-decoded as the driver decodes the URL's other values: a `+` is a `+`.
                    root_cert = Some(PathBuf::from(percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()));
                    false
                }
                _ => true,
            })
            .collect();
        let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        return (rest, root_cert);
    }
    // key=value form (values with spaces would be quoted; a path with spaces is not supported).
    let kept: Vec<&str> = url
        .split_whitespace()
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(value) => {
                root_cert = Some(PathBuf::from(value.trim_matches('\'')));
                false
            }
            None => true,
        })
        .collect();
    (kept.join(" "), root_cert)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslrootcert_is_taken_out_of_either_spelling() {
        assert_eq!(
            take_root_cert("postgres://k@db/x?sslmode=require&sslrootcert=%2Fetc%2Fkidsearch%2Fdb-ca.pem&connect_timeout=5"),
            ("postgres://k@db/x?sslmode=require&connect_timeout=5".to_string(), Some(PathBuf::from("/etc/kidsearch/db-ca.pem")))
        );
        assert_eq!(take_root_cert("postgres://k@db/x?sslrootcert=/ca.pem"), ("postgres://k@db/x".to_string(), Some(PathBuf::from("/ca.pem"))));
        assert_eq!(take_root_cert("postgres://k@db/x?sslrootcert=/etc/ca+db%20v2.pem").1, Some(PathBuf::from("/etc/ca+db v2.pem")));
        assert_eq!(
            take_root_cert("host=db sslmode=require sslrootcert=/ca.pem user=k"),
            ("host=db sslmode=require user=k".to_string(), Some(PathBuf::from("/ca.pem")))
        );
        assert_eq!(take_root_cert("postgres://k@db/x"), ("postgres://k@db/x".to_string(), None));
    }

    #[test]
    fn tls_is_used_for_require_only_and_a_bad_ca_file_is_named() {
        assert!(!Target::parse("postgres://k@db/x").expect("plain").tls());
        assert!(Target::parse("postgres://k@db/x?sslmode=require").expect("web roots").tls());
        let missing = Target::parse("postgres://k@db/x?sslmode=require&sslrootcert=/nonexistent/ca.pem").err().expect("refused");
        assert!(missing.contains("/nonexistent/ca.pem") && missing.contains("PEM file of the CA"), "{missing}");
        let without = Target::parse("postgres://k@db/x?sslrootcert=/nonexistent/ca.pem").err().expect("refused");
        assert!(without.contains("add sslmode=require"), "{without}");
    }
}
