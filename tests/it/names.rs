//! The platform's names in every plan (issue 11, section 1): each destination with its
//! dataflow's name and each segment with its name from the dataflow's segment selectors (or the
//! Segmentation API when a selector has none), next to the plan's labels; a label that disagrees is a warning `aepact::label_mismatch` on the
//! label's line, a refusal with `--strict-labels`; the markdown comment leads with a table by
//! name. Against the emulator's demo world on 127.0.0.1.

use std::time::Duration;

use aepact::emulator::EmulatorBuilder;
use serde_json::Value;

use crate::apply::{Online, PLAN, settings};
use crate::common::repo_root;
use crate::emulator::{EMAIL, SILVER};

const CODE: &str = "aepact::label_mismatch";

/// The example with the silver segment labelled as another audience, and the gold one
/// labelled in other case and spacing (which agrees).
fn mislabelled() -> Online {
    let o = Online::new();
    o.edit_plan(
        "        name: Loyalty silver",
        "        name: Loyalty platinum",
    );
    o.edit_plan(
        "        name: Loyalty gold",
        "        name: \" loyalty  GOLD\"",
    );
    o
}

/// The 1-based line of the first line of the plan holding `text`.
fn line_of(o: &Online, text: &str) -> usize {
    let plan = std::fs::read_to_string(o.env.path().join(PLAN)).unwrap();
    1 + plan.lines().position(|l| l.contains(text)).unwrap()
}

fn warning_message() -> String {
    format!(
        "segment `{SILVER}` to `{EMAIL}` is labelled `Loyalty platinum`, the platform calls it `Loyalty silver`"
    )
}

#[test]
fn plan_shows_each_destination_and_segment_by_the_platforms_name() {
    let o = Online::new();
    let json = o.run(&["plan", "--format", "json", PLAN]).json();
    let dest = &json["plans"][0]["destinations"][0];
    assert_eq!(dest["platformName"], "Email vendor (SFTP)");
    assert_eq!(dest["label"], "Email vendor (SFTP)");
    let names: Vec<(&str, &str)> = dest["segmentNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["platformName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("db8961e9-d52f-45bc-b3fb-76d0382a6851", "Loyalty gold"),
            (SILVER, "Loyalty silver")
        ]
    );
    // A bare ID in the plan has no label; the platform still names it.
    let bare = &json["plans"][0]["destinations"][1]["segmentNames"][0];
    assert_eq!(bare["label"], Value::Null);
    assert_eq!(bare["platformName"], "Loyalty gold");
    assert!(json["plans"][0].get("warnings").is_none(), "labels agree");

    let human = o.run(&["plan", PLAN]);
    assert_eq!(human.status, 0, "{human}");
    assert!(
        human
            .stdout
            .contains(&format!("              {SILVER} \"Loyalty silver\"\n")),
        "{human}"
    );
    assert!(!human.stdout.contains("warning"), "{human}");
}

#[test]
fn a_label_the_platform_names_otherwise_is_a_warning_on_its_line() {
    let o = mislabelled();
    let human = o.run(&["plan", PLAN]);
    assert_eq!(human.status, 0, "a warning does not stop the plan: {human}");
    assert!(
        human.stdout.contains(&format!(
            "{SILVER} \"Loyalty silver\" (labelled \"Loyalty platinum\")"
        )),
        "{human}"
    );
    assert!(
        human
            .stdout
            .contains(&format!("  warning: {}\n    help: ", warning_message())),
        "{human}"
    );
    assert!(
        !human.stdout.contains("labelled \" loyalty"),
        "case and spacing do not count: {human}"
    );

    let json = o.run(&["plan", "--format", "json", PLAN]).json();
    let warnings = json["plans"][0]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], CODE);
    assert_eq!(warnings[0]["message"], warning_message().as_str());
    assert_eq!(json["plans"][0]["verdict"]["action"], "apply");

    let github = o.run(&["plan", "--format", "github", PLAN]);
    assert_eq!(github.status, 0, "{github}");
    let line = line_of(&o, "name: Loyalty platinum");
    assert!(
        github.stdout.contains(&format!(
            "::warning file={PLAN},line={line},title=aepact%3A%3Alabel_mismatch::plan `black-friday-flash-sale`: {}%0Ahelp: ",
            warning_message()
        )),
        "on the label's line ({line}): {github}"
    );

    let markdown = o.run(&["plan", "--format", "markdown", PLAN]);
    assert!(
        markdown
            .stdout
            .contains("**Loyalty silver** (labelled “Loyalty platinum”)"),
        "{markdown}"
    );
    assert!(
        markdown.stdout.contains(&format!(
            "> **warning** `black-friday-flash-sale`: {}",
            warning_message()
        )),
        "{markdown}"
    );

    // Without `--strict-labels`, apply sends.
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    assert_eq!(o.posts(), 1);
}

