//! Connection settings for Kafka, built the way kcat users expect: `-b HOST:PORT`, `-X key=value`
//! for any librdkafka property, and saved profiles in Confluent Cloud's `client.properties`
//! format. Secrets are kept out of everything printable: `Debug` and [`KafkaConfig::describe`]
//! mask them, and nothing here writes them anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Properties whose values are secrets.
const SECRET_KEYS: [&str; 4] = [
    "sasl.password",
    "ssl.key.password",
    "ssl.keystore.password",
    "sasl.oauthbearer.client.secret",
];

/// The environment variable a SASL password can come from (instead of a file or a prompt).
pub const PASSWORD_ENV: &str = "INSTORE_SASL_PASSWORD";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: expected key=value")]
    Syntax { path: String, line: usize },
    #[error("-X {0}: expected key=value")]
    Override(String),
    #[error("no bootstrap servers: give -b HOST:PORT, a --profile, or -X bootstrap.servers=…")]
    NoBootstrap,
    #[error("profile {name:?} not found (looked for {path})")]
    NoProfile { name: String, path: String },
    #[error("profile file {path} is readable by others (mode {mode:o}); chmod 600 it, it holds a secret")]
    OpenProfile { path: String, mode: u32 },
}

/// librdkafka properties for one cluster.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaConfig {
    properties: BTreeMap<String, String>,
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn is_secret(key: &str) -> bool {
    SECRET_KEYS.contains(&key) || key.ends_with(".password") || key.ends_with(".secret")
}

/// Properties we read from `client.properties` files: what librdkafka understands. Java-only
/// settings in Confluent's file (e.g. `client.dns.lookup`, `session.timeout.ms` is fine) that
/// librdkafka would refuse are skipped.
const JAVA_ONLY: [&str; 3] = ["client.dns.lookup", "sasl.jaas.config", "acks"];

