//! The deployment contract (docs/deployment-contract.md), checked against `template.yaml`,
//! `Makefile` and `samconfig.toml` themselves. What only a deployment shows (a function missing
//! a variable it needs at cold start, a loop Lambda would cut, a route the browser cannot call,
//! a function that escapes its alias, a table that can be deleted) is caught here instead.
//!
//! The template is read with a YAML parser that keeps CloudFormation's short-form tags
//! (`!Ref`, `!GetAtt`, `!Sub`), and its aliases (`*cors-preflight`) resolved.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::{Mapping, Value};

/// What every function of an area is given: what its binaries read at cold start (each reads
/// only what its route uses; see each crate's `src/bin` and `state.rs`). The runtime-loop tests
/// prove that every binary starts with exactly what the template gives it.
const REQUIRED: &[(&str, &[&str])] = &[
    ("./functions/auth", &["RECORDS_TABLE"]),
    ("./functions/festivals", &["RECORDS_TABLE", "SEARCH_TABLE"]),
    (
        "./functions/queue",
        &["RECORDS_TABLE", "ADMIT_QUEUE_URL", "REDIS_URL"],
    ),
    (
        "./functions/reservations",
        &["RECORDS_TABLE", "EVENT_BUS_NAME"],
    ),
    (
        "./functions/chat",
        &[
            "RECORDS_TABLE",
            "MESSAGES_TABLE",
            "CONNECTIONS_TABLE",
            "CHAT_CALLBACK_URL",
            "REDIS_URL",
        ],
    ),
    // The device routes' state; the planner and the sender build their own (below).
    ("./functions/notifications", &["RECORDS_TABLE"]),
    // Serves the OpenAPI document: needs nothing of the stack.
    ("./functions/openapi", &[]),
];

/// What every function gets: the CORS origins its answers carry (shared/API.md).
const REQUIRED_BY_ALL: &[&str] = &["CORS_ALLOWED_ORIGINS"];

/// The functions that sign or check access tokens: the JWT key's secret, and no one else.
const JWT_READERS: &[&str] = &["authorizer", "login", "refresh-token", "ws-connect"];

/// What single binaries require beyond their crate's state.
const REQUIRED_BY_BINARY: &[(&str, &[&str])] = &[
    ("authorizer", &["JWT_SECRET_ARN"]),
    ("login", &["JWT_SECRET_ARN"]),
    ("refresh-token", &["JWT_SECRET_ARN"]),
    ("ws-connect", &["JWT_SECRET_ARN"]),
    // Sign-out closes the user's chat connections: presence in Redis, the management API.
    ("signout", &["REDIS_URL", "CHAT_CALLBACK_URL"]),
    (
        "confirm-forgot-password",
        &["REDIS_URL", "CHAT_CALLBACK_URL"],
    ),
    (
        "reminder-planner",
        &["RECORDS_TABLE", "REMINDER_QUEUE_URL", "PUSH_QUEUE_URL"],
    ),
    (
        "push-sender",
        &[
            "RECORDS_TABLE",
            "PUSH_QUEUE_URL",
            "FCM_SERVICE_ACCOUNT_SECRET_ARN",
        ],
    ),
];

/// Tables that hold user data (or what only re-indexing every festival rebuilds), and the one
/// that holds nothing beyond a live connection.
const PROTECTED_TABLES: &[&str] = &["RecordsTable", "SearchTable", "MessagesTable"];
const UNPROTECTED_TABLES: &[&str] = &["ConnectionsTable"];

const ALLOWED_HEADERS: &[&str] = &["Authorization", "Content-Type", "Idempotency-Key"];

fn repo_file(path: &str) -> String {
    let full = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn template() -> Value {
    serde_yaml_ng::from_str(&repo_file("template.yaml")).expect("template.yaml is YAML")
}

// ------------------------------------------------------------------ YAML helpers ---

fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| untag(v).get(*key))
}

fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(t) => &t.value,
        v => v,
    }
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(value, path).and_then(Value::as_str)
}

fn mapping<'a>(value: &'a Value, path: &[&str]) -> &'a Mapping {
    get(value, path)
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("{} is not a mapping", path.join(".")))
}

fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Sequence(s)) => s.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

/// An intrinsic function, short (`!Ref X`) or long (`{Ref: X}`, `{Fn::GetAtt: [A, B]}`)
/// form, as (`Ref` / `GetAtt` / `Sub` / ..., argument).
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            let name = k.strip_prefix("Fn::").unwrap_or(k);
            (k == "Ref" || k.starts_with("Fn::")).then(|| (name.to_string(), v))
        }
        _ => None,
    }
}

/// `!Ref X` → X.
fn ref_of(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => arg.as_str(),
        _ => None,
    }
}

/// `!GetAtt X.Y` or `{Fn::GetAtt: [X, Y]}` → (X, Y).
fn get_att(value: &Value) -> Option<(String, String)> {
    let (name, arg) = intrinsic(value)?;
    if name != "GetAtt" {
        return None;
    }
    match arg {
        Value::String(s) => {
            let (r, a) = s.split_once('.')?;
            Some((r.to_string(), a.to_string()))
        }
        Value::Sequence(s) if s.len() == 2 => {
            Some((s[0].as_str()?.to_string(), s[1].as_str()?.to_string()))
        }
        _ => None,
    }
}

/// The text of a `!Sub` (either form), or of a plain string.
fn sub_text(value: &Value) -> Option<&str> {
    match intrinsic(value) {
        Some((name, Value::String(s))) if name == "Sub" => Some(s),
        Some((name, Value::Sequence(s))) if name == "Sub" => s.first()?.as_str(),
        None => value.as_str(),
        _ => None,
    }
}

/// Every value anywhere under `value`, itself included.
fn walk<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(value);
    match value {
        Value::Sequence(s) => s.iter().for_each(|v| walk(v, out)),
        Value::Mapping(m) => m.values().for_each(|v| walk(v, out)),
        Value::Tagged(t) => walk(&t.value, out),
        _ => {}
    }
}

// -------------------------------------------------------------- the template ---

/// One `AWS::Serverless::Function` of the template.
#[derive(Debug)]
struct Function<'a> {
    id: String,
    /// The logical id without its `Function` suffix: the prefix of its log group and alarms.
    base: String,
    binary: String,
    code_uri: String,
    properties: &'a Value,
    metadata: &'a Value,
}

impl Function<'_> {
    fn variables(&self) -> BTreeSet<String> {
        get(self.properties, &["Environment", "Variables"])
            .and_then(Value::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (Action, Resource) of every Allow statement of its inline policies.
    fn statements(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        for policy in items(get(self.properties, &["Policies"])) {
            for statement in items(get(policy, &["Statement"])) {
                // `!If [cond, statement, !Ref AWS::NoValue]`
                match intrinsic(statement) {
                    Some((name, Value::Sequence(branches))) if name == "If" => {
                        out.extend(branches.iter().skip(1).filter(|b| b.is_mapping()))
                    }
                    _ => out.push(statement),
                }
            }
        }
        out
    }

    /// Resources (as the logical id each names) on which a statement allows `action`.
    fn resources_allowed(&self, action: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for statement in self.statements() {
            let actions: Vec<&str> = items(get(statement, &["Action"]))
                .into_iter()
                .filter_map(Value::as_str)
                .collect();
            if str_at(statement, &["Effect"]) != Some("Allow")
                || !actions.iter().any(|a| *a == action || *a == "*")
            {
                continue;
            }
            for resource in items(get(statement, &["Resource"])) {
                if let Some((id, _)) = get_att(resource) {
                    out.insert(id);
                } else if let Some(id) = ref_of(resource) {
                    out.insert(id.to_string());
                } else if let Some(text) = resource.as_str() {
                    out.insert(text.to_string());
                }
            }
        }
        out
    }

    /// Events of one type (`Api`, `SQS`): their Properties.
    fn events(&self, kind: &str) -> Vec<&Value> {
        get(self.properties, &["Events"])
            .and_then(Value::as_mapping)
            .map(|m| {
                m.values()
                    .filter(|e| str_at(e, &["Type"]) == Some(kind))
                    .filter_map(|e| get(e, &["Properties"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The queues (logical ids) whose messages invoke it.
    fn trigger_queues(&self) -> BTreeSet<String> {
        self.events("SQS")
            .into_iter()
            .filter_map(|e| get(e, &["Queue"]).and_then(get_att))
            .map(|(id, _)| id)
            .collect()
    }
}

fn resources(template: &Value) -> &Mapping {
    mapping(template, &["Resources"])
}

fn resource<'a>(template: &'a Value, id: &str) -> &'a Value {
    resources(template)
        .get(id)
        .unwrap_or_else(|| panic!("template has no resource {id}"))
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, r)| str_at(r, &["Type"]) == Some(kind))
        .map(|(id, r)| (id.as_str().expect("logical id"), r))
        .collect()
}

fn functions(template: &Value) -> Vec<Function<'_>> {
    let functions: Vec<Function<'_>> = of_type(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, r)| Function {
            id: id.to_string(),
            base: id
                .strip_suffix("Function")
                .unwrap_or_else(|| panic!("{id}: a function's id ends in Function"))
                .to_string(),
            binary: str_at(r, &["Metadata", "BuildProperties", "Binary"])
                .unwrap_or_else(|| panic!("{id}: no Metadata.BuildProperties.Binary"))
                .to_string(),
            code_uri: str_at(r, &["Properties", "CodeUri"])
                .unwrap_or_else(|| panic!("{id}: no CodeUri"))
                .to_string(),
            properties: get(r, &["Properties"]).expect("Properties"),
            metadata: get(r, &["Metadata"]).expect("Metadata"),
        })
        .collect();
    assert!(functions.len() >= 36, "found {} functions", functions.len());
    functions
}