#[test]
fn a_destination_label_is_checked_too() {
    let o = Online::new();
    o.edit_plan(
        "    name: Email vendor (SFTP)",
        "    name: Email vendor (S3)",
    );
    let github = o.run(&["plan", "--format", "github", PLAN]);
    let line = line_of(&o, "name: Email vendor (S3)");
    assert!(
        github.stdout.contains(&format!(
            "::warning file={PLAN},line={line},title=aepact%3A%3Alabel_mismatch::plan `black-friday-flash-sale`: destination `{EMAIL}` is labelled `Email vendor (S3)`, the platform calls it `Email vendor (SFTP)`"
        )),
        "{github}"
    );
}

#[test]
fn strict_labels_refuses_the_plan_in_plan_and_apply() {
    let o = mislabelled();
    let plan = o.run(&["plan", "--strict-labels", "--format", "json", PLAN]);
    assert_eq!(plan.status, 1, "{plan}");
    let json = plan.json();
    assert_eq!(json["plans"][0]["verdict"]["action"], "refused");
    assert_eq!(json["plans"][0]["verdict"]["reasons"][0]["code"], CODE);
    assert_eq!(
        json["plans"][0]["verdict"]["reasons"][0]["temporary"],
        false
    );
    assert!(json["plans"][0].get("warnings").is_none());

    let github = o.run(&["plan", "--strict-labels", "--format", "github", PLAN]);
    assert_eq!(github.status, 1, "{github}");
    let line = line_of(&o, "name: Loyalty platinum");
    assert!(
        github.stdout.contains(&format!(
            "::error file={PLAN},line={line},title=aepact plan refused::"
        )),
        "{github}"
    );

    let apply = o.run(&["apply", "--strict-labels", "--auto-approve", PLAN]);
    assert_eq!(apply.status, 1, "{apply}");
    assert!(
        format!("{}{}", apply.stdout, apply.stderr).contains(&warning_message()),
        "{apply}"
    );
    assert_eq!(o.posts(), 0, "nothing is sent");
}