impl KafkaConfig {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.properties
            .insert(key.trim().to_owned(), value.trim().to_owned());
    }

    /// Sets a value exactly as given (a typed password may start or end with a space).
    pub fn set_secret(&mut self, key: &str, value: &str) {
        self.properties
            .insert(key.trim().to_owned(), value.to_owned());
    }

    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Parses `client.properties` text (`key=value` or `key: value` lines, `#`/`!` comments).
    pub fn parse_properties(text: &str, path: &str) -> Result<KafkaConfig, ConfigError> {
        let mut config = KafkaConfig::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .or_else(|| line.split_once(':'))
                .ok_or_else(|| ConfigError::Syntax {
                    path: path.to_owned(),
                    line: i + 1,
                })?;
            let key = key.trim();
            if JAVA_ONLY.contains(&key) {
                // sasl.jaas.config carries the Java client's credentials; librdkafka takes
                // sasl.username/sasl.password, which Confluent's file also has.
                if key == "sasl.jaas.config" {
                    config.take_jaas_credentials(value);
                }
                continue;
            }
            config.set(key, value);
        }
        Ok(config)
    }

    /// Older Confluent files give credentials only inside `sasl.jaas.config`:
    /// `… PlainLoginModule required username='KEY' password='SECRET';`.
    fn take_jaas_credentials(&mut self, jaas: &str) {
        let field = |name: &str| {
            let start = jaas.find(&format!("{name}="))? + name.len() + 1;
            let rest = &jaas[start..];
            let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let rest = &rest[1..];
            Some(rest[..rest.find(quote)?].to_owned())
        };
        if self.get("sasl.username").is_none() {
            if let Some(u) = field("username") {
                self.set("sasl.username", &u);
            }
        }
        if self.get("sasl.password").is_none() {
            if let Some(p) = field("password") {
                self.set("sasl.password", &p);
            }
        }
    }

    /// Reads a profile file, refusing one others can read when it holds a secret.
    pub fn load_profile_file(path: &Path) -> Result<KafkaConfig, ConfigError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        let config = KafkaConfig::parse_properties(&text, &display)?;
        #[cfg(unix)]
        if config.properties.keys().any(|k| is_secret(k)) {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            if mode & 0o077 != 0 {
                return Err(ConfigError::OpenProfile {
                    path: display,
                    mode,
                });
            }
        }
        Ok(config)
    }

    /// Where saved profiles live: `$XDG_CONFIG_HOME/instore/profiles/NAME.properties`.
    pub fn profile_path(name: &str) -> Option<PathBuf> {
        Some(
            crate::io::folders::config_folder()?
                .join("profiles")
                .join(format!("{name}.properties")),
        )
    }

    /// The command line's view: profile, then `-b`, then `-X` overrides, then the password
    /// from the environment when none is set.
    pub fn resolve(
        profile: Option<&str>,
        bootstrap: Option<&str>,
        overrides: &[String],
    ) -> Result<KafkaConfig, ConfigError> {
        let mut config = match profile {
            Some(name) => {
                let path = KafkaConfig::profile_path(name).unwrap_or_else(|| PathBuf::from(name));
                // A path works as well as a name.
                let path = if Path::new(name).is_file() {
                    PathBuf::from(name)
                } else {
                    path
                };
                if !path.is_file() {
                    return Err(ConfigError::NoProfile {
                        name: name.to_owned(),
                        path: path.display().to_string(),
                    });
                }
                KafkaConfig::load_profile_file(&path)?
            }
            None => KafkaConfig::default(),
        };
        if let Some(b) = bootstrap {
            config.set("bootstrap.servers", b);
        }
        for o in overrides {
            let (k, v) = o
                .split_once('=')
                .ok_or_else(|| ConfigError::Override(o.clone()))?;
            config.set(k, v);
        }
        if config.get("sasl.username").is_some() && config.get("sasl.password").is_none() {
            if let Ok(p) = std::env::var(PASSWORD_ENV) {
                config.set("sasl.password", &p);
            }
        }
        if config.get("bootstrap.servers").is_none_or(str::is_empty) {
            return Err(ConfigError::NoBootstrap);
        }
        Ok(config)
    }

    /// One line for logs and the UI: every property, secrets masked.
    pub fn describe(&self) -> String {
        self.properties
            .iter()
            .map(|(k, v)| {
                if is_secret(k) {
                    format!("{k}=****")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFLUENT: &str = "# Required connection configs for Kafka producer, consumer, and admin
bootstrap.servers=pkc-abc12.us-east-2.aws.confluent.cloud:9092
security.protocol=SASL_SSL
sasl.mechanisms=PLAIN
sasl.username=ABCDEFGHIJ
sasl.password=s3cr3t+/Value==
# Best practice for higher availability in librdkafka clients prior to 1.7
session.timeout.ms=45000
client.dns.lookup=use_all_dns_ips
";

    #[test]
    fn confluent_client_properties_are_read_and_the_secret_never_printed() {
        let c = KafkaConfig::parse_properties(CONFLUENT, "client.properties").unwrap();
        assert_eq!(c.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(c.get("sasl.password"), Some("s3cr3t+/Value=="));
        assert_eq!(
            c.get("client.dns.lookup"),
            None,
            "Java-only setting skipped"
        );
        let shown = format!("{c:?} {}", c.describe());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("sasl.password=****"));
    }

    #[test]
    fn jaas_credentials_are_taken_when_that_is_all_there_is() {
        let text = "bootstrap.servers=x:9092\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='KEY' password='SECRET';";
        let c = KafkaConfig::parse_properties(text, "p").unwrap();
        assert_eq!(
            (c.get("sasl.username"), c.get("sasl.password")),
            (Some("KEY"), Some("SECRET"))
        );
    }

    #[test]
    fn bootstrap_and_overrides_win_and_bad_input_is_explained() {
        let c =
            KafkaConfig::resolve(None, Some("localhost:9092"), &["linger.ms=5".into()]).unwrap();
        assert_eq!(c.get("bootstrap.servers"), Some("localhost:9092"));
        assert_eq!(c.get("linger.ms"), Some("5"));
        assert!(matches!(
            KafkaConfig::resolve(None, None, &[]),
            Err(ConfigError::NoBootstrap)
        ));
        assert!(matches!(
            KafkaConfig::resolve(None, Some("h:1"), &["nonsense".into()]),
            Err(ConfigError::Override(_))
        ));
        assert!(matches!(
            KafkaConfig::resolve(Some("no-such-profile-xyz"), None, &[]),
            Err(ConfigError::NoProfile { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_profile_with_a_secret_must_be_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.properties");
        std::fs::write(&path, CONFLUENT).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = KafkaConfig::load_profile_file(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = KafkaConfig::resolve(Some(path.to_str().unwrap()), None, &[]).unwrap();
        assert_eq!(c.get("sasl.username"), Some("ABCDEFGHIJ"));
    }
}
