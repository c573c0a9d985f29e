//! Who ai4ict is to a message broker: the credentials of the NATS and MQTT clients (sources
//! and sinks). No secret is written in an intent: each is read when the component starts,
//! from an environment variable or a file (its first line).

use std::path::{Path, PathBuf};

use ai4ict_core::{ProblemAt, SourceProblem};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ClientTls;

/// A client's credentials (`auth:` of a NATS or MQTT source or sink), one way at a time: a
/// user and password (NATS, MQTT), a token (NATS) or a credentials file (NATS).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerAuth {
    /// The user name, with `password_env` or `password_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// An environment variable holding the user's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// A file holding the user's password (its first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// NATS: an environment variable holding the server's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// NATS: a file holding the server's token (its first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    /// NATS: a user credentials file (a user JWT and its NKey seed, as `nsc` writes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creds_file: Option<PathBuf>,
}

/// A secret read for a connection; its `Debug` does not show it.
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How a client logs in, its secret read.
#[derive(Debug)]
pub(crate) enum Login {
    /// No credentials.
    Anonymous,
    /// A user and password.
    Password { user: String, password: Secret },
    /// A NATS token (read by the NATS client only, which a build without `nats` lacks).
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    Token(Secret),
    /// A NATS credentials file, read by the client when it connects.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    Creds(PathBuf),
}

/// The broker a client speaks to, for the ways of logging in it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Broker {
    Nats,
    Mqtt,
}