fn globals(template: &Value) -> &Value {
    get(template, &["Globals", "Function"]).expect("Globals.Function")
}

fn global_variables(template: &Value) -> BTreeSet<String> {
    mapping(globals(template), &["Environment", "Variables"])
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect()
}

/// Every REST path of the API's function events, with its methods (upper case).
fn api_routes(template: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut routes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in functions(template) {
        for event in f.events("Api") {
            assert_eq!(
                get(event, &["RestApiId"]).and_then(ref_of),
                Some("FestaApi"),
                "{}: an Api event outside FestaApi",
                f.id
            );
            routes
                .entry(str_at(event, &["Path"]).expect("Path").to_string())
                .or_default()
                .insert(str_at(event, &["Method"]).expect("Method").to_uppercase());
        }
    }
    routes
}

// -------------------------------------------------------------------- tests ---

#[test]
fn every_function_gets_the_variables_its_crate_requires() {
    let template = template();
    let globals = global_variables(&template);
    let required: BTreeMap<&str, &[&str]> = REQUIRED.iter().copied().collect();
    let by_binary: BTreeMap<&str, &[&str]> = REQUIRED_BY_BINARY.iter().copied().collect();
    let functions = functions(&template);
    for binary in by_binary.keys() {
        assert!(
            functions.iter().any(|f| f.binary == *binary),
            "no function builds {binary}"
        );
    }
    for f in &functions {
        let needs = required
            .get(f.code_uri.as_str())
            .unwrap_or_else(|| panic!("{}: unknown CodeUri {}", f.binary, f.code_uri));
        let extra = by_binary
            .get(f.binary.as_str())
            .copied()
            .unwrap_or_default();
        let variables = f.variables();
        for var in needs.iter().chain(extra).chain(REQUIRED_BY_ALL) {
            assert!(
                globals.contains(*var) || variables.contains(*var),
                "{} ({}) lacks {var}",
                f.binary,
                f.code_uri
            );
        }
    }
}

/// A binary under a crate's `src/bin` with no function in the template would be built and
/// tested but never deployed; a crate the table above does not know has no checked variables.
#[test]
fn every_binary_of_every_crate_is_deployed() {
    let template = template();
    let functions = functions(&template);
    let known: BTreeSet<&str> = REQUIRED.iter().map(|(uri, _)| *uri).collect();
    let root = format!("{}/../../functions", env!("CARGO_MANIFEST_DIR"));
    let mut crates = 0;
    for entry in std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{root}: {e}")) {
        let dir = entry.expect("directory entry").path();
        let name = dir.file_name().and_then(|n| n.to_str()).expect("name");
        let bins = dir.join("src/bin");
        if name == "local" || !bins.is_dir() {
            continue;
        }
        crates += 1;
        let code_uri = format!("./functions/{name}");
        assert!(
            known.contains(code_uri.as_str()),
            "{code_uri} has Lambda binaries but no entry in REQUIRED"
        );
        for entry in std::fs::read_dir(&bins).expect("src/bin") {
            let path = entry.expect("directory entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let binary = path.file_stem().and_then(|s| s.to_str()).expect("name");
            assert!(
                functions
                    .iter()
                    .any(|f| f.binary == binary && f.code_uri == code_uri),
                "no function builds {binary} from {code_uri}"
            );
        }
    }
    assert!(crates >= 6, "found {crates} function crates");
}

/// `sam build` runs `make build-<LogicalId>` (Makefile) in the repository itself: each target
/// depends on the one workspace build and installs exactly the binary the template names.
#[test]
fn every_function_is_built_by_its_makefile_target() {
    let template = template();
    let makefile = repo_file("Makefile");
    let mut targets: BTreeMap<String, String> = BTreeMap::new();
    for line in makefile.lines() {
        let Some(rest) = line.strip_prefix("build-") else {
            continue;
        };
        let (id, install) = rest
            .split_once(": lambdas ; ")
            .expect("build-<Id>: lambdas ; $(call install,<binary>)");
        let binary = install
            .strip_prefix("$(call install,")
            .and_then(|b| b.strip_suffix(')'))
            .expect("$(call install,<binary>)");
        targets.insert(id.to_string(), binary.to_string());
    }
    // One cargo-lambda run builds every Lambda binary; the local platform and the test kit
    // are not Lambdas.
    let build = makefile
        .split("\nlambdas:\n")
        .nth(1)
        .expect("a lambdas target");
    assert!(
        build.contains("--workspace")
            && build.contains("--exclude festa-local")
            && build.contains("--exclude festa-testkit"),
        "the lambdas target builds the whole workspace once: {build}"
    );
    let functions = functions(&template);
    for f in &functions {
        assert_eq!(
            str_at(f.metadata, &["BuildMethod"]),
            Some("makefile"),
            "{}",
            f.id
        );
        assert_eq!(
            str_at(f.metadata, &["ProjectRootDirectory"]),
            Some("."),
            "{}: make must run at the repository root (one target/)",
            f.id
        );
        let binary = targets
            .get(&f.id)
            .unwrap_or_else(|| panic!("Makefile has no build-{}", f.id));
        assert_eq!(binary, &f.binary, "build-{} installs another binary", f.id);
        assert_eq!(
            str_at(f.properties, &["Handler"]).or(str_at(globals(&template), &["Handler"])),
            Some("bootstrap")
        );
    }
    for id in targets.keys() {
        assert!(
            functions.iter().any(|f| &f.id == id),
            "Makefile builds {id}, which the template does not have"
        );
    }
    assert_eq!(
        get(globals(&template), &["Architectures"]),
        Some(&Value::Sequence(vec![Value::from("arm64")])),
        "the Makefile builds for arm64"
    );
    assert!(makefile.contains("LAMBDA_ARCH ?= --arm64"));
}

/// Lambda stops a function that sends to the queue that triggers it after about 16 hops.
/// Exactly the functions that do so on purpose (the function's `sqs:SendMessage` resources
/// meet its SQS event sources) allow the loop.
#[test]
fn functions_that_feed_their_own_trigger_queue_allow_recursive_loops() {
    let template = template();
    let mut looping = BTreeSet::new();
    for f in functions(&template) {
        let sends = f.resources_allowed("sqs:SendMessage");
        let feeds_itself = f.trigger_queues().iter().any(|q| sends.contains(q));
        let setting = str_at(f.properties, &["RecursiveLoop"]);
        if feeds_itself {
            looping.insert(f.binary.clone());
            assert_eq!(
                setting,
                Some("Allow"),
                "{} sends to its own trigger queue: it needs RecursiveLoop: Allow",
                f.binary
            );
        } else {
            assert_ne!(
                setting,
                Some("Allow"),
                "{} does not feed its trigger queue: keep Lambda's loop detection",
                f.binary
            );
        }
    }
    // The two known loops, so that this test cannot pass by finding none.
    for binary in ["queue-admitter", "reminder-planner"] {
        assert!(
            looping.contains(binary),
            "{binary} should feed its own queue"
        );
    }
}

