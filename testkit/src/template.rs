//! Reads the `AWS::Serverless::Function`s of `template.yaml`: logical id, binary, crate,
//! memory, timeout, handler, and environment variables merged over
//! `Globals.Function.Environment`, each with its raw CloudFormation value (`!Ref`, `!GetAtt`,
//! `!Sub`, `!If`, ...), so the tests start each binary with the variables its function really
//! gets, and cannot drift from the template.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

/// A variable's value as the template writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// A plain string or number.
    Text(String),
    /// `!Ref Name` (a resource or a parameter).
    Ref(String),
    /// `!GetAtt Resource.Attribute`.
    GetAtt(String),
    /// `!Sub '...'`.
    Sub(String),
    /// `!If [Condition, then, else]`.
    If {
        condition: String,
        then: Box<Raw>,
        otherwise: Box<Raw>,
    },
    /// `!Ref AWS::NoValue`: the variable is left out.
    NoValue,
    /// Any other intrinsic, kept as text for messages.
    Other(String),
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::Text(text) => write!(f, "{text:?}"),
            Raw::Ref(name) => write!(f, "!Ref {name}"),
            Raw::GetAtt(name) => write!(f, "!GetAtt {name}"),
            Raw::Sub(text) => write!(f, "!Sub {text}"),
            Raw::If {
                condition,
                then,
                otherwise,
            } => write!(f, "!If [{condition}, {then}, {otherwise}]"),
            Raw::NoValue => write!(f, "!Ref AWS::NoValue"),
            Raw::Other(text) => write!(f, "{text}"),
        }
    }
}

/// One function of the template.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// The Lambda binary (`src/bin/<binary>.rs`) it runs.
    pub binary: String,
    /// `CodeUri` as written.
    pub code_uri: String,
    /// The function crate that builds the binary.
    pub crate_dir: PathBuf,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub handler: String,
    /// Globals' variables overlaid with the function's own.
    pub variables: BTreeMap<String, Raw>,
}

/// The template's functions and parameters.
#[derive(Debug, Clone)]
pub struct Template {
    pub functions: Vec<Function>,
    /// Each parameter's `Default`, where it has one.
    pub parameter_defaults: BTreeMap<String, String>,
}

impl Template {
    /// Reads `template.yaml` at the repository root.
    pub fn load() -> Result<Self, String> {
        let root = crate::repo_root();
        let path = root.join("template.yaml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text, &root)
    }

    /// Reads a template's text; `root` is where its `CodeUri`s are relative to.
    pub fn parse(text: &str, root: &Path) -> Result<Self, String> {
        let doc: Value =
            serde_yaml_ng::from_str(text).map_err(|e| format!("template.yaml: {e}"))?;
        let globals = &doc["Globals"]["Function"];
        let global_variables = variables(&globals["Environment"]["Variables"])?;
        let mut parameter_defaults = BTreeMap::new();
        if let Some(parameters) = doc["Parameters"].as_mapping() {
            for (name, parameter) in parameters {
                if let (Some(name), Some(default)) = (name.as_str(), scalar(&parameter["Default"]))
                {
                    parameter_defaults.insert(name.to_string(), default);
                }
            }
        }
        let resources = doc["Resources"]
            .as_mapping()
            .ok_or("template.yaml has no Resources")?;
        let mut functions = Vec::new();
        for (id, resource) in resources {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let logical_id = id.as_str().ok_or("a resource id is not text")?.to_string();
            let properties = &resource["Properties"];
            let binary = binary_name(&logical_id, resource).ok_or_else(|| {
                format!("{logical_id}: no binary name (see template::binary_name)")
            })?;
            let code_uri = properties["CodeUri"]
                .as_str()
                .or_else(|| globals["CodeUri"].as_str())
                .unwrap_or(".")
                .to_string();
            let crate_dir = crate_dir(root, &code_uri, &binary)
                .ok_or_else(|| format!("{logical_id}: no crate builds the binary {binary}"))?;
            let number = |key: &str, default: u32| {
                properties[key]
                    .as_u64()
                    .or_else(|| globals[key].as_u64())
                    .map_or(default, |n| n as u32)
            };
            let mut merged = global_variables.clone();
            merged.extend(variables(&properties["Environment"]["Variables"])?);
            functions.push(Function {
                binary,
                code_uri,
                crate_dir,
                // Lambda's own defaults.
                memory_mb: number("MemorySize", 128),
                timeout_s: number("Timeout", 3),
                handler: properties["Handler"]
                    .as_str()
                    .or_else(|| globals["Handler"].as_str())
                    .unwrap_or("bootstrap")
                    .to_string(),
                variables: merged,
                logical_id,
            });
        }
        Ok(Self {
            functions,
            parameter_defaults,
        })
    }

    /// The function that runs `binary`.
    pub fn function(&self, binary: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.binary == binary)
    }

    /// The functions whose binary the crate at `crate_dir` builds.
    pub fn functions_of_crate(&self, crate_dir: &Path) -> Vec<&Function> {
        let wanted = canonical(crate_dir);
        self.functions
            .iter()
            .filter(|f| canonical(&f.crate_dir) == wanted)
            .collect()
    }
}

