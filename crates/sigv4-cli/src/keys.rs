//! The keys file of `sigv4 verify --keys` and `sigv4 proxy --keys`.

use std::path::Path;

use serde_json::Value;
use sigv4_sign::Credentials;

/// Reads a keys file: a JSON object mapping access key id to its secret,
/// `{"AKID": "secret"}`, or to `{"secret_access_key": ..., "session_token": ...}`.
pub fn load_keys(path: &Path) -> Result<Vec<Credentials>, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("cannot read keys file {}: {e}", path.display()))?;
    let v: Value = serde_json::from_slice(&text)
        .map_err(|e| format!("keys file {} is not JSON: {e}", path.display()))?;
    let obj = v.as_object().ok_or_else(|| {
        format!(
            "keys file {} must be a JSON object mapping access key id to secret",
            path.display()
        )
    })?;
    let mut out = Vec::with_capacity(obj.len());
    for (akid, secret) in obj {
        let creds = match secret {
            Value::String(s) => Credentials::new(akid.clone(), s.clone(), None),
            Value::Object(o) => {
                let s = o
                    .get("secret_access_key")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!(
                            "keys file {}: entry `{akid}` has no string `secret_access_key`",
                            path.display()
                        )
                    })?;
                let token = o
                    .get("session_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Credentials::new(akid.clone(), s, token)
            }
            _ => {
                return Err(format!(
                    "keys file {}: the value of `{akid}` must be a string (the secret)",
                    path.display()
                ))
            }
        };
        out.push(creds);
    }
    Ok(out)
}