/// Every function runs behind its alias `live`, shifted gradually by CodeDeploy and rolled back
/// by its own Errors and Throttles alarms; nothing invokes a function except through that alias.
#[test]
fn no_function_escapes_its_alias() {
    let template = template();
    let globals = globals(&template);
    assert_eq!(str_at(globals, &["AutoPublishAlias"]), Some("live"));
    assert_eq!(
        get(globals, &["DeploymentPreference", "Type"]).and_then(ref_of),
        Some("DeploymentType")
    );
    let allowed = mapping(&template, &["Parameters", "DeploymentType"]);
    let default = allowed
        .get("Default")
        .and_then(Value::as_str)
        .expect("Default");
    assert!(
        default.starts_with("Canary") || default.starts_with("Linear"),
        "the default deployment is gradual, not {default}"
    );

    let functions = functions(&template);
    let ids: BTreeSet<&str> = functions.iter().map(|f| f.id.as_str()).collect();
    for f in &functions {
        assert!(
            get(f.properties, &["AutoPublishAlias"]).is_none()
                && get(f.properties, &["DeploymentPreference", "Type"]).is_none()
                && get(f.properties, &["DeploymentPreference", "Enabled"]).is_none(),
            "{} overrides the global alias or deployment preference",
            f.id
        );
        let alarms: Vec<&str> = items(get(f.properties, &["DeploymentPreference", "Alarms"]))
            .into_iter()
            .map(|a| ref_of(a).expect("!Ref <alarm>"))
            .collect();
        for (suffix, metric) in [("ErrorsAlarm", "Errors"), ("ThrottlesAlarm", "Throttles")] {
            let id = format!("{}{suffix}", f.base);
            assert!(
                alarms.contains(&id.as_str()),
                "{}: no {id} in its DeploymentPreference",
                f.id
            );
            let alarm = get(resource(&template, &id), &["Properties"]).expect("Properties");
            assert_eq!(str_at(alarm, &["Namespace"]), Some("AWS/Lambda"), "{id}");
            assert_eq!(str_at(alarm, &["MetricName"]), Some(metric), "{id}");
            let dimensions: BTreeMap<&str, &Value> = items(get(alarm, &["Dimensions"]))
                .into_iter()
                .map(|d| {
                    (
                        str_at(d, &["Name"]).expect("Name"),
                        get(d, &["Value"]).expect("Value"),
                    )
                })
                .collect();
            assert_eq!(
                dimensions.get("FunctionName").and_then(|v| ref_of(v)),
                Some(f.id.as_str()),
                "{id}"
            );
            assert_eq!(
                dimensions.get("Resource").and_then(|v| sub_text(v)),
                Some(format!("${{{}}}:live", f.id).as_str()),
                "{id} watches the alias"
            );
        }
    }

    // Every hand-written invocation path names an alias: the authorizer, the WebSocket
    // integrations and their permissions. (SAM points Api and SQS events at the alias itself.)
    let alias_of = |v: &Value| -> Option<String> {
        ref_of(v)
            .and_then(|r| r.strip_suffix(".Alias"))
            .filter(|id| ids.contains(id))
            .map(String::from)
    };
    let authorizer = get(
        resource(&template, "FestaApi"),
        &[
            "Properties",
            "Auth",
            "Authorizers",
            "TokenAuthorizer",
            "FunctionArn",
        ],
    )
    .expect("TokenAuthorizer.FunctionArn");
    assert_eq!(alias_of(authorizer).as_deref(), Some("AuthorizerFunction"));
    let permissions = of_type(&template, "AWS::Lambda::Permission");
    assert!(!permissions.is_empty());
    for (id, permission) in permissions {
        let target = get(permission, &["Properties", "FunctionName"]).expect("FunctionName");
        assert!(
            alias_of(target).is_some(),
            "{id} grants on a function, not its alias"
        );
    }
    let integrations = of_type(&template, "AWS::ApiGatewayV2::Integration");
    assert!(integrations.len() >= 7);
    for (id, integration) in integrations {
        let uri = get(integration, &["Properties", "IntegrationUri"]).expect("IntegrationUri");
        let variables = match intrinsic(uri) {
            Some((name, Value::Sequence(s))) if name == "Sub" && s.len() == 2 => &s[1],
            _ => panic!("{id}: IntegrationUri is !Sub [text, {{Alias: !Ref <Fn>.Alias}}]"),
        };
        assert!(
            sub_text(uri).is_some_and(|t| t.contains("/functions/${Alias}/invocations")),
            "{id}"
        );
        assert!(
            get(variables, &["Alias"]).and_then(alias_of).is_some(),
            "{id} invokes a function, not its alias"
        );
    }
    // And no unqualified function ARN anywhere.
    let mut all = Vec::new();
    walk(get(&template, &["Resources"]).expect("Resources"), &mut all);
    for value in all {
        if let Some((id, attribute)) = get_att(value) {
            assert!(
                !(ids.contains(id.as_str()) && attribute == "Arn"),
                "{id}.Arn names $LATEST, not the alias"
            );
        }
        if let Some(text) = sub_text(value).filter(|_| intrinsic(value).is_some()) {
            for id in &ids {
                assert!(
                    !text.contains(&format!("${{{id}.Arn}}")),
                    "{id}.Arn in a !Sub"
                );
            }
        }
    }
}

/// JSON logs at INFO (system WARN) into a log group per function with the stack's retention.
#[test]
fn every_function_logs_json_into_its_own_group_with_retention() {
    let template = template();
    let logging = get(globals(&template), &["LoggingConfig"]).expect("Globals LoggingConfig");
    assert_eq!(str_at(logging, &["LogFormat"]), Some("JSON"));
    assert_eq!(str_at(logging, &["ApplicationLogLevel"]), Some("INFO"));
    assert_eq!(str_at(logging, &["SystemLogLevel"]), Some("WARN"));
    let mut names = BTreeSet::new();
    for f in functions(&template) {
        let group = get(f.properties, &["LoggingConfig", "LogGroup"])
            .and_then(ref_of)
            .unwrap_or_else(|| panic!("{}: LoggingConfig.LogGroup is not !Ref <group>", f.id));
        assert_eq!(group, format!("{}LogGroup", f.base), "{}", f.id);
        let group = resource(&template, group);
        assert_eq!(str_at(group, &["Type"]), Some("AWS::Logs::LogGroup"));
        assert_eq!(
            get(group, &["Properties", "RetentionInDays"]).and_then(ref_of),
            Some("LogRetentionDays"),
            "{}",
            f.id
        );
        let name = get(group, &["Properties", "LogGroupName"])
            .and_then(sub_text)
            .expect("LogGroupName");
        assert!(
            name.ends_with(&format!("/{}", f.binary)),
            "{name} names {}",
            f.binary
        );
        assert!(names.insert(name.to_string()), "{name} twice");
    }
}

/// shared/API.md, Conventions: CORS for the configured origins on every REST path, the
/// preflight without the authorizer, and the gateway's own errors too.
#[test]
fn every_rest_path_answers_cors_preflights_without_the_authorizer() {
    let template = template();
    let parameter = mapping(&template, &["Parameters", "CorsAllowedOrigins"]);
    assert_eq!(
        parameter.get("Type").and_then(Value::as_str),
        Some("String")
    );
    assert_eq!(
        get(
            globals(&template),
            &["Environment", "Variables", "CORS_ALLOWED_ORIGINS"]
        )
        .and_then(ref_of),
        Some("CorsAllowedOrigins")
    );

    let api = get(resource(&template, "FestaApi"), &["Properties"]).expect("Properties");
    assert_eq!(
        get(api, &["MergeDefinitions"]).and_then(Value::as_bool),
        Some(true)
    );
    assert_eq!(
        get(api, &["Auth", "AddDefaultAuthorizerToCorsPreflight"]).and_then(Value::as_bool),
        Some(false)
    );
    let paths = mapping(api, &["DefinitionBody", "paths"]);
    let mut routes = api_routes(&template);
    routes
        .entry("/health".into())
        .or_default()
        .insert("GET".into());
    assert!(routes.contains_key("/openapi.json"));
    for (path, methods) in &routes {
        let options = paths
            .get(path.as_str())
            .and_then(|p| p.get("options"))
            .unwrap_or_else(|| panic!("{path}: no OPTIONS preflight in FestaApi's DefinitionBody"));
        assert_eq!(
            get(options, &["security"]),
            Some(&serde_yaml_ng::from_str::<Value>("[{NONE: []}]").unwrap()),
            "{path}: the preflight must not use the authorizer"
        );
        let integration = get(options, &["x-amazon-apigateway-integration"]).expect("integration");
        assert_eq!(str_at(integration, &["type"]), Some("mock"), "{path}");
        let response = get(integration, &["responses", "default"]).expect("default response");
        assert_eq!(str_at(response, &["statusCode"]), Some("204"), "{path}");
        assert!(get(options, &["responses", "204"]).is_some(), "{path}");
        let header = |name: &str| {
            str_at(
                response,
                &[
                    "responseParameters",
                    &format!("method.response.header.{name}"),
                ],
            )
            .unwrap_or_else(|| panic!("{path}: no {name}"))
            .trim_matches('\'')
            .to_string()
        };
        let allowed_methods: BTreeSet<String> = header("Access-Control-Allow-Methods")
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        for method in methods
            .iter()
            .chain(std::iter::once(&"OPTIONS".to_string()))
        {
            assert!(
                allowed_methods.contains(method),
                "{path}: {method} not allowed"
            );
        }
        let allowed_headers: BTreeSet<String> = header("Access-Control-Allow-Headers")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let expected: BTreeSet<String> = ALLOWED_HEADERS
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        assert_eq!(allowed_headers, expected, "{path}");
        assert!(
            header("Access-Control-Max-Age").parse::<u32>().is_ok(),
            "{path}"
        );
        assert_eq!(header("Vary"), "Origin", "{path}");
        // The origin: echoed only when it is one of the parameter's list, never '*'.
        assert!(
            str_at(
                response,
                &[
                    "responseParameters",
                    "method.response.header.Access-Control-Allow-Origin"
                ]
            )
            .is_none(),
            "{path}: a fixed Access-Control-Allow-Origin"
        );
        let vtl =
            get(response, &["responseTemplates", "application/json"]).expect("responseTemplates");
        assert!(
            matches!(intrinsic(vtl), Some((name, _)) if name == "Sub"),
            "{path}"
        );
        let vtl = sub_text(vtl).expect("text");
        for needle in [
            "\"${CorsAllowedOrigins}\".split(\",\")",
            "$allowed == $origin",
            "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)",
        ] {
            assert!(
                vtl.contains(needle),
                "{path}: the origin check lacks {needle}"
            );
        }
    }
    // No preflight left for a route that is gone.
    for path in paths.keys().filter_map(Value::as_str) {
        assert!(
            routes.contains_key(path),
            "DefinitionBody has {path}, which no route serves"
        );
    }
    // /health (a mock) answers with the same origin check.
    let health = get(
        paths.get("/health").expect("/health"),
        &[
            "get",
            "x-amazon-apigateway-integration",
            "responses",
            "default",
        ],
    )
    .expect("/health integration response");
    let body = get(health, &["responseTemplates", "application/json"])
        .and_then(sub_text)
        .expect("body");
    assert!(
        body.contains("responseOverride.header.Access-Control-Allow-Origin")
            && body.ends_with("{\"status\":\"ok\"}\n")
    );

    // API Gateway's own errors carry CORS headers (echoing the origin: see the template).
    let responses = mapping(api, &["GatewayResponses"]);
    for kind in [
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
        "THROTTLED",
        "AUTHORIZER_FAILURE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ] {
        assert!(responses.contains_key(kind), "no {kind} gateway response");
    }
    // An authorizer that cannot reach the session store is an outage: 503 with Retry-After.
    let failure = responses
        .get("AUTHORIZER_FAILURE")
        .expect("AUTHORIZER_FAILURE");
    assert_eq!(str_at(failure, &["StatusCode"]), Some("503"));
    assert_eq!(
        str_at(failure, &["ResponseParameters", "Headers", "Retry-After"]),
        Some("'2'")
    );
    for (kind, response) in responses {
        let headers = get(response, &["ResponseParameters", "Headers"]).expect("Headers");
        assert_eq!(
            str_at(headers, &["Access-Control-Allow-Origin"]),
            Some("method.request.header.Origin"),
            "{kind:?}"
        );
        assert_eq!(str_at(headers, &["Vary"]), Some("'Origin'"), "{kind:?}");
        assert!(
            get(headers, &["Access-Control-Allow-Credentials"]).is_none(),
            "{kind:?}"
        );
    }
}