/// The head of the PR comment, the table a marketer reads, pinned: names, labels that
/// disagree, the export job's age, the last delivery of each pair, the verdict.
#[test]
fn markdown_comment_leads_with_a_table_by_name() {
    let o = Online::new();
    assert_eq!(o.run(&["apply", "--auto-approve", PLAN]).status, 0);
    o.edit_plan(
        "        name: Loyalty silver",
        "        name: Loyalty platinum",
    );
    o.edit_plan("run: 1", "run: 2");
    let out = o.run(&["plan", "--format", "markdown", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    let head = &out.stdout[..out.stdout.find("<details>").expect("bodies are collapsed")];
    settings().bind(|| insta::assert_snapshot!(head));
    assert!(out.stdout.contains("```json\n"), "{out}");
}

/// A comment whose table alone is over GitHub's limit keeps under it and says what it left out.
#[test]
fn markdown_table_rows_past_the_budget_are_left_out_with_a_note() {
    use aepact::planner::model::{DestinationInfo, PlanSet, SegmentInfo};
    let o = Online::new();
    let mut set: PlanSet =
        serde_json::from_value(o.run(&["plan", "--format", "json", PLAN]).json()).unwrap();
    let plan = set.plans[0].clone();
    let destination = |d: usize| DestinationInfo {
        id: format!("{d:08}-0000-4000-8000-000000000000"),
        label: Some(format!("Partner {d}")),
        platform_name: Some(format!("Partner {d} (SFTP)")),
        segments: 20,
        segment_names: (0..20)
            .map(|s| SegmentInfo {
                id: format!("{s:08}-0000-4000-8000-{d:012}"),
                label: None,
                platform_name: Some(format!("An audience with a long name, number {s}")),
            })
            .collect(),
    };
    set.plans = (0..100)
        .map(|i| {
            let mut p = plan.clone();
            p.name = format!("plan-{i}");
            p.destinations = (0..10).map(destination).collect();
            p
        })
        .collect();
    let text = aepact::output::plan::markdown(&set);
    assert!(
        text.len() <= aepact::output::plan::MARKDOWN_BUDGET,
        "{}",
        text.len()
    );
    assert!(
        text.contains("of the table left out to stay under GitHub's comment size"),
        "{}",
        &text[text.len() - 500..]
    );
    assert!(text.contains("| `plan-0` |"));
}

/// Names come from whoever named things on the platform: in the comment they are text, never
/// markdown or HTML (a `<!--` in a name would hide the rest of the comment).
#[test]
fn markdown_table_shows_names_as_text_not_markup() {
    use aepact::planner::model::PlanSet;
    let o = Online::new();
    let mut set: PlanSet =
        serde_json::from_value(o.run(&["plan", "--format", "json", PLAN]).json()).unwrap();
    let d = &mut set.plans[0].destinations[0];
    d.platform_name = Some("Vendor <!-- *x* | `y`".to_owned());
    d.segment_names[0].platform_name = Some("<b>Gold</b> [link](http://x)".to_owned());
    let text = aepact::output::plan::markdown(&set);
    assert!(
        text.contains("**Vendor \\<!-- \\*x\\* \\| \\`y\\`**"),
        "{text}"
    );
    assert!(
        text.contains("**\\<b\\>Gold\\</b\\> \\[link\\](http://x)**"),
        "{text}"
    );
    assert!(!text.contains("<!-- *x*"), "{text}");
}

/// Export job IDs named in the plan show how old the data is, as `latest` does.
#[test]
fn markdown_table_gives_the_age_of_named_export_jobs() {
    let o = Online::new();
    o.edit_plan("exports: latest", "exports: [11044]");
    let out = o.run(&["plan", "--format", "markdown", PLAN]);
    assert_eq!(out.status, 0, "{out}");
    assert!(
        out.stdout.contains("| `11044`, finished 25 hours ago |"),
        "{out}"
    );
}

/// The demo world with `from` replaced by `to` in its seed.
fn seeded(from: &str, to: &str) -> Online {
    let demo = std::fs::read_to_string(repo_root().join("src/emulator/demo-world.yaml")).unwrap();
    assert!(demo.contains(from), "the demo world has {from:?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.yaml");
    std::fs::write(&path, demo.replacen(from, to, 1)).unwrap();
    Online::with(
        EmulatorBuilder::new()
            .run_duration(Duration::ZERO)
            .seed_file(&path)
            .unwrap(),
    )
}

#[test]
fn a_platform_name_with_a_newline_stays_on_its_line() {
    let o = seeded(
        "        name: Email vendor (SFTP)",
        "        name: \"Email vendor\\nSFTP: all clear\"",
    );
    let human = o.run(&["plan", PLAN]);
    assert!(
        human
            .stdout
            .contains("\"Email vendor\\u{a}SFTP: all clear\""),
        "{human}"
    );
    assert!(
        !human
            .stdout
            .lines()
            .any(|l| l.starts_with("SFTP: all clear")),
        "{human}"
    );
    let json = o.run(&["plan", "--format", "json", PLAN]).json();
    assert_eq!(
        json["plans"][0]["destinations"][0]["platformName"],
        "Email vendor\\u{a}SFTP: all clear"
    );
}

/// The demo world with the silver segment's selector in the email dataflow left without a name
/// (a seed selector with `named: false`): only the Segmentation API names it.
fn unnamed_selector() -> Online {
    let selector = format!("          - {{ id: {SILVER}, startDate: today-120 }}");
    seeded(
        &selector,
        &format!("          - {{ id: {SILVER}, startDate: today-120, named: false }}"),
    )
}

#[test]
fn a_selector_without_a_name_is_named_by_the_segmentation_api() {
    let o = unnamed_selector();
    let flow = o
        .api
        .get(&format!("/data/foundation/flowservice/flows/{EMAIL}"))
        .json();
    let selectors =
        flow["items"][0]["transformations"][0]["params"]["segmentSelectors"]["selectors"]
            .as_array()
            .unwrap();
    let silver = selectors
        .iter()
        .find(|s| s["value"]["id"] == SILVER)
        .unwrap();
    assert_eq!(silver["value"].get("name"), None, "{silver}");

    o.edit_plan(
        "        name: Loyalty silver",
        "        name: Loyalty platinum",
    );
    let json = o.run(&["plan", "--format", "json", PLAN]).json();
    let names = &json["plans"][0]["destinations"][0]["segmentNames"];
    assert_eq!(names[1]["id"], SILVER);
    assert_eq!(names[1]["platformName"], "Loyalty silver", "{names}");
    assert_eq!(json["plans"][0]["warnings"][0]["code"], CODE);
    assert_eq!(
        json["plans"][0]["warnings"][0]["message"],
        warning_message()
    );
    // One definition read, for the one unnamed (sandbox, segment), however often it appears.
    let reads = o.requests("segments.get");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(
        reads[0]["path"],
        format!("/data/core/ups/segment/definitions/{SILVER}")
    );
}

#[test]
fn named_selectors_need_no_segmentation_api_call() {
    let o = Online::new();
    assert_eq!(o.run(&["plan", PLAN]).status, 0);
    assert_eq!(o.requests("segments.get"), Vec::<Value>::new());
}

#[test]
fn the_emulator_serves_segment_definitions_and_a_404_for_others() {
    let o = Online::new();
    let def = o
        .api
        .get(&format!("/data/core/ups/segment/definitions/{SILVER}"))
        .json();
    assert_eq!(def["id"], SILVER);
    assert_eq!(def["name"], "Loyalty silver");
    assert_eq!(def["expression"]["type"], "PQL");
    let missing = o
        .api
        .get("/data/core/ups/segment/definitions/00000000-0000-4000-8000-000000000000");
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(missing.json()["status"], 404);
}