/// The binary a function runs. The one place that knows where the template names it: today
/// `Metadata.BuildProperties.Binary` (cargo-lambda builds); a `Metadata.Binary` is accepted too.
/// A template that names it nowhere (e.g. `BuildMethod: makefile`) falls back on the naming
/// convention every function follows, `ConfirmSignupFunction` → `confirm-signup`; the crate
/// lookup then checks that such a binary exists.
pub fn binary_name(logical_id: &str, resource: &Value) -> Option<String> {
    let metadata = &resource["Metadata"];
    let named = [&metadata["BuildProperties"]["Binary"], &metadata["Binary"]]
        .into_iter()
        .find_map(|v| v.as_str().map(str::to_string));
    named.or_else(|| {
        let stem = logical_id.strip_suffix("Function")?;
        let mut name = String::new();
        for (i, c) in stem.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                name.push('-');
            }
            name.push(c.to_ascii_lowercase());
        }
        (!name.is_empty()).then_some(name)
    })
}

/// The crate that builds `binary`: the `CodeUri` folder when it is that crate, otherwise the
/// function crate (`functions/*`) holding `src/bin/<binary>.rs` (a build from the workspace
/// root names `.` as its `CodeUri`).
fn crate_dir(root: &Path, code_uri: &str, binary: &str) -> Option<PathBuf> {
    let builds = |dir: &Path| dir.join("src/bin").join(format!("{binary}.rs")).is_file();
    let declared = root.join(code_uri);
    if builds(&declared) {
        return Some(canonical(&declared));
    }
    std::fs::read_dir(root.join("functions"))
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|dir| builds(dir))
        .map(|dir| canonical(&dir))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn variables(map: &Value) -> Result<BTreeMap<String, Raw>, String> {
    let mut out = BTreeMap::new();
    if let Some(map) = map.as_mapping() {
        for (name, value) in map {
            let name = name.as_str().ok_or("a variable name is not text")?;
            out.insert(name.to_string(), raw(value));
        }
    }
    Ok(out)
}

/// A value in short (`!Ref x`) or long (`{Ref: x}`) intrinsic form.
fn raw(value: &Value) -> Raw {
    let text = |v: &Value| scalar(v).unwrap_or_else(|| format!("{v:?}"));
    let intrinsic = |name: &str, arg: &Value| match name {
        "Ref" if arg.as_str() == Some("AWS::NoValue") => Raw::NoValue,
        "Ref" => Raw::Ref(text(arg)),
        "GetAtt" => Raw::GetAtt(match arg.as_sequence() {
            Some(parts) => parts.iter().map(text).collect::<Vec<_>>().join("."),
            None => text(arg),
        }),
        "Sub" => Raw::Sub(match arg.as_sequence() {
            Some(parts) => parts.first().map(text).unwrap_or_default(),
            None => text(arg),
        }),
        "If" => match arg.as_sequence().map(Vec::as_slice) {
            Some([condition, then, otherwise]) => Raw::If {
                condition: text(condition),
                then: Box::new(raw(then)),
                otherwise: Box::new(raw(otherwise)),
            },
            _ => Raw::Other(format!("!If {arg:?}")),
        },
        other => Raw::Other(format!("!{other} {arg:?}")),
    };
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            intrinsic(tag.trim_start_matches('!'), &tagged.value)
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            match key.as_str() {
                Some(key) if key == "Ref" || key.starts_with("Fn::") => {
                    intrinsic(key.trim_start_matches("Fn::"), arg)
                }
                _ => Raw::Other(format!("{value:?}")),
            }
        }
        other => scalar(other).map_or_else(|| Raw::Other(format!("{other:?}")), Raw::Text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_intrinsics() {
        let yaml = r#"
Globals:
  Function:
    MemorySize: 256
    Environment:
      Variables:
        LOG_FORMAT: json
        RECORDS_TABLE: !Ref RecordsTable
Resources:
  A:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: nope
    Properties:
      CodeUri: ./nowhere
      Environment:
        Variables:
          MAIL_FROM: !If [HasMailFrom, !Ref MailFrom, !Ref AWS::NoValue]
          REDIS_URL: !Sub rediss://${G.Address}:6379
          ARN: !GetAtt Q.Arn
          LONG: {"Fn::GetAtt": [Q, Arn]}
"#;
        let error = Template::parse(yaml, Path::new("/nonexistent")).unwrap_err();
        assert!(error.contains("no crate builds the binary nope"), "{error}");
        let doc: Value = serde_yaml_ng::from_str(yaml).unwrap();
        let vars =
            variables(&doc["Resources"]["A"]["Properties"]["Environment"]["Variables"]).unwrap();
        assert_eq!(
            vars["MAIL_FROM"],
            Raw::If {
                condition: "HasMailFrom".into(),
                then: Box::new(Raw::Ref("MailFrom".into())),
                otherwise: Box::new(Raw::NoValue),
            }
        );
        assert_eq!(
            vars["REDIS_URL"],
            Raw::Sub("rediss://${G.Address}:6379".into())
        );
        assert_eq!(vars["ARN"], Raw::GetAtt("Q.Arn".into()));
        assert_eq!(vars["LONG"], Raw::GetAtt("Q.Arn".into()));
        assert_eq!(
            binary_name("A", &doc["Resources"]["A"]).as_deref(),
            Some("nope")
        );
        assert_eq!(
            binary_name("WsSendMessageFunction", &Value::Null).as_deref(),
            Some("ws-send-message")
        );
    }

    #[test]
    fn every_function_of_the_real_template_has_a_binary_and_a_crate() {
        let template = Template::load().unwrap();
        assert!(!template.functions.is_empty());
        for function in &template.functions {
            assert!(
                function.crate_dir.join("Cargo.toml").is_file(),
                "{function:?}"
            );
            assert!(
                function.variables.contains_key("RECORDS_TABLE"),
                "{function:?}"
            );
        }
    }
}