/// `GET /openapi.json`: its own public function, no AWS permissions, not in the VPC.
#[test]
fn the_openapi_document_is_a_public_function_with_no_permissions() {
    let template = template();
    let functions = functions(&template);
    let f = functions
        .iter()
        .find(|f| f.id == "OpenApiFunction")
        .expect("OpenApiFunction");
    assert_eq!(f.binary, "openapi");
    assert_eq!(f.code_uri, "./functions/openapi");
    let events = f.events("Api");
    assert_eq!(events.len(), 1);
    assert_eq!(str_at(events[0], &["Path"]), Some("/openapi.json"));
    assert_eq!(str_at(events[0], &["Method"]), Some("get"));
    assert_eq!(str_at(events[0], &["Auth", "Authorizer"]), Some("NONE"));
    assert!(
        get(f.properties, &["Policies"]).is_none(),
        "no AWS permissions"
    );
    assert!(
        get(f.properties, &["VpcConfig"]).is_none(),
        "not in the VPC"
    );
}

/// Access logs (JSON, retention) and throttling on both API stages, as stack parameters.
#[test]
fn both_api_stages_log_json_and_throttle() {
    let template = template();
    let log_group = |value: &Value| {
        let (id, attribute) = get_att(value).expect("!GetAtt <group>.Arn");
        assert_eq!(attribute, "Arn");
        let group = resource(&template, &id);
        assert_eq!(str_at(group, &["Type"]), Some("AWS::Logs::LogGroup"));
        assert_eq!(
            get(group, &["Properties", "RetentionInDays"]).and_then(ref_of),
            Some("LogRetentionDays")
        );
    };
    // A format is JSON once API Gateway fills its variables in.
    let json_format = |format: &str| {
        let filled = format.replace("$context.error.messageString", "\"message\"");
        let filled: String = filled
            .split('"')
            .map(|part| {
                if part.starts_with("$context.") {
                    "value"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("\"");
        let parsed: serde_json::Value = serde_json::from_str(&filled)
            .unwrap_or_else(|e| panic!("access log format is not JSON ({e}): {format}"));
        assert!(parsed.get("requestId").is_some(), "{format}");
        assert!(
            !format.contains("$context.path"),
            "log the template path, not the user's"
        );
    };

    let api = get(resource(&template, "FestaApi"), &["Properties"]).expect("Properties");
    log_group(get(api, &["AccessLogSetting", "DestinationArn"]).expect("DestinationArn"));
    json_format(str_at(api, &["AccessLogSetting", "Format"]).expect("Format"));
    let settings = items(get(api, &["MethodSettings"]));
    let all = settings
        .iter()
        .find(|s| {
            str_at(s, &["ResourcePath"]) == Some("/*") && str_at(s, &["HttpMethod"]) == Some("*")
        })
        .expect("MethodSettings for /* *");
    assert_eq!(
        get(all, &["ThrottlingRateLimit"]).and_then(ref_of),
        Some("ApiThrottlingRateLimit")
    );
    assert_eq!(
        get(all, &["ThrottlingBurstLimit"]).and_then(ref_of),
        Some("ApiThrottlingBurstLimit")
    );

    let stage = get(resource(&template, "ChatStage"), &["Properties"]).expect("Properties");
    log_group(get(stage, &["AccessLogSettings", "DestinationArn"]).expect("DestinationArn"));
    json_format(str_at(stage, &["AccessLogSettings", "Format"]).expect("Format"));
    assert_eq!(
        get(stage, &["DefaultRouteSettings", "ThrottlingRateLimit"]).and_then(ref_of),
        Some("ChatThrottlingRateLimit")
    );
    assert_eq!(
        get(stage, &["DefaultRouteSettings", "ThrottlingBurstLimit"]).and_then(ref_of),
        Some("ChatThrottlingBurstLimit")
    );
    // Access logging needs the account's CloudWatch role first.
    for id in ["FestaApi", "ChatStage"] {
        let depends: Vec<&str> = items(get(resource(&template, id), &["DependsOn"]))
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            depends.contains(&"ApiGatewayAccount"),
            "{id} must wait for ApiGatewayAccount"
        );
    }
}

/// Alarms to the alarm topic on every dead-letter queue, REST 5xx, WebSocket errors and the
/// admitter's lag.
#[test]
fn operations_alarms_notify_the_alarm_topic() {
    let template = template();
    assert_eq!(
        str_at(resource(&template, "AlarmTopic"), &["Type"]),
        Some("AWS::SNS::Topic")
    );
    let subscription = resource(&template, "AlarmEmailSubscription");
    assert_eq!(str_at(subscription, &["Condition"]), Some("HasAlarmEmail"));
    assert_eq!(
        get(subscription, &["Properties", "Endpoint"]).and_then(ref_of),
        Some("AlarmEmail")
    );

    let alarms: Vec<(&str, &Value)> = of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(id, a)| (id, get(a, &["Properties"]).expect("Properties")))
        .collect();
    let notifying = |metric: &str, dimension: &str, matches: &dyn Fn(&Value) -> bool| -> usize {
        alarms
            .iter()
            .filter(|(_, a)| str_at(a, &["MetricName"]) == Some(metric))
            .filter(|(_, a)| {
                items(get(a, &["Dimensions"])).into_iter().any(|d| {
                    str_at(d, &["Name"]) == Some(dimension)
                        && get(d, &["Value"]).is_some_and(matches)
                })
            })
            .inspect(|(id, a)| {
                let actions: Vec<Option<&str>> = items(get(a, &["AlarmActions"]))
                    .into_iter()
                    .map(ref_of)
                    .collect();
                assert_eq!(
                    actions,
                    vec![Some("AlarmTopic")],
                    "{id} must notify AlarmTopic"
                );
            })
            .count()
    };

    // Every queue some queue or subscription dead-letters into.
    let mut dead_letter_queues = BTreeSet::new();
    for value in {
        let mut all = Vec::new();
        walk(get(&template, &["Resources"]).expect("Resources"), &mut all);
        all
    } {
        if let Some(target) = get(value, &["deadLetterTargetArn"]).and_then(get_att) {
            dead_letter_queues.insert(target.0);
        }
    }
    assert!(dead_letter_queues.len() >= 3, "{dead_letter_queues:?}");
    for queue in &dead_letter_queues {
        let is_queue = |v: &Value| get_att(v) == Some((queue.clone(), "QueueName".into()));
        assert_eq!(
            notifying("ApproximateNumberOfMessagesVisible", "QueueName", &is_queue),
            1,
            "no depth alarm on dead-letter queue {queue}"
        );
    }

    let admitter = functions(&template)
        .into_iter()
        .find(|f| f.binary == "queue-admitter")
        .expect("queue-admitter");
    let admit_queue = admitter
        .trigger_queues()
        .into_iter()
        .next()
        .expect("its queue");
    let is_admit_queue = |v: &Value| get_att(v) == Some((admit_queue.clone(), "QueueName".into()));
    assert_eq!(
        notifying(
            "ApproximateAgeOfOldestMessage",
            "QueueName",
            &is_admit_queue
        ),
        1,
        "no alarm on the admitter falling behind"
    );
    assert_eq!(
        notifying("5XXError", "ApiName", &|v: &Value| ref_of(v)
            == Some("AWS::StackName")),
        1,
        "no REST API 5xx alarm (the API's name is its title, the stack name)"
    );
    assert_eq!(
        notifying("ExecutionError", "ApiId", &|v: &Value| ref_of(v)
            == Some("ChatApi")),
        1,
        "no WebSocket API error alarm"
    );
    let title = get(
        resource(&template, "FestaApi"),
        &["Properties", "DefinitionBody", "info", "title"],
    )
    .and_then(ref_of);
    assert_eq!(title, Some("AWS::StackName"));
}

#[test]
fn tables_with_user_data_cannot_be_deleted() {
    let template = template();
    for table in PROTECTED_TABLES {
        let table_resource = resource(&template, table);
        assert_eq!(
            get(table_resource, &["Properties", "DeletionProtectionEnabled"])
                .and_then(Value::as_bool),
            Some(true),
            "{table}"
        );
        assert_eq!(
            str_at(table_resource, &["DeletionPolicy"]),
            Some("Retain"),
            "{table}"
        );
    }
    for table in UNPROTECTED_TABLES {
        assert_ne!(
            get(
                resource(&template, table),
                &["Properties", "DeletionProtectionEnabled"]
            )
            .and_then(Value::as_bool),
            Some(true),
            "{table} holds only live connections"
        );
    }
    let tables: BTreeSet<&str> = of_type(&template, "AWS::DynamoDB::Table")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let listed: BTreeSet<&str> = PROTECTED_TABLES
        .iter()
        .chain(UNPROTECTED_TABLES)
        .copied()
        .collect();
    assert_eq!(tables, listed, "a new table must be classified here");
}

/// The JWT key lives in Secrets Manager: generated there, its ARN given to the four functions
/// that sign or check tokens, each allowed to read that one secret, and ws-connect (in the VPC,
/// no NAT) reaching it through an interface endpoint that admits only that read.
#[test]
fn the_jwt_key_is_a_generated_secret_only_its_readers_may_read() {
    let template = template();
    assert!(
        get(&template, &["Parameters", "JwtSecret"]).is_none(),
        "the key is no longer a parameter"
    );
    let secret = resource(&template, "JwtSecret");
    assert_eq!(
        str_at(secret, &["Type"]),
        Some("AWS::SecretsManager::Secret")
    );
    let generate =
        get(secret, &["Properties", "GenerateSecretString"]).expect("GenerateSecretString");
    assert_eq!(
        get(generate, &["PasswordLength"]).and_then(Value::as_u64),
        Some(64)
    );
    assert_eq!(
        get(generate, &["ExcludePunctuation"]).and_then(Value::as_bool),
        Some(true)
    );
    assert!(get(secret, &["Properties", "SecretString"]).is_none());
    assert!(!global_variables(&template).contains("JWT_SECRET"));

    let functions = functions(&template);
    for f in &functions {
        let variables = f.variables();
        assert!(
            !variables.contains("JWT_SECRET"),
            "{}: JWT_SECRET is for local runs only",
            f.binary
        );
        let reader = JWT_READERS.contains(&f.binary.as_str());
        let arn = get(
            f.properties,
            &["Environment", "Variables", "JWT_SECRET_ARN"],
        )
        .and_then(ref_of);
        let may_read = f
            .resources_allowed("secretsmanager:GetSecretValue")
            .contains("JwtSecret");
        assert_eq!(
            arn == Some("JwtSecret"),
            reader,
            "{}: JWT_SECRET_ARN",
            f.binary
        );
        assert_eq!(
            may_read, reader,
            "{}: GetSecretValue on JwtSecret",
            f.binary
        );
        if reader {
            assert_eq!(
                f.resources_allowed("secretsmanager:GetSecretValue"),
                BTreeSet::from(["JwtSecret".to_string()]),
                "{} may read only the JWT key",
                f.binary
            );
        }
        // In the VPC (no NAT from the private subnets): through the endpoint.
        if reader && get(f.properties, &["VpcConfig"]).is_some() {
            let endpoint = get(
                resource(&template, "SecretsManagerEndpoint"),
                &["Properties"],
            )
            .expect("Properties");
            assert!(
                sub_text(get(endpoint, &["ServiceName"]).expect("ServiceName"))
                    .is_some_and(|s| s.ends_with(".secretsmanager"))
            );
            let subnets = |v: &Value| -> BTreeSet<String> {
                items(Some(v))
                    .into_iter()
                    .filter_map(ref_of)
                    .map(String::from)
                    .collect()
            };
            assert_eq!(
                subnets(get(endpoint, &["SubnetIds"]).expect("SubnetIds")),
                subnets(get(f.properties, &["VpcConfig", "SubnetIds"]).expect("SubnetIds")),
                "{}'s subnets reach the endpoint",
                f.binary
            );
            let statements = items(get(endpoint, &["PolicyDocument", "Statement"]));
            assert_eq!(statements.len(), 1);
            assert_eq!(
                str_at(statements[0], &["Action"]),
                Some("secretsmanager:GetSecretValue")
            );
            assert_eq!(
                get(statements[0], &["Resource"]).and_then(ref_of),
                Some("JwtSecret")
            );
        }
    }
}

/// Sign-out closes the user's WebSocket connections (shared/API.md): the signout function
/// reaches Redis from inside the VPC and may only DELETE connections of the chat stage. And a
/// revoked access token is refused within at most 60 s: the authorizer's cache is no longer.
#[test]
fn signout_closes_sockets_and_the_authorizer_caches_at_most_a_minute() {
    let template = template();
    let functions = functions(&template);
    let signout = functions
        .iter()
        .find(|f| f.binary == "signout")
        .expect("a signout function");
    assert!(
        get(signout.properties, &["VpcConfig", "SubnetIds"]).is_some(),
        "signout reaches Redis in the VPC"
    );
    let manage: Vec<String> = signout
        .statements()
        .into_iter()
        .filter(|st| {
            items(get(st, &["Action"]))
                .into_iter()
                .any(|a| a.as_str() == Some("execute-api:ManageConnections"))
        })
        .filter_map(|st| get(st, &["Resource"]).and_then(sub_text).map(String::from))
        .collect();
    assert_eq!(manage.len(), 1, "{manage:?}");
    assert!(
        manage[0].contains("${ChatApi}/${Stage}/DELETE/@connections/"),
        "{}",
        manage[0]
    );
    let ttl = get(
        resource(&template, "FestaApi"),
        &[
            "Properties",
            "Auth",
            "Authorizers",
            "TokenAuthorizer",
            "Identity",
            "ReauthorizeEvery",
        ],
    )
    .and_then(Value::as_u64)
    .expect("the authorizer's cache time is set");
    assert!(ttl <= 60, "authorizer results cached {ttl} s");
}

/// Redis holds authoritative state: two nodes in two AZs with failover, nothing evicted.
#[test]
fn redis_fails_over_and_never_evicts() {
    let template = template();
    let group = get(resource(&template, "ReplicationGroup"), &["Properties"]).expect("Properties");
    assert!(get(group, &["NumCacheClusters"]).and_then(Value::as_u64) >= Some(2));
    assert_eq!(
        get(group, &["AutomaticFailoverEnabled"]).and_then(Value::as_bool),
        Some(true)
    );
    assert_eq!(
        get(group, &["MultiAZEnabled"]).and_then(Value::as_bool),
        Some(true)
    );
    let parameters = get(group, &["CacheParameterGroupName"])
        .and_then(ref_of)
        .expect("!Ref group");
    let parameters = resource(&template, parameters);
    assert_eq!(
        str_at(parameters, &["Type"]),
        Some("AWS::ElastiCache::ParameterGroup")
    );
    assert_eq!(
        str_at(
            parameters,
            &["Properties", "Properties", "maxmemory-policy"]
        ),
        Some("noeviction")
    );
}

/// samconfig.toml: separate dev and prod stacks, each building in source and deploying only
/// parameters the template has; no secret.
#[test]
fn samconfig_has_dev_and_prod_without_secrets() {
    let template = template();
    let parameters = mapping(&template, &["Parameters"]);
    let config = repo_file("samconfig.toml");
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for line in config.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_string();
        } else if let Some((key, value)) = line.split_once(" = ").filter(|_| !line.starts_with('#'))
        {
            sections
                .entry(current.clone())
                .or_default()
                .insert(key.to_string(), value.trim_matches('"').to_string());
        }
    }
    let mut stacks = BTreeSet::new();
    for env in ["default", "dev", "prod"] {
        let build = &sections[&format!("{env}.build.parameters")];
        assert_eq!(
            build.get("build_in_source").map(String::as_str),
            Some("true"),
            "{env}"
        );
        stacks.insert(sections[&format!("{env}.global.parameters")]["stack_name"].clone());
    }
    assert_eq!(
        stacks.len(),
        3,
        "dev, prod and default are different stacks"
    );
    for env in ["dev", "prod"] {
        let deploy = &sections[&format!("{env}.deploy.parameters")];
        let overrides = deploy
            .get("parameter_overrides")
            .expect("parameter_overrides");
        for pair in overrides.split_whitespace() {
            let (key, _) = pair.split_once('=').expect("Key=Value");
            assert!(
                parameters.contains_key(key),
                "{env}: {key} is no template parameter"
            );
        }
        let deployment = overrides
            .split_whitespace()
            .find_map(|p| p.strip_prefix("DeploymentType="))
            .expect("DeploymentType");
        if env == "prod" {
            assert_ne!(deployment, "AllAtOnce", "prod deploys gradually");
        }
    }
    let settings: String = config
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase();
    for word in ["secret=", "password", "jwtsecret", "token"] {
        assert!(!settings.contains(word), "samconfig.toml holds {word}");
    }
}

