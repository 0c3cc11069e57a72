//! docs/aws.md against deploy/sam/template.yaml: the function the page invokes is the one the
//! template deploys, and its example events name only repositories that function knows; the
//! secret stores' IAM actions are the same in the code, deploy/iam, the template and the page.

fn read(rel: &str) -> String {
    std::fs::read_to_string(testkit::workspace_root().join(rel)).unwrap()
}

/// The `Default:` of the template parameter `name`.
fn parameter_default(template: &str, name: &str) -> Option<String> {
    let mut lines = template
        .lines()
        .skip_while(|l| *l != "Parameters:")
        .skip_while(|l| *l != format!("  {name}:"))
        .skip(1);
    lines
        .by_ref()
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| l.trim().strip_prefix("Default: "))
        .map(|v| v.trim_matches('"').to_string())
}

/// The JSON objects of the page's ```json blocks (an object member is wrapped in braces).
fn json_examples(doc: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in doc.lines() {
        match &mut block {
            None if line.trim() == "```json" => block = Some(String::new()),
            Some(b) if line.trim() == "```" => {
                // A Step Functions state is shown as a `"Name": {...}` member: wrap it.
                if let Ok(v) =
                    serde_json::from_str(b).or_else(|_| serde_json::from_str(&format!("{{{b}}}")))
                {
                    out.push(v);
                }
                block = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn the_function_the_page_invokes_is_the_one_the_template_names() {
    let doc = read("docs/aws.md");
    let template = read("deploy/sam/template.yaml");
    let name = parameter_default(&template, "FunctionName").expect("FunctionName parameter");
    assert!(
        template.contains("      FunctionName: !Ref FunctionName\n"),
        "the function does not take its name from the parameter"
    );
    assert!(
        template.contains("Value: !Ref ArtokenFunction"),
        "no output gives the function's name"
    );
    let invoked: Vec<&str> = doc
        .split("--function-name ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
        .collect();
    assert!(!invoked.is_empty(), "docs/aws.md invokes no function");
    for n in invoked {
        assert_eq!(
            n, name,
            "docs/aws.md invokes {n}, the template deploys {name}"
        );
    }
    for arn in doc.split(":function:").skip(1) {
        let n: String = arn
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
            .collect();
        assert_eq!(n, name, "docs/aws.md names function {n} in an ARN");
    }
}

#[test]
fn example_events_name_only_the_templates_repository() {
    let doc = read("docs/aws.md");
    let template = read("deploy/sam/template.yaml");
    // The template's function is configured by ARTOKEN_* variables: one repository, `default`.
    assert!(template.contains("ARTOKEN_REPOSITORY: !Ref Repository"));
    assert!(!template.contains("ARTOKEN_CONFIG"));
    let examples = json_examples(&doc);
    assert!(
        examples.len() >= 2,
        "expected example events in docs/aws.md"
    );
    let mut events = 0;
    let mut state_payloads = 0;
    for v in &examples {
        let payload = v.pointer("/StartEtl/Parameters/Payload");
        state_payloads += usize::from(payload.is_some());
        let event = payload.or(Some(v)).filter(|e| e.get("action").is_some());
        let Some(event) = event else { continue };
        events += 1;
        if let Some(r) = event.get("repository") {
            assert_eq!(
                r, "default",
                "example event {event} names a repository the template's function does not know"
            );
        }
    }
    assert!(
        events >= 2,
        "expected the Glue event and the Step Functions payload, found {events}"
    );
    assert_eq!(state_payloads, 1, "the Step Functions example was not read");
}

#[test]
fn the_checks_catch_a_wrong_name_or_repository() {
    let template = "Parameters:\n  FunctionName:\n    Type: String\n    Default: artoken\n  Other:\n    Default: x\n";
    assert_eq!(
        parameter_default(template, "FunctionName").as_deref(),
        Some("artoken")
    );
    assert_eq!(parameter_default(template, "Missing"), None);
    let doc = "```json\n{\"action\": \"refresh\", \"repository\": \"corp\"}\n```\n";
    assert_eq!(json_examples(doc)[0]["repository"], "corp");
}

/// The AWS operations `src` (artoken-aws's module for one service) calls on its `client`:
/// `client.put_secret_value()` is `PutSecretValue`.
fn operations_called(src: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for (i, _) in src.match_indices("client") {
        let rest = src[i + "client".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let op: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        if op.is_empty() || !rest[op.len()..].starts_with("()") {
            continue;
        }
        let pascal = op
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect::<String>();
        out.insert(pascal);
    }
    out
}

#[test]
fn the_secret_store_permissions_are_what_the_code_calls_everywhere_they_are_listed() {
    let policy: serde_json::Value =
        serde_json::from_str(&read("deploy/iam/secret-stores.json")).unwrap();
    let template = read("deploy/sam/template.yaml");
    let page = read("docs/aws.md");
    for (service, module, row) in [
        ("secretsmanager", "secrets", "| Secrets Manager |"),
        ("ssm", "ssm", "| SSM |"),
    ] {
        let called: std::collections::BTreeSet<String> =
            operations_called(&read(&format!("crates/artoken-aws/src/{module}.rs")))
                .into_iter()
                .map(|op| format!("{service}:{op}"))
                .collect();
        assert!(called.len() >= 3, "{service}: found only {called:?}");
        let granted: std::collections::BTreeSet<String> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .filter(|a| a.starts_with(&format!("{service}:")))
            .collect();
        assert_eq!(granted, called, "deploy/iam/secret-stores.json vs the code");
        let row = page
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("docs/aws.md has no {row} row"));
        let listed: std::collections::BTreeSet<String> = row
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|a| a.starts_with(&format!("{service}:")))
            .map(str::to_string)
            .collect();
        assert_eq!(listed, called, "docs/aws.md vs the code");
        for action in &called {
            assert!(
                template.contains(&format!("                  - {action}\n")),
                "deploy/sam/template.yaml lacks {action}"
            );
        }
    }
}

#[test]
fn operations_are_read_from_calls_on_the_client() {
    let src = "let r = client\n        .get_secret_value()\n; client.describe_secret().x(); read(client, id); client.config();";
    let ops: Vec<String> = operations_called(src).into_iter().collect();
    assert_eq!(ops, ["Config", "DescribeSecret", "GetSecretValue"]);
}
