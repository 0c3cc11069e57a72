//! docs/aws.md against deploy/sam/template.yaml: the function the page invokes is the one the
//! template deploys, and its example events name only repositories that function knows.

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