/// docs/deployment-contract.md says what the template does: every binary and every variable
/// the template sets appear there.
#[test]
fn the_deployment_contract_names_every_binary_and_variable() {
    let template = template();
    let doc = repo_file("docs/deployment-contract.md");
    let mut variables = global_variables(&template);
    for f in functions(&template) {
        assert!(
            doc.contains(&format!("| `{}` |", f.binary)),
            "the contract lacks binary {}",
            f.binary
        );
        variables.extend(f.variables());
    }
    let section = doc
        .split("## Environment variables")
        .nth(1)
        .expect("an Environment variables section");
    for variable in variables {
        assert!(
            section.contains(&format!("`{variable}`")),
            "the contract lacks variable {variable}"
        );
    }
}

// ------------------------------------------------------------------------ WAF ---

/// The account routes of shared/API.md that take no bearer token: the WAF's tighter limit
/// covers each (its pattern is checked against them and against the template's public auth
/// routes, so a new one cannot be forgotten).
const ACCOUNT_ROUTES: &[&str] = &[
    "/signup",
    "/login",
    "/confirm-signup",
    "/resend-confirmation",
    "/forgot-password",
    "/confirm-forgot-password",
    "/refresh-token",
];

/// The one web ACL of the template, with its logical id.
fn web_acl(template: &Value) -> (&str, &Value) {
    let acls = of_type(template, "AWS::WAFv2::WebACL");
    assert_eq!(acls.len(), 1, "one web ACL, in front of the REST stage");
    let (id, acl) = acls[0];
    (id, get(acl, &["Properties"]).expect("Properties"))
}

/// A `Number` parameter's default.
fn number_default(template: &Value, parameter: &str) -> u64 {
    let p = get(template, &["Parameters", parameter])
        .unwrap_or_else(|| panic!("no parameter {parameter}"));
    assert_eq!(str_at(p, &["Type"]), Some("Number"), "{parameter}");
    get(p, &["Default"])
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{parameter}: no numeric default"))
}