/// The secret named by `{what}_env` or `{what}_file` (its first line, trimmed); `None` when
/// neither is given, an error naming the key otherwise. Shared by every connector that takes
/// a secret, so they read and refuse secrets alike.
pub(crate) fn read_secret(
    what: &str,
    env: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<String>, String> {
    let (key, raw) = match (env, file) {
        (Some(_), Some(_)) => return Err(format!("give `{what}_env` or `{what}_file`, not both")),
        (Some(var), None) => (
            "env",
            std::env::var(var)
                .map_err(|_| format!("{what}_env: the variable `{var}` is not set"))?,
        ),
        (None, Some(path)) => (
            "file",
            std::fs::read_to_string(path)
                .map_err(|e| format!("{what}_file: cannot read {}: {e}", path.display()))?,
        ),
        (None, None) => return Ok(None),
    };
    let secret = raw.lines().next().unwrap_or("").trim().to_string();
    if secret.is_empty() {
        return Err(format!("{what}_{key}: the {what} is empty"));
    }
    Ok(Some(secret))
}

impl BrokerAuth {
    /// The ways of logging in given, by their first key.
    fn ways(&self) -> Vec<&'static str> {
        let mut ways = Vec::new();
        if self.user.is_some() || self.password_env.is_some() || self.password_file.is_some() {
            ways.push("user");
        }
        if self.token_env.is_some() || self.token_file.is_some() {
            ways.push("token_env");
        }
        if self.creds_file.is_some() {
            ways.push("creds_file");
        }
        ways
    }

    /// The login, its secret read now; an error naming the key at fault otherwise.
    pub(crate) fn login(&self, broker: Broker) -> Result<Login, String> {
        if let Some(p) = self.problems(broker, false).into_iter().next() {
            return Err(p.message);
        }
        let password = read_secret(
            "password",
            self.password_env.as_deref(),
            self.password_file.as_deref(),
        )
        .map_err(|e| format!("auth.{e}"))?;
        if let (Some(user), Some(password)) = (&self.user, password) {
            return Ok(Login::Password {
                user: user.clone(),
                password: Secret(password),
            });
        }
        let token = read_secret(
            "token",
            self.token_env.as_deref(),
            self.token_file.as_deref(),
        )
        .map_err(|e| format!("auth.{e}"))?;
        if let Some(token) = token {
            return Ok(Login::Token(Secret(token)));
        }
        Ok(match &self.creds_file {
            Some(path) => Login::Creds(path.clone()),
            None => Login::Anonymous,
        })
    }

    /// What is wrong before anything runs: more than one way, a user without a password or
    /// the other way round, a way `broker` does not know, and a file named by an intent
    /// submitted remotely (whose secret would go to a server that intent names).
    pub(crate) fn problems(&self, broker: Broker, remote: bool) -> Vec<SourceProblem> {
        let mut out = Vec::new();
        let ways = self.ways();
        if ways.len() > 1 {
            out.push(SourceProblem::new(
                ProblemAt::Key("auth"),
                format!("give one way of logging in, not {}", ways.join(" and ")),
                None,
            ));
        }
        let has_password = self.password_env.is_some() || self.password_file.is_some();
        if self.user.is_some() != has_password {
            out.push(SourceProblem::new(
                ProblemAt::Key("auth.user"),
                "a user needs a password and a password a user",
                Some("give `user` and `password_env` (or `password_file`)"),
            ));
        }
        if broker == Broker::Mqtt && ways.iter().any(|w| *w != "user") {
            out.push(SourceProblem::new(
                ProblemAt::Key("auth"),
                "MQTT logs in with a user and password only",
                Some("give a token as the password, if the broker takes tokens so"),
            ));
        }
        if remote {
            out.extend(remote_files(self.files()));
            out.extend(remote_vars(self.vars()));
        }
        out
    }

    /// The environment variables it reads secrets from, by key.
    pub(crate) fn vars(&self) -> Vec<(&'static str, &str)> {
        [
            ("auth.password_env", &self.password_env),
            ("auth.token_env", &self.token_env),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }

    /// The files it reads secrets from, by key.
    pub(crate) fn files(&self) -> Vec<(&'static str, &Path)> {
        [
            ("auth.password_file", &self.password_file),
            ("auth.token_file", &self.token_file),
            ("auth.creds_file", &self.creds_file),
        ]
        .into_iter()
        .filter_map(|(k, p)| p.as_deref().map(|p| (k, p)))
        .collect()
    }
}

/// The prefix of the environment variables an intent submitted remotely may read secrets
/// from: an API token must not let its holder send any of the server's variables (a cloud
/// key, a database password) to a server of their choosing.
pub const REMOTE_VAR_PREFIX: &str = "AI4ICT_";

/// The problem with a secret variable named by an intent submitted remotely, if any.
pub fn remote_var_problem(var: &str) -> Option<String> {
    (!var.starts_with(REMOTE_VAR_PREFIX)).then(|| {
        format!(
            "`{var}`: an intent submitted remotely may read secrets only from variables named \
             {REMOTE_VAR_PREFIX}…"
        )
    })
}

/// What is wrong with a secret or certificate file named by an intent submitted remotely (it
/// would read a local file for a server that intent names).
pub fn remote_file_problem(path: &Path) -> String {
    format!(
        "`{}`: an intent submitted remotely may not name a secret or certificate file",
        path.display()
    )
}

/// An intent submitted remotely may not name the files a client reads its secrets and
/// certificates from.
pub(crate) fn remote_files(files: Vec<(&'static str, &Path)>) -> Vec<SourceProblem> {
    files
        .into_iter()
        .map(|(key, path)| {
            SourceProblem::new(
                ProblemAt::Key(key),
                remote_file_problem(path),
                Some("use `password_env` or `token_env`, or run the intent locally"),
            )
        })
        .collect()
}

/// An intent submitted remotely may read secrets only from `AI4ICT_…` variables.
pub(crate) fn remote_vars(vars: Vec<(&'static str, &str)>) -> Vec<SourceProblem> {
    vars.into_iter()
        .filter_map(|(key, var)| {
            remote_var_problem(var).map(|m| {
                SourceProblem::new(
                    ProblemAt::Key(key),
                    m,
                    Some("name the secret's variable AI4ICT_…, or run the intent locally"),
                )
            })
        })
        .collect()
}

/// The files a sink's `auth` and `tls` read, each a secret to an intent submitted remotely.
pub(crate) fn secret_files<'a>(
    auth: Option<&'a BrokerAuth>,
    tls: Option<&'a ClientTls>,
) -> Vec<crate::SinkFile<'a>> {
    let mut files = auth.map_or_else(Vec::new, BrokerAuth::files);
    files.extend(tls.map_or_else(Vec::new, ClientTls::files));
    files
        .into_iter()
        .map(|(key, path)| crate::SinkFile {
            key,
            path,
            secret: true,
        })
        .collect()
}

/// The problems of a sink's `auth` and `tls`, as one error for [`crate::SinkComponent::check`].
pub(crate) fn sink_check(
    sink: &str,
    problems: Vec<SourceProblem>,
) -> Result<(), crate::ConnectorError> {
    match problems.into_iter().next() {
        None => Ok(()),
        Some(p) => Err(crate::ConnectorError::Delivery {
            sink: sink.to_string(),
            message: match p.at {
                ProblemAt::Key(k) => format!("{k}: {}", p.message),
                _ => p.message,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(yaml: &str) -> BrokerAuth {
        serde_json::from_str(yaml).unwrap()
    }

    #[test]
    fn one_way_at_a_time_and_a_user_with_a_password() {
        let both = auth(r#"{"user": "u", "password_env": "P", "token_env": "T"}"#);
        let p = both.problems(Broker::Nats, false);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].message.contains("user and token_env"),
            "{}",
            p[0].message
        );
        let lone = auth(r#"{"user": "u"}"#);
        assert_eq!(
            lone.problems(Broker::Nats, false)[0].at,
            ProblemAt::Key("auth.user")
        );
        let token = auth(r#"{"token_env": "T"}"#);
        assert!(token.problems(Broker::Nats, false).is_empty());
        assert!(token.problems(Broker::Mqtt, false)[0]
            .message
            .contains("MQTT"));
        assert!(serde_json::from_str::<BrokerAuth>(r#"{"pasword_env": "P"}"#).is_err());
    }

    #[test]
    fn a_remote_intent_names_no_secret_file() {
        let a = auth(r#"{"user": "u", "password_file": "/etc/shadow"}"#);
        assert!(a.problems(Broker::Mqtt, false).is_empty());
        let p = a.problems(Broker::Mqtt, true);
        assert_eq!(p[0].at, ProblemAt::Key("auth.password_file"));
    }

    #[test]
    fn secrets_are_read_and_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        let a = BrokerAuth {
            user: Some("u".into()),
            password_file: Some(file.clone()),
            ..BrokerAuth::default()
        };
        let login = a.login(Broker::Mqtt).unwrap();
        let Login::Password { user, password } = &login else {
            panic!("{login:?}");
        };
        assert_eq!((user.as_str(), password.0.as_str()), ("u", "s3cret"));
        assert!(!format!("{login:?}").contains("s3cret"));
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(
            a.login(Broker::Mqtt).unwrap_err(),
            "auth.password_file: the password is empty"
        );
        let unset = auth(r#"{"token_env": "AI4ICT_TEST_SURELY_UNSET_TOKEN"}"#);
        let e = unset.login(Broker::Nats).unwrap_err();
        assert!(e.contains("auth.token_env") && e.contains("not set"), "{e}");
        assert!(matches!(
            BrokerAuth::default().login(Broker::Nats),
            Ok(Login::Anonymous)
        ));
    }
}