/// The web ACL's rules by name.
fn waf_rules(acl: &Value) -> BTreeMap<String, &Value> {
    items(get(acl, &["Rules"]))
        .into_iter()
        .map(|r| (str_at(r, &["Name"]).expect("Name").to_string(), r))
        .collect()
}

/// WAF is on by default and guards the REST stage SAM makes for FestaApi; everything about it
/// switches together with the stack option.
#[test]
fn waf_guards_the_rest_stage_by_default() {
    let template = template();
    let option = get(&template, &["Parameters", "WafEnabled"]).expect("parameter WafEnabled");
    assert_eq!(
        str_at(option, &["Default"]),
        Some("true"),
        "WAF on by default"
    );
    let allowed: Vec<&str> = items(get(option, &["AllowedValues"]))
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(allowed, ["true", "false"]);
    let condition = get(&template, &["Conditions", "WafOn"]).expect("condition WafOn");
    let (name, arguments) = intrinsic(condition).expect("!Equals");
    assert_eq!(name, "Equals");
    let arguments = items(Some(arguments));
    assert_eq!(arguments.len(), 2);
    assert_eq!(ref_of(arguments[0]), Some("WafEnabled"));
    assert_eq!(arguments[1].as_str(), Some("true"));

    let (acl_id, acl) = web_acl(&template);
    assert_eq!(str_at(acl, &["Scope"]), Some("REGIONAL"));
    assert!(get(acl, &["DefaultAction", "Allow"]).is_some());
    let visible = |what: &str, v: &Value| {
        for flag in ["CloudWatchMetricsEnabled", "SampledRequestsEnabled"] {
            assert_eq!(
                get(v, &["VisibilityConfig", flag]).and_then(Value::as_bool),
                Some(true),
                "{what}: {flag}"
            );
        }
    };
    visible(acl_id, acl);
    for (name, rule) in waf_rules(acl) {
        visible(&name, rule);
    }

    // Associated with the stage of FestaApi: `FestaApi.Stage` is SAM's reference to the stage
    // it generates, which also makes the association wait for that stage.
    let associations = of_type(&template, "AWS::WAFv2::WebACLAssociation");
    assert_eq!(associations.len(), 1);
    let (association_id, association) = associations[0];
    let properties = get(association, &["Properties"]).expect("Properties");
    assert_eq!(
        get(properties, &["WebACLArn"]).and_then(get_att),
        Some((acl_id.to_string(), "Arn".to_string()))
    );
    let arn = get(properties, &["ResourceArn"]).expect("ResourceArn");
    let text = sub_text(arn).expect("!Sub ResourceArn");
    let (prefix, stage) = text
        .split_once("/stages/${")
        .unwrap_or_else(|| panic!("{association_id}: {text}"));
    assert_eq!(
        prefix,
        "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${FestaApi}"
    );
    let stage = stage.strip_suffix('}').expect("ends with the stage");
    let stage_ref = match intrinsic(arn) {
        Some((_, Value::Sequence(s))) => get(s.get(1).expect("variables"), &[stage])
            .and_then(ref_of)
            .map(String::from),
        _ => Some(stage.to_string()),
    };
    assert_eq!(stage_ref.as_deref(), Some("FestaApi.Stage"), "{text}");

    // The ACL and everything that names it exist exactly when the option is on.
    for (id, r) in resources(&template) {
        let id = id.as_str().expect("logical id");
        let mut all = Vec::new();
        walk(r, &mut all);
        let names_acl = all.iter().any(|v| {
            get_att(v).is_some_and(|(r, _)| r == acl_id)
                || ref_of(v) == Some(acl_id)
                || ref_of(v).is_some_and(|p| p.starts_with("Waf"))
        });
        if id == acl_id || names_acl || str_at(r, &["Type"]).is_some_and(|t| t.contains("WAF")) {
            assert_eq!(str_at(r, &["Condition"]), Some("WafOn"), "{id}");
        }
    }
    for (id, output) in mapping(&template, &["Outputs"]) {
        let mut all = Vec::new();
        walk(output, &mut all);
        if all
            .iter()
            .any(|v| get_att(v).is_some_and(|(r, _)| r == acl_id))
        {
            assert_eq!(str_at(output, &["Condition"]), Some("WafOn"), "{id:?}");
        }
    }
}

/// Per client address: a limit on every route, a tighter one on the account routes' POSTs,
/// both stack parameters, both answered with the API's 429 problem document.
#[test]
fn waf_limits_each_address_and_the_account_routes_tighter() {
    let template = template();
    let (_, acl) = web_acl(&template);
    let rules = waf_rules(acl);
    let rate_rules: Vec<(&String, &Value)> = rules
        .iter()
        .filter_map(|(name, r)| {
            get(r, &["Statement", "RateBasedStatement"]).map(|statement| (name, statement))
        })
        .collect();
    assert_eq!(rate_rules.len(), 2, "{:?}", rules.keys());
    let windows: BTreeSet<u64> = [60, 120, 300, 600].into();
    let mut limits = BTreeMap::new();
    for (name, statement) in &rate_rules {
        // Per connection address: a forwarded header would let anyone pick their own.
        assert_eq!(
            str_at(statement, &["AggregateKeyType"]),
            Some("IP"),
            "{name}"
        );
        let limit = get(statement, &["Limit"])
            .and_then(ref_of)
            .unwrap_or_else(|| panic!("{name}: the limit is a stack parameter"));
        let window = get(statement, &["EvaluationWindowSec"])
            .and_then(ref_of)
            .unwrap_or_else(|| panic!("{name}: the window is a stack parameter"));
        let allowed: BTreeSet<u64> =
            items(get(&template, &["Parameters", window, "AllowedValues"]))
                .into_iter()
                .filter_map(Value::as_u64)
                .collect();
        assert!(
            !allowed.is_empty() && allowed.is_subset(&windows),
            "{window}: WAF accepts only {windows:?}"
        );
        assert!(windows.contains(&number_default(&template, window)));
        limits.insert(
            get(statement, &["ScopeDownStatement"]).is_some(),
            number_default(&template, limit),
        );
    }
    let (everyone, accounts) = (limits[&false], limits[&true]);
    assert_eq!(everyone, 2000, "every route, per address");
    assert!(accounts < everyone, "the account routes' limit is tighter");

    // The account rule counts POSTs whose path ends in an account route.
    let (account_rule, account) = rate_rules
        .iter()
        .find(|(_, s)| get(s, &["ScopeDownStatement"]).is_some())
        .expect("account rule");
    let parts = items(get(
        account,
        &["ScopeDownStatement", "AndStatement", "Statements"],
    ));
    let method = parts
        .iter()
        .find_map(|p| get(p, &["ByteMatchStatement"]))
        .expect("a method match");
    assert!(get(method, &["FieldToMatch", "Method"]).is_some());
    assert_eq!(str_at(method, &["PositionalConstraint"]), Some("EXACTLY"));
    assert_eq!(str_at(method, &["SearchString"]), Some("POST"));
    let path = parts
        .iter()
        .find_map(|p| get(p, &["RegexMatchStatement"]))
        .expect("a path pattern");
    assert!(get(path, &["FieldToMatch", "UriPath"]).is_some());
    let pattern = str_at(path, &["RegexString"]).expect("RegexString");
    let pattern = regex_lite::Regex::new(pattern).expect("a regular expression");
    // As API Gateway's URL (with the stage), a custom domain's (without) and a trailing slash.
    let forms = |route: &str| -> Vec<String> {
        vec![
            route.to_string(),
            format!("/prod{route}"),
            format!("/prod{route}/"),
            format!("/api{route}"),
        ]
    };
    let mut account_routes: BTreeSet<String> =
        ACCOUNT_ROUTES.iter().map(|r| r.to_string()).collect();
    for f in functions(&template) {
        for event in f.events("Api") {
            if f.code_uri == "./functions/auth"
                && str_at(event, &["Auth", "Authorizer"]) == Some("NONE")
            {
                assert_eq!(str_at(event, &["Method"]), Some("post"), "{}", f.binary);
                account_routes.insert(str_at(event, &["Path"]).expect("Path").to_string());
            }
        }
    }
    for route in &account_routes {
        for form in forms(route) {
            assert!(pattern.is_match(&form), "{account_rule} misses {form}");
        }
    }
    // No other POST route falls under it, whatever its path variables hold.
    for (route, methods) in api_routes(&template) {
        if account_routes.contains(&route) || !methods.contains("POST") {
            continue;
        }
        for name in ACCOUNT_ROUTES {
            let filled: String = route
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        name.trim_start_matches('/')
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for form in forms(&filled) {
                assert!(!pattern.is_match(&form), "{account_rule} catches {form}");
            }
        }
    }

    // Both answer 429 with the API's problem document, Retry-After and a readable CORS header.
    let bodies = mapping(acl, &["CustomResponseBodies"]);
    for (name, _) in &rate_rules {
        let response = get(rules[*name], &["Action", "Block", "CustomResponse"])
            .unwrap_or_else(|| panic!("{name}: blocks with a custom response"));
        assert_eq!(
            get(response, &["ResponseCode"]).and_then(Value::as_u64),
            Some(429),
            "{name}"
        );
        let key = str_at(response, &["CustomResponseBodyKey"]).expect("body key");
        let body = bodies
            .get(key)
            .unwrap_or_else(|| panic!("{name}: no body {key}"));
        assert_eq!(str_at(body, &["ContentType"]), Some("APPLICATION_JSON"));
        let problem: serde_json::Value =
            serde_json::from_str(str_at(body, &["Content"]).expect("Content"))
                .expect("the body is JSON");
        assert_eq!(problem["type"], "about:blank");
        assert_eq!(problem["title"], "Too Many Requests");
        assert_eq!(problem["status"], 429);
        assert_eq!(problem["code"], "RATE_LIMITED");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        let headers: BTreeMap<&str, &Value> = items(get(response, &["ResponseHeaders"]))
            .into_iter()
            .map(|h| {
                (
                    str_at(h, &["Name"]).expect("Name"),
                    get(h, &["Value"]).expect("Value"),
                )
            })
            .collect();
        let window = get(rate_rules[0].1, &["EvaluationWindowSec"]).and_then(ref_of);
        assert_eq!(
            headers.get("Retry-After").and_then(|v| ref_of(v)),
            window,
            "{name}: Retry-After is the window"
        );
        assert_eq!(
            headers
                .get("Access-Control-Allow-Origin")
                .and_then(|v| v.as_str()),
            Some("*")
        );
        assert_eq!(
            headers
                .get("Access-Control-Expose-Headers")
                .and_then(|v| v.as_str()),
            Some("Retry-After")
        );
    }
}

/// AWS's managed rules after the rate limits, with the body-size rule only counting: the API
/// accepts 64 KiB and answers 413 itself (shared/API.md), the managed rule would block 8 KB.
#[test]
fn waf_runs_the_managed_rules_and_leaves_body_size_to_the_api() {
    let template = template();
    let (_, acl) = web_acl(&template);
    let rules = items(get(acl, &["Rules"]));
    let priorities: BTreeSet<u64> = rules
        .iter()
        .map(|r| {
            get(r, &["Priority"])
                .and_then(Value::as_u64)
                .expect("Priority")
        })
        .collect();
    assert_eq!(priorities.len(), rules.len(), "priorities are unique");
    let managed = |name: &str| {
        rules
            .iter()
            .find(|r| str_at(r, &["Statement", "ManagedRuleGroupStatement", "Name"]) == Some(name))
            .unwrap_or_else(|| panic!("no managed rule group {name}"))
    };
    let mut last_rate = 0;
    for r in &rules {
        if get(r, &["Statement", "RateBasedStatement"]).is_some() {
            last_rate = last_rate.max(get(r, &["Priority"]).and_then(Value::as_u64).unwrap());
        }
    }
    for name in [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    ] {
        let rule = managed(name);
        assert_eq!(
            str_at(
                rule,
                &["Statement", "ManagedRuleGroupStatement", "VendorName"]
            ),
            Some("AWS")
        );
        // None: the group's own actions (block) apply; Count would only watch.
        assert!(get(rule, &["OverrideAction", "None"]).is_some(), "{name}");
        assert!(
            get(rule, &["Priority"]).and_then(Value::as_u64) > Some(last_rate),
            "{name}: requests it blocks still count against the rate limits"
        );
    }
    let overrides: BTreeMap<&str, &Value> = items(get(
        managed("AWSManagedRulesCommonRuleSet"),
        &[
            "Statement",
            "ManagedRuleGroupStatement",
            "RuleActionOverrides",
        ],
    ))
    .into_iter()
    .map(|o| (str_at(o, &["Name"]).expect("Name"), o))
    .collect();
    assert_eq!(overrides.len(), 1, "only the body size is overridden");
    assert!(get(
        overrides["SizeRestrictions_BODY"],
        &["ActionToUse", "Count"]
    )
    .is_some());
}

/// WAF's blocks alarm the operators, on the web ACL's own metric.
#[test]
fn waf_blocks_raise_an_alarm() {
    let template = template();
    let (_, acl) = web_acl(&template);
    let metric = sub_text(get(acl, &["VisibilityConfig", "MetricName"]).expect("MetricName"))
        .expect("metric name");
    let alarms: Vec<(&str, &Value)> = of_type(&template, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| str_at(a, &["Properties", "Namespace"]) == Some("AWS/WAFV2"))
        .collect();
    assert_eq!(alarms.len(), 1);
    let (id, alarm) = alarms[0];
    let properties = get(alarm, &["Properties"]).expect("Properties");
    assert_eq!(str_at(properties, &["MetricName"]), Some("BlockedRequests"));
    let dimensions: BTreeMap<&str, &Value> = items(get(properties, &["Dimensions"]))
        .into_iter()
        .map(|d| {
            (
                str_at(d, &["Name"]).expect("Name"),
                get(d, &["Value"]).expect("Value"),
            )
        })
        .collect();
    assert_eq!(sub_text(dimensions["WebACL"]), Some(metric), "{id}");
    assert_eq!(dimensions["Rule"].as_str(), Some("ALL"));
    assert_eq!(ref_of(dimensions["Region"]), Some("AWS::Region"));
    let actions: Vec<Option<&str>> = items(get(properties, &["AlarmActions"]))
        .into_iter()
        .map(ref_of)
        .collect();
    assert_eq!(actions, vec![Some("AlarmTopic")]);
}

/// DESIGN.md: every alarm has a runbook line. Every alarm that notifies someone is named in
/// the README's Runbook.
#[test]
fn every_notifying_alarm_has_a_runbook_line() {
    let template = template();
    let readme = repo_file("README.md");
    let runbook = readme
        .split("## Runbook")
        .nth(1)
        .and_then(|r| r.split("\n## ").next())
        .expect("a Runbook section");
    let mut notifying = 0;
    for (id, alarm) in of_type(&template, "AWS::CloudWatch::Alarm") {
        if get(alarm, &["Properties", "AlarmActions"]).is_none() {
            continue;
        }
        notifying += 1;
        assert!(
            runbook.contains(&format!("| `{id}` |")),
            "the Runbook lacks {id}"
        );
    }
    assert!(notifying >= 8, "found {notifying} notifying alarms");
}

// ---------------------------------------------------------- least privilege ---

/// DynamoDB actions that only read. Any other DynamoDB action, including one added later or a
/// wildcard, counts as a write.
const DYNAMODB_READS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
];

/// The table every function knows as `RECORDS_TABLE`: the single table whose partitions belong
/// to different owners (users, festivals, chat rooms, devices), which only
/// `dynamodb:LeadingKeys` keeps apart.
fn records_table(template: &Value) -> String {
    get(
        globals(template),
        &["Environment", "Variables", "RECORDS_TABLE"],
    )
    .and_then(ref_of)
    .expect("RECORDS_TABLE: !Ref <table>")
    .to_string()
}

/// The DynamoDB actions of a statement.
fn dynamodb_actions(statement: &Value) -> Vec<&str> {
    items(get(statement, &["Action"]))
        .into_iter()
        .filter_map(Value::as_str)
        .filter(|a| a.starts_with("dynamodb:") || *a == "*")
        .collect()
}

/// The tables a statement's resources name (`!GetAtt T.Arn`, or `${T.Arn}/index/...`).
fn statement_tables(statement: &Value) -> Vec<Option<String>> {
    items(get(statement, &["Resource"]))
        .into_iter()
        .map(|r| {
            if let Some((id, attribute)) = get_att(r) {
                return (attribute == "Arn").then_some(id);
            }
            let text = sub_text(r)?;
            let id = text.strip_prefix("${")?.split_once(".Arn}")?.0;
            Some(id.to_string())
        })
        .collect()
}

/// The partition prefixes a statement's `ForAllValues:StringLike` `dynamodb:LeadingKeys`
/// allows (empty when it has none).
fn leading_keys(statement: &Value) -> BTreeSet<String> {
    items(get(
        statement,
        &[
            "Condition",
            "ForAllValues:StringLike",
            "dynamodb:LeadingKeys",
        ],
    ))
    .into_iter()
    .map(|v| v.as_str().expect("a LeadingKeys pattern").to_string())
    .collect()
}

/// The partitions of the records table on which `f` may use `action`.
fn partitions_allowed(f: &Function<'_>, records: &str, action: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for statement in f.statements() {
        if dynamodb_actions(statement).contains(&action)
            && statement_tables(statement).contains(&Some(records.to_string()))
        {
            let keys = leading_keys(statement);
            assert!(!keys.is_empty(), "{}: {action} on any partition", f.binary);
            out.extend(keys);
        }
    }
    out
}

/// Part of issue 12: every write to the records table, of every function (new ones included),
/// is confined by `dynamodb:LeadingKeys` to partition prefixes; no write goes through a
/// wildcard action or resource; every policy is inline, so nothing escapes this check.
#[test]
fn every_records_table_write_is_confined_to_partition_prefixes() {
    let template = template();
    let records = records_table(&template);
    let tables: BTreeSet<&str> = of_type(&template, "AWS::DynamoDB::Table")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(tables.contains(records.as_str()));
    let prefix = regex_lite::Regex::new(r"^[A-Z][A-Z_]*#\*$").unwrap();
    let mut checked = 0;
    for f in functions(&template) {
        for policy in items(get(f.properties, &["Policies"])) {
            assert!(
                get(policy, &["Statement"]).is_some(),
                "{}: only inline policies (a managed policy or SAM template escapes this test)",
                f.binary
            );
        }
        for statement in f.statements() {
            let actions = dynamodb_actions(statement);
            let writes: Vec<&&str> = actions
                .iter()
                .filter(|a| !DYNAMODB_READS.contains(a))
                .collect();
            if actions.is_empty() {
                continue;
            }
            assert_eq!(
                str_at(statement, &["Effect"]),
                Some("Allow"),
                "{}",
                f.binary
            );
            assert!(!actions.contains(&"*") && !actions.contains(&"dynamodb:*"));
            let named = statement_tables(statement);
            for table in &named {
                let table = table
                    .as_deref()
                    .unwrap_or_else(|| panic!("{}: DynamoDB on an unnamed resource", f.binary));
                assert!(tables.contains(table), "{}: {table} is no table", f.binary);
            }
            if writes.is_empty() || !named.contains(&Some(records.clone())) {
                continue;
            }
            checked += 1;
            let keys = leading_keys(statement);
            assert!(
                !keys.is_empty(),
                "{}: {writes:?} on {records} without a dynamodb:LeadingKeys condition",
                f.binary
            );
            for key in &keys {
                assert!(
                    prefix.is_match(key),
                    "{}: LeadingKeys {key} is not a partition prefix like USER#*",
                    f.binary
                );
            }
        }
    }
    assert!(checked >= 15, "checked {checked} write statements");
}

/// The reservation functions write exactly the partitions their transactions touch
/// (shared/src/adapters/dynamodb/reservations.rs): stock is only ever updated, in
/// `FESTIVAL#<id>`; the reservation, the guard and the idempotency key live in `USER#<email>`.
#[test]
fn the_reservation_functions_write_only_stock_and_the_callers_partition() {
    let template = template();
    let records = records_table(&template);
    let functions = functions(&template);
    let by_binary = |binary: &str| {
        functions
            .iter()
            .find(|f| f.binary == binary)
            .unwrap_or_else(|| panic!("no {binary}"))
    };
    let set = |keys: &[&str]| -> BTreeSet<String> { keys.iter().map(|k| k.to_string()).collect() };
    let none = BTreeSet::new();

    let create = by_binary("create-reservation");
    assert_eq!(
        partitions_allowed(create, &records, "dynamodb:UpdateItem"),
        set(&["FESTIVAL#*"])
    );
    assert_eq!(
        partitions_allowed(create, &records, "dynamodb:PutItem"),
        set(&["USER#*"])
    );
    assert_eq!(
        partitions_allowed(create, &records, "dynamodb:GetItem"),
        set(&["FESTIVAL#*", "USER#*"])
    );
    for action in ["dynamodb:DeleteItem", "dynamodb:BatchWriteItem"] {
        assert_eq!(
            partitions_allowed(create, &records, action),
            none,
            "{action}"
        );
    }

    let cancel = by_binary("cancel-reservation");
    assert_eq!(
        partitions_allowed(cancel, &records, "dynamodb:UpdateItem"),
        set(&["FESTIVAL#*", "USER#*"])
    );
    assert_eq!(
        partitions_allowed(cancel, &records, "dynamodb:DeleteItem"),
        set(&["USER#*"])
    );
    assert_eq!(
        partitions_allowed(cancel, &records, "dynamodb:GetItem"),
        set(&["USER#*"])
    );
    for action in ["dynamodb:PutItem", "dynamodb:BatchWriteItem"] {
        assert_eq!(
            partitions_allowed(cancel, &records, action),
            none,
            "{action}"
        );
    }
}

/// The authorizer reads one thing, the login session, and cannot read an account's hashes:
/// its only DynamoDB permission is GetItem on `USER#` partitions with a projection of exactly
/// the attributes the session adapter asks for.
#[test]
fn the_authorizer_reads_sessions_and_no_password_hash() {
    let template = template();
    let records = records_table(&template);
    let functions = functions(&template);
    let authorizer = functions
        .iter()
        .find(|f| f.binary == "authorizer")
        .expect("authorizer");
    let statements: Vec<&Value> = authorizer
        .statements()
        .into_iter()
        .filter(|s| !dynamodb_actions(s).is_empty())
        .collect();
    assert_eq!(statements.len(), 1, "one DynamoDB statement");
    assert_reads_only_sessions(statements[0], &records, "authorizer");
}

/// `$connect` checks the token's login as the authorizer does: its read of `USER#` items is
/// narrowed to the session's attributes the same way.
#[test]
fn ws_connect_reads_sessions_and_no_password_hash() {
    let template = template();
    let records = records_table(&template);
    let functions = functions(&template);
    let connect = functions
        .iter()
        .find(|f| f.binary == "ws-connect")
        .expect("ws-connect");
    let user_reads: Vec<&Value> = connect
        .statements()
        .into_iter()
        .filter(|s| leading_keys(s).contains("USER#*"))
        .collect();
    assert_eq!(user_reads.len(), 1, "one statement reaches USER# items");
    assert_reads_only_sessions(user_reads[0], &records, "ws-connect");
}

/// The statement allows only a `GetItem` of `USER#` items that projects exactly the session's
/// attributes (`SESSION_ATTRIBUTES`, what the adapter asks for), so no password or code hash
/// of the account item in the same partition can be read.
fn assert_reads_only_sessions(statement: &Value, records: &str, who: &str) {
    assert_eq!(dynamodb_actions(statement), ["dynamodb:GetItem"], "{who}");
    assert_eq!(
        statement_tables(statement),
        [Some(records.to_string())],
        "{who}"
    );
    assert_eq!(
        leading_keys(statement),
        BTreeSet::from(["USER#*".to_string()]),
        "{who}"
    );
    let attributes: BTreeSet<&str> = items(get(
        statement,
        &[
            "Condition",
            "ForAllValues:StringEquals",
            "dynamodb:Attributes",
        ],
    ))
    .into_iter()
    .filter_map(Value::as_str)
    .collect();
    let read: BTreeSet<&str> = festa::adapters::dynamodb::SESSION_ATTRIBUTES
        .into_iter()
        .collect();
    assert_eq!(
        attributes, read,
        "{who}: the policy allows what the adapter projects"
    );
    for key in ["pk", "sk"] {
        assert!(
            attributes.contains(key),
            "{who}: DynamoDB wants the key attributes listed"
        );
    }
    for attribute in &attributes {
        let lower = attribute.to_ascii_lowercase();
        assert!(
            !lower.contains("password") && !lower.contains("code"),
            "{who} may read {attribute}"
        );
    }
    // Without it, a GetItem with no projection (Select ALL_ATTRIBUTES) would be allowed too.
    assert_eq!(
        str_at(
            statement,
            &["Condition", "StringEqualsIfExists", "dynamodb:Select"]
        ),
        Some("SPECIFIC_ATTRIBUTES"),
        "{who}"
    );
}

/// The `dynamodb:LeadingKeys` a function's statements allowing `action` are limited to (empty
/// when some such statement has no such condition: any partition).
fn leading_keys_of(f: &Function<'_>, action: &str) -> Option<BTreeSet<String>> {
    let mut keys = BTreeSet::new();
    for statement in f.statements() {
        let actions: Vec<&str> = items(get(statement, &["Action"]))
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        if str_at(statement, &["Effect"]) != Some("Allow") || !actions.contains(&action) {
            continue;
        }
        let limited = get(
            statement,
            &[
                "Condition",
                "ForAllValues:StringLike",
                "dynamodb:LeadingKeys",
            ],
        )?;
        keys.extend(
            items(Some(limited))
                .into_iter()
                .filter_map(Value::as_str)
                .map(String::from),
        );
    }
    Some(keys)
}

/// Each account function writes only the user partitions and the abuse counters it keeps:
/// the mail counters for the three routes that mail codes, the failed-login counter for login
/// and the password reset (which clears it), and nothing of anyone else's.
#[test]
fn account_functions_write_only_their_partitions_and_counters() {
    let template = template();
    let expected: &[(&str, &[&str])] = &[
        ("signup", &["USER#*", "MAILTO#*", "MAILHOUR#*"]),
        ("resend-confirmation", &["USER#*", "MAILTO#*", "MAILHOUR#*"]),
        ("forgot-password", &["USER#*", "MAILTO#*", "MAILHOUR#*"]),
        ("confirm-signup", &["USER#*"]),
        ("confirm-forgot-password", &["USER#*", "LOGINFAIL#*"]),
        ("login", &["USER#*", "LOGINFAIL#*"]),
        ("refresh-token", &["USER#*"]),
    ];
    let functions = functions(&template);
    for (binary, keys) in expected {
        let f = functions
            .iter()
            .find(|f| f.binary == *binary)
            .unwrap_or_else(|| panic!("no function runs {binary}"));
        for action in [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ] {
            let allowed = leading_keys_of(f, action)
                .unwrap_or_else(|| panic!("{binary} may {action} on any partition"));
            let want: BTreeSet<String> = keys.iter().map(|k| k.to_string()).collect();
            assert_eq!(allowed, want, "{binary}: {action}");
        }
    }
}

/// The mail caps are deployed: the three routes that mail codes get `MAIL_HOURLY_LIMIT` from
/// the `MailHourlyLimit` parameter, and no other function may send mail at all.
#[test]
fn the_mailing_functions_get_the_hourly_mail_cap_and_only_they_send_mail() {
    let template = template();
    let parameter =
        get(&template, &["Parameters", "MailHourlyLimit"]).expect("a MailHourlyLimit parameter");
    assert_eq!(str_at(parameter, &["Type"]), Some("Number"));
    let mailers = ["signup", "resend-confirmation", "forgot-password"];
    for f in functions(&template) {
        let sends = !f.resources_allowed("ses:SendEmail").is_empty();
        let cap = get(
            f.properties,
            &["Environment", "Variables", "MAIL_HOURLY_LIMIT"],
        );
        if mailers.contains(&f.binary.as_str()) {
            assert!(sends, "{} cannot send mail", f.binary);
            assert_eq!(
                cap.and_then(ref_of),
                Some("MailHourlyLimit"),
                "{} lacks MAIL_HOURLY_LIMIT",
                f.binary
            );
        } else {
            assert!(!sends, "{} may send mail", f.binary);
            assert!(cap.is_none(), "{} gets MAIL_HOURLY_LIMIT", f.binary);
        }
    }
}
